"""One grammar for /commit and @mentions.

    [@owner] <what> by|due|before|on <when> [for @recipient]

The date keyword may also occur inside the title ("report on housing by 12 Dec"): the date
is the longest trailing text after a keyword that reads as a due date. In practice that is the
last keyword, except when the date phrase itself contains "on" ("by 3pm on Friday").
Titles are kept as typed (whitespace collapsed, Slack's `&amp;`/`&lt;`/`&gt;` decoded once);
escaping happens at render time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from bot.commitments.due_dates import Due, DueDateError, parse_due
from bot.text import has_visible, unescape_slack

MAX_TITLE = 300
COMMAND_EXAMPLES = (
    'Try "/commit send the budget to finance by Friday" or '
    '"/commit @bob share the risk register by 12 Dec for @alice".'
)
MENTION_EXAMPLES = (
    'Try "@Saydo I\'ll send the budget to finance by Friday" or '
    '"@Saydo @bob share the risk register by 12 Dec for @alice".'
)

_MENTION = r"<@(?P<id>[UW][A-Z0-9]+)(?:\|[^<>]*)?>"
_OWNER = re.compile(rf"\s*{_MENTION}\s*")
_RECIPIENT = re.compile(rf"\s+(?i:for)\s+{_MENTION}[\s.!]*\Z")
_KEYWORD = re.compile(r"\b(?:due\s+(?:by|on|before)|by|due|before|on)\b", re.IGNORECASE)
_LEAD_IN = re.compile(
    r"(?:i\s*['’]?ll|we\s*['’]ll|(?:i|we)\s+will|commit)\s+|commit\s*:\s*", re.IGNORECASE
)


class CommitmentTextError(ValueError):
    """Commitment text we could not read; ``str()`` is a friendly message for Slack."""


@dataclass(frozen=True)
class CommitmentDraft:
    """A commitment read from text, not yet stored."""

    title: str
    when_text: str
    due: Due
    owner_id: str | None
    recipient_id: str | None


def parse_commitment(
    text: str, *, now: datetime, tz: str, locale: str | None = None
) -> CommitmentDraft:
    """Read /commit text. Raises ``CommitmentTextError`` or ``DueDateError``."""
    return _parse(text, now=now, tz=tz, locale=locale, examples=COMMAND_EXAMPLES)


def parse_mention_commitment(
    text: str,
    *,
    now: datetime,
    tz: str,
    locale: str | None = None,
    bot_user_id: str | None = None,
) -> CommitmentDraft:
    """Read an @mention's text: drops the bot's leading mention and "I'll"/"we will"/"commit"."""
    if bot_user_id:
        bot = re.match(rf"\s*<@{re.escape(bot_user_id)}(?:\|[^<>]*)?>", text)
        if bot:
            text = text[bot.end() :]
    text = text.strip()
    lead_in = _LEAD_IN.match(text)
    if lead_in:
        text = text[lead_in.end() :]
    return _parse(text, now=now, tz=tz, locale=locale, examples=MENTION_EXAMPLES)


def _parse(
    text: str, *, now: datetime, tz: str, locale: str | None, examples: str
) -> CommitmentDraft:
    def fail(problem: str) -> CommitmentTextError:
        return CommitmentTextError(f"{problem} {examples}")

    if not has_visible(text):
        raise fail("Tell me what you're committing to and by when.")

    owner_id = None
    owner = _OWNER.match(text)
    if owner:
        owner_id, text = owner["id"], text[owner.end() :]
        if _OWNER.match(text):
            raise fail("A commitment has one owner: mention just one person at the start.")

    recipient_id = None
    recipient = _RECIPIENT.search(text)
    if recipient:
        recipient_id, text = recipient["id"], text[: recipient.start()]

    keywords = list(_KEYWORD.finditer(text))
    if not keywords:
        raise fail('I need a due date: add "by <when>", like "by Friday".')

    last_error: DueDateError | None = None
    for keyword in keywords:  # earliest first: the longest date phrase wins
        when_text = unescape_slack(" ".join(text[keyword.end() :].split()))
        try:
            due = parse_due(when_text, now=now, tz=tz, locale=locale)
        except DueDateError as error:
            last_error = error
            continue
        title = unescape_slack(" ".join(text[: keyword.start()].split()).rstrip(" ,-–—"))
        if not has_visible(title):
            raise fail("What are you committing to? Put it before the date.")
        if len(title) > MAX_TITLE:
            raise fail(f"Please keep it under {MAX_TITLE} characters — you wrote {len(title)}.")
        return CommitmentDraft(title, when_text, due, owner_id, recipient_id)
    assert last_error is not None
    raise last_error
