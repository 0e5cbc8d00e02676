"""Reporters: JSON text that shows on one line and in its order, whatever the log's strings hold."""

from __future__ import annotations

import re

# inside a JSON string these are valid as they are, yet a terminal or an editor showing the JSON breaks
# the line at them or reorders it; JSON's own escape keeps the value and the line
_JSON_UNSAFE = re.compile(r"[\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def json_text(text: str) -> str:
    """JSON text (``json.dumps(..., ensure_ascii=False)``) with line separators and bidirectional
    controls written as ``\\uNNNN`` escapes: the same JSON value, shown on one line in its order."""
    if _JSON_UNSAFE.search(text) is None:
        return text
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
