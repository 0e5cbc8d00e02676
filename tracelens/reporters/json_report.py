"""Reporter: the analysis as one JSON object (``schema_version`` 1, documented in the README)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

from tracelens import __version__
from tracelens.report import SCHEMA_VERSION, Report
from tracelens.reporters.jsontext import json_text
from tracelens.reporters.shapes import (
    copies_list,
    finding_dict,
    interval_dict,
    process_keys,
    session_dict,
    weblogic_settings,
)


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t is not None else None


def report_dict(report: Report) -> dict[str, Any]:
    """The whole report as one object (what ``json.load`` gives back from :func:`write_json`)."""
    data = _head(report)
    for key, rows in _rows(report).items():
        data[key] = list(rows)
    return data


def _rows(report: Report) -> dict[str, Iterator[dict[str, Any]]]:
    """The lists that grow with the log, last in the object, as items made one at a time."""
    histories = {h.session_id: h for h in report.weblogic.histories} if report.weblogic else {}
    return {"sessions": ({**session_dict(s), "copies": copies_list(histories.get(s.session_id))}
                         for s in report.sessions),
            "findings": (finding_dict(f) for f in report.findings)}


def _head(report: Report) -> dict[str, Any]:
    """Everything but :func:`_rows`: a size that does not grow with the log."""
    acc = report.accounting
    partial = sum(1 for r in report.requests if r.partial)
    topo = report.topology
    log_set = report.log_set
    spans = {f.path: (f.first, f.last) for f in log_set.files} if log_set else {}
    processes: dict[str, list[dict[str, Any]]] = {}
    for (pid, member), rec in sorted(report.tracker.members.items()):
        processes.setdefault(pid, []).append({
            "name": member,
            "state_at_end": rec.state.value,
            "requests_served": rec.requests_served,
            "down_intervals": [interval_dict(iv) for iv in rec.intervals],
        })
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "tracelens", "version": __version__},
        "system": report.system,
        "inputs": [
            {"path": path, "web_server": log_set.web_server_of(path) if log_set else None,
             "system": report.systems.get(path, report.systems.get("-", "websphere")),
             "first": _iso(spans.get(path, (None, None))[0]), "last": _iso(spans.get(path, (None, None))[1]),
             "lines": report.stats.lines_by_file.get(path, 0),
             "records": report.summary.records_by_file.get(path, 0),
             "unparsed": report.summary.unparsed_by_file.get(path, 0)}
            for path in report.stats.files
        ],
        "input_order": {
            "order": log_set.order.value if log_set else "as-given",
            "reordered": log_set.reordered if log_set else False,
            "given": list(log_set.given) if log_set else list(report.stats.files),
            "web_servers": list(log_set.web_servers) if log_set and log_set.several else [],
            "duplicates": [{"path": d.path, "same_as": d.same_as, "how": d.how}
                           for d in (log_set.duplicates if log_set else ())],
        },
        "accounting": {
            "lines": acc.physical_lines, "blank": acc.blank_lines, "split": acc.split_records,
            "joined": acc.joined_lines, "records": acc.records, "typed": acc.typed, "message": acc.messages,
            "unparsed": acc.unparsed, "reconciles": acc.reconciles,
            "requests": len(report.requests), "requests_complete": len(report.requests) - partial,
            "requests_partial": partial,
        },
        "time_span": {
            "first": report.first_time.isoformat() if report.first_time else None,
            "last": report.last_time.isoformat() if report.last_time else None,
        },
        "summary": {
            "requests": len(report.requests),
            "partial_requests": partial,
            "sessions": len(report.sessions),
            "processes": len(report.processes),
            "verdicts": report.verdict_counts(),
            "findings": report.severity_counts(),
        },
        "topology": {
            "source": "config" if report.config else "trace",
            "config": report.config.path if report.config else None,
            "notes": list(topo.notes),
            "affinity_miss": report.settings.affinity_miss.value,
            "weblogic": weblogic_settings(report),
            "clusters": [
                {"name": c.name, "retry_interval": c.retry_interval,
                 "retry_interval_source": c.retry_interval_source.value,
                 "load_balance": c.load_balance.value, "primary": list(c.primary), "backup": list(c.backup)}
                for c in topo.clusters
            ],
        },
        "members": [
            {"name": m.name, "clone_id": m.clone_id, "cluster": m.cluster, "weight": m.weight, "source": m.source.value}
            for c in topo.clusters for m in c.members
        ],
        "processes": [{**process_keys(pid), "members": members} for pid, members in processes.items()],
    }


def write_json(report: Report, out: IO[str]) -> None:
    """The report, indented, with each session and finding on a line of its own.

    NOTE: ``json.dump`` with ``indent`` runs json's pure-Python encoder: on a million-line log it
    spent longer writing the sessions and findings than the replay took. Items of the long lists are
    written compactly by the C encoder, one per line, which also keeps the output greppable and
    diffable; ``json.load`` reads the same object. Those items are made as they are written, so that
    the output never holds a second copy of the sessions and findings in memory.
    """
    text = json_text(json.dumps(_head(report), ensure_ascii=False, indent=2))
    out.write(text[:-2])  # without the closing "\n}"
    for key, rows in _rows(report).items():
        out.write(f',\n  "{key}": [')
        written = 0
        for item in rows:
            out.write(("\n    " if written == 0 else ",\n    ") + json_text(json.dumps(item, ensure_ascii=False)))
            written += 1
        out.write("\n  ]" if written else "]")
    out.write("\n}\n")
