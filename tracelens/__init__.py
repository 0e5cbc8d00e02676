"""tracelens: where WebSphere plug-in session affinity failed, and why."""

from __future__ import annotations

__version__ = "0.1.0"
