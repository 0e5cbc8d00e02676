"""Requests stage: the session identifier, ``cacheID + sessionID + (separator + cloneID)*``.

``JSESSIONID=0001IWuUT_zhR-gFYB-pOAk75Q5:v544d031:v544d0o0``: cache ID ``0001`` (4 characters,
changes mid-session without meaning anything), session ID ``IWuUT_zhR-gFYB-pOAk75Q5``, then the clone
IDs of the members that served the session, in order; a failover member appends its own (facts §4.3).
The separator is ``:``, or ``+`` with ``CloneSeparatorChange``.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

CACHE_ID_LENGTH = 4
# TN-V4: the session part is 23 characters; Liberty and custom generators differ, so only an
# implausibly short one is called malformed
MIN_SESSION_LENGTH = 8
_SESSION_CHARS = re.compile(r"^[A-Za-z0-9_\-.!*~$]+$")


class CookieOutcome(str, enum.Enum):
    """What the member's ``Set-Cookie`` did to the session the request carried."""

    NONE = "none"  # no affinity cookie in the response
    SAME_SESSION = "same_session"  # same session ID and clone list (a cache ID change is not a change)
    CLONE_APPENDED = "clone_appended"  # same session ID, the serving member's clone ID added: failover kept it
    NEW_SESSION = "new_session"  # a session ID the request did not carry


@dataclass(frozen=True, slots=True)
class SessionCookie:
    raw: str
    cache_id: str
    session_id: str
    clone_ids: tuple[str, ...]
    malformed: str | None  # why the value cannot be a WebSphere session identifier, if it cannot

    @property
    def valid(self) -> bool:
        return self.malformed is None


def parse_session_cookie(raw: str, separator: str = ":") -> SessionCookie:
    """Split a session identifier; never raises: a bad value comes back with ``malformed`` set."""
    value = raw.strip().strip('"')
    head, _, tail = value.partition(separator)
    clones = tuple(tail.split(separator)) if tail else ()
    cache_id, session_id = head[:CACHE_ID_LENGTH], head[CACHE_ID_LENGTH:]
    problem: str | None = None
    if not value:
        problem = "empty value"
    elif len(session_id) < MIN_SESSION_LENGTH:
        problem = f"too short for a cache ID and a session ID ({len(head)} characters before the first clone ID)"
    elif not _SESSION_CHARS.match(head):
        problem = "characters that a session ID does not contain"
    elif any(not c for c in clones) or (tail == "" and separator in value):
        problem = f"an empty clone ID (two separators '{separator}' in a row, or one at the end)"
    elif any(not _SESSION_CHARS.match(c) for c in clones):
        problem = "characters that a clone ID does not contain"
    return SessionCookie(raw=raw, cache_id=cache_id, session_id=session_id, clone_ids=clones, malformed=problem)


def cookie_outcome(sent: SessionCookie | None, received: SessionCookie | None) -> CookieOutcome:
    if received is None:
        return CookieOutcome.NONE
    if sent is None or not sent.valid or sent.session_id != received.session_id:
        return CookieOutcome.NEW_SESSION
    if any(c not in sent.clone_ids for c in received.clone_ids):
        return CookieOutcome.CLONE_APPENDED
    return CookieOutcome.SAME_SESSION


def session_from_uri(uri: str, identifier: str = "jsessionid") -> str | None:
    """The ``;jsessionid=...`` path parameter of a rewritten URL, if any."""
    match = re.search(rf";{re.escape(identifier)}=([^;?#/]+)", uri, flags=re.IGNORECASE)
    return match.group(1) if match else None
