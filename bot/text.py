"""Plain-text helpers shared by the domain and the message builders.

Slack escapes `&`, `<` and `>` in the text people type (`&amp;`, `&lt;`, `&gt;`) and keeps
`<...>` for its own mentions and links. Saydo decodes that once on the way in (after reading
mentions and links) and escapes once on the way out.
"""

from __future__ import annotations

import re
import unicodedata

_MRKDWN_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_SLACK_ENTITY = re.compile(r"&(amp|lt|gt);")
_SLACK_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}
# Spaces, line breaks, controls and invisible format characters (zero-width space and joiner,
# word joiner, byte-order mark, soft hyphen, direction marks).
_INVISIBLE_CATEGORIES = {"Zs", "Zl", "Zp", "Cc", "Cf"}
# A person as Slack sends them in text: `<@U0ALICE>`, or `<@U0ALICE|alice>` from a command.
_USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^<>]*)?>")


def escape_mrkdwn(text: str) -> str:
    """Make user text safe to show in Slack: no pings (`<!channel>`), mentions or hidden links."""
    return text.translate(_MRKDWN_ESCAPES)


def unescape_slack(text: str) -> str:
    """Text as the person typed it: Slack's `&amp;`, `&lt;` and `&gt;` decoded, once."""
    return _SLACK_ENTITY.sub(lambda match: _SLACK_ENTITIES[match[1]], text)


def has_visible(text: str) -> bool:
    """True if some character would show: a title of only spaces or zero-width characters
    is as empty as no title."""
    return any(unicodedata.category(char) not in _INVISIBLE_CATEGORIES for char in text)


def mrkdwn_with_mentions(text: str) -> str:
    """User text such as a commitment's title for mrkdwn: the people it mentions stay mentions
    (`<@U…>`, which Slack shows as their name); everything else is escaped as in
    :func:`escape_mrkdwn`, so `<!channel>`, `<!here>`, `<!everyone>` and links show as typed."""
    shown, start = [], 0
    for mention in _USER_MENTION.finditer(text):
        shown += [escape_mrkdwn(text[start : mention.start()]), f"<@{mention[1]}>"]
        start = mention.end()
    return "".join(shown) + escape_mrkdwn(text[start:])
