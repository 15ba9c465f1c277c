"""Plain-text helpers shared by the domain and the message builders."""

from __future__ import annotations

_MRKDWN_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def escape_mrkdwn(text: str) -> str:
    """Make user text safe to show in Slack: no pings (`<!channel>`), mentions or hidden links."""
    return text.translate(_MRKDWN_ESCAPES)
