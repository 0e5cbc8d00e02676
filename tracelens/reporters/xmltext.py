"""Reporters: text from a log made fit for XML 1.0, every character it forbids shown as a visible escape."""

from __future__ import annotations

import re

# NOTE: XML 1.0 allows only TAB, LF, CR, U+0020-U+D7FF, U+E000-U+FFFD and U+10000 and above
# (https://www.w3.org/TR/xml/#charsets). A log line can hold any of the others: C0 controls, lone
# surrogates (a file name decoded with surrogateescape), U+FFFE and U+FFFF. lxml refuses them and the
# standard library writes them into a document no reader parses, so they become the same \xNN / \uNNNN
# escapes the terminal reports show. CR and the C1 controls are allowed but escaped all the same, as
# the terminal reports do: a reader must see that the log held them, not have them normalised away.
_NOT_XML = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def xml_text(text: str) -> str:
    """``text`` with every character XML 1.0 forbids (and CR, DEL, the C1 controls) as ``\\xNN``/``\\uNNNN``."""
    return _NOT_XML.sub(_escape, text)
