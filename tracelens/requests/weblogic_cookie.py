"""Requests stage: WebLogic's session cookie, ``<session id>!<primary JVMID>[!<secondary JVMID>][!<creation time>]``.

Facts §3: with a secondary the value has four ``!``-separated tokens; without one (a one-server cluster, or
after a failover in a two-server cluster) three, the last a 13-digit creation time in epoch milliseconds;
older and URL-rewritten forms carry only ``<session id>!<primary JVMID>``. JVMIDs are signed 32-bit-looking
integers (``-2032354160``), new at every server restart. So a three-token value whose last token is 13
digits is primary + creation time, and any other three-token value is primary + secondary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

_JVMID = re.compile(r"^-?[0-9]{1,11}$")
_CREATED = re.compile(r"^[0-9]{13}$")
_SESSION = re.compile(r"^[A-Za-z0-9_\-.*~$/+=]+$")
#: [U] some captures write a missing secondary as ``NONE``: read as no secondary, never required
_NO_SECONDARY = "NONE"


@dataclass(frozen=True, slots=True)
class WlCookie:
    """A decoded session cookie value; ``malformed`` says why a value cannot be WebLogic's, if it cannot."""

    raw: str
    session_id: str
    primary: str | None
    secondary: str | None
    created_ms: int | None  # epoch milliseconds, as the cookie carries it
    malformed: str | None

    @property
    def valid(self) -> bool:
        return self.malformed is None

    @property
    def created(self) -> datetime | None:
        """The session's creation time (UTC, without a time zone, as the log's own times are naive)."""
        if self.created_ms is None:
            return None
        return datetime.fromtimestamp(self.created_ms / 1000, tz=UTC).replace(tzinfo=None)

    @property
    def jvmids(self) -> tuple[str, ...]:
        return tuple(j for j in (self.primary, self.secondary) if j is not None)


def parse_wl_cookie(raw: str) -> WlCookie:
    """Decode a WebLogic session cookie value; never raises: a bad value comes back with ``malformed`` set."""
    value = raw.strip().strip('"')
    tokens = value.split("!")
    session, rest = tokens[0], tokens[1:]
    created: int | None = None
    if rest and _CREATED.match(rest[-1]) and len(rest) >= 2:
        created = int(rest.pop())
    primary = rest[0] if rest else None
    secondary = rest[1] if len(rest) > 1 else None
    if secondary == _NO_SECONDARY:
        secondary = None
    problem: str | None = None
    if not session:
        problem = "no session ID before the first '!'"
    elif not _SESSION.match(session):
        problem = "characters that a session ID does not contain"
    elif len(rest) > 2:
        problem = f"{len(tokens)} '!'-separated tokens: more than a session ID, two JVMIDs and a creation time"
    elif primary is None:
        problem = "no JVMID after the session ID"
    elif any(j is not None and not _JVMID.match(j) for j in (primary, secondary)):
        problem = "a JVMID that is not a number"
    return WlCookie(raw, session, primary, secondary, created, problem)


def looks_like_session(value: str) -> bool:
    """Whether a cookie value has the shape of a WebLogic session cookie (what another name may carry)."""
    return parse_wl_cookie(value).valid


def cookie_pairs(header: str) -> list[tuple[str, str]]:
    """The ``name=value`` pairs of a ``Cookie`` header, in order."""
    pairs = []
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name:
            pairs.append((name, value))
    return pairs
