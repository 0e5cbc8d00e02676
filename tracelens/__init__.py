"""tracelens: where WebSphere plug-in session affinity failed, and why.

The Python API::

    import tracelens
    report = tracelens.analyze(["http_plugin.log"], config="plugin-cfg.xml")
    report.findings            # list of Finding
    report.requests_frame()    # pandas DataFrame, one row per request
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from tracelens.api import analyze as analyze

__all__ = ["__version__", "analyze"]


def __getattr__(name: str) -> Any:
    # the API is imported on first use, so that `import tracelens` (and the CLI's start) stays light
    if name == "analyze":
        from tracelens.api import analyze

        return analyze
    raise AttributeError(f"module 'tracelens' has no attribute {name!r}")
