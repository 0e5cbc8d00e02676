"""Findings stage: session cookie rules (TL3xx, ``cookie.*``): malformed and repeated cookies."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from tracelens.findings.base import Context, Finding, Rule, Severity
from tracelens.findings.rules._common import _first, _t
from tracelens.requests.assemble import Request


class CookieMalformed(Rule):
    """A session cookie whose value cannot be a WebSphere session identifier.

    What it finds:
    Affinity cookies (JSESSIONID or the configured AffinityCookie) whose value is empty, too short
    for a cache ID and a session ID, has characters a session ID never has, or an empty clone ID.

    Why it matters:
    The plug-in cannot take affinity from such a cookie: the request is load balanced and may land on
    a member without the session. Causes: a client or proxy that mangles cookies, another application
    using the same cookie name, a custom session ID generator.

    Example:
    `name='JSESSIONID', value='garbage'`.

    What to do:
    Find who sets the cookie (the Set-Cookie that created it, a proxy rule); give other applications a
    different cookie name or path.
    """

    code, name, severity = "TL301", "cookie.malformed", Severity.WARNING

    def check(self, ctx: Context) -> Iterator[Finding]:
        by_value: dict[str, list[Request]] = defaultdict(list)
        for r in ctx.requests:
            if r.cookie is not None and not r.cookie.valid:
                by_value[r.cookie.raw].append(r)
        for value, rs in by_value.items():
            r = rs[0]
            yield self.finding(
                f"session cookie value {value!r} is malformed ({r.cookie.malformed if r.cookie else ''}); "
                f"{len(rs)} request(s), first at {_t(r)} in process {r.pid}: load balanced",
                file=r.file, line=r.cookie_line or r.first_line, pid=r.pid,
                evidence=tuple(_first(x) for x in rs)[:50])


class CookieMultiple(Rule):
    """A request carried the session cookie more than once, with different values.

    What it finds:
    Requests whose `Cookie:` header holds two or more affinity cookies (e.g. two JSESSIONID) with
    different values. The plug-in uses one of them — the finding says which — and the application may
    read the other.

    Why it matters:
    Cookies with the same name but different paths or domains (two applications, an old cookie with a
    broader path) make affinity follow one session while the application uses another: users bounce
    between sessions.

    Example:
    `Cookie: JSESSIONID=0001AAAA...:v544d031; JSESSIONID=0001BBBB...:v544d0o0`.

    What to do:
    Give each application its own cookie name or a precise cookie path; clear stale cookies with a
    broader path or domain.
    """

    code, name, severity = "TL302", "cookie.multiple", Severity.WARNING

    def check(self, ctx: Context) -> Iterator[Finding]:
        for r in ctx.requests:
            values = list(dict.fromkeys(r.cookies_in_header))
            if len(values) < 2:
                continue
            used = r.cookie.raw if r.cookie else "none"
            at = r.cookie_header_line or r.first_line
            yield self.finding(
                f"request at {_t(r)} in process {r.pid} carried {len(values)} different session cookies "
                f"({', '.join(values)}); the plug-in used {used}", file=r.locate(at)[0], line=r.locate(at)[1],
                pid=r.pid, session=r.session_id,
                evidence=tuple(r.locate(x) for x in (r.cookie_header_line, r.cookie_line) if x is not None))
