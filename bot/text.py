"""Plain-text helpers shared by the domain and the message builders."""

from __future__ import annotations

import re

_MRKDWN_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# A person as Slack sends them in text: `<@U0ALICE>`, or `<@U0ALICE|alice>` from a command.
_USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^<>]*)?>")


def escape_mrkdwn(text: str) -> str:
    """Make user text safe to show in Slack: no pings (`<!channel>`), mentions or hidden links."""
    return text.translate(_MRKDWN_ESCAPES)


def mrkdwn_with_mentions(text: str) -> str:
    """User text such as a commitment's title for mrkdwn: the people it mentions stay mentions
    (`<@U…>`, which Slack shows as their name); everything else is escaped as in
    :func:`escape_mrkdwn`, so `<!channel>`, `<!here>`, `<!everyone>` and links show as typed."""
    shown, start = [], 0
    for mention in _USER_MENTION.finditer(text):
        shown += [escape_mrkdwn(text[start : mention.start()]), f"<@{mention[1]}>"]
        start = mention.end()
    return "".join(shown) + escape_mrkdwn(text[start:])
