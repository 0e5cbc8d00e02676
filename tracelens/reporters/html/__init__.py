"""Reporter: the analysis as one self-contained HTML file, for an incident ticket (``tracelens report``).

The page needs no network: the styles, the script and Plotly's library are inside it. Plotly's
library is 4.8 MB of JavaScript, nearly the whole of a 5 MB budget, so it travels gzipped and
base64-encoded (2 MB) and the page unpacks it with the browser's own ``DecompressionStream``.
"""

from __future__ import annotations

import base64
import gzip
import json
from functools import cache
from typing import Any, TextIO

import jinja2
import plotly.io
import plotly.offline

from tracelens.report import Report
from tracelens.reporters.html.evidence import line_texts
from tracelens.reporters.html.figures import figures
from tracelens.reporters.html.view import ReportView, build, wanted_lines

__all__ = ["render", "write_html"]

#: JSON inside a <script> element: no "</script>", "<!--" or "]]>" may appear in it
_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028",
                              "\u2029": "\\u2029"})


def script_json(value: Any) -> str:
    """``value`` as JSON that can stand inside a ``<script>`` element whatever text it holds."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).translate(_SCRIPT_SAFE)


@cache
def plotly_gzip_base64() -> str:
    """Plotly's library, gzipped (fixed mtime: the same bytes every run) and base64-encoded."""
    library = plotly.offline.get_plotlyjs().encode("utf-8")
    return base64.b64encode(gzip.compress(library, 9, mtime=0)).decode("ascii")


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("tracelens.reporters.html", "templates"),
        autoescape=True,  # every value is HTML-escaped unless the template marks it safe
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )


def render(view: ReportView) -> str:
    """The HTML page of ``view``."""
    figs = {key: json.loads(plotly.io.to_json(fig, validate=False)) for key, fig in figures(view).items()}
    template = _environment().get_template("report.html.j2")
    return template.render(
        view=view, figures_json=script_json(figs), plotly_library=plotly_gzip_base64(),
        plotly_version=plotly.offline.get_plotlyjs_version()
    )


def write_html(report: Report, out: TextIO) -> None:
    """Write the HTML report of ``report`` to ``out``, reading the evidence lines again from the logs."""
    paths = report.log_set.paths if report.log_set is not None else tuple(report.stats.files)
    view = build(report, line_texts(paths, wanted_lines(report)))
    out.write(render(view))
