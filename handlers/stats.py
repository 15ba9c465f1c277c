"""`/saydo stats [this week|last week|this month|this quarter|<from> to <to>]`: the summary's
figures for any period, ephemerally, in the channel's partnership."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.blocks import reports as report_blocks
from bot.charter.service import current_charter
from bot.commitments.due_dates import DueDateError, parse_due
from bot.commitments.service import check_member
from bot.refusal import Refusal
from bot.reports import figures as reports
from handlers import common
from handlers.saydo_command import Subcommand

STATS_USAGE = (
    "Try `/saydo stats` (this week), `/saydo stats last week`, `/saydo stats this month`, "
    "`/saydo stats this quarter` or `/saydo stats 2026-11-01 to 2026-11-30`."
)
MAX_DAYS = 732
_RANGE = re.compile(r"^(?:from\s+)?(?P<start>.+?)\s+(?:to|until|-)\s+(?P<end>.+)$", re.IGNORECASE)


def _day(text: str, *, now: datetime, tz: str, locale: str | None) -> date:
    text = text.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return parse_due(text, now=now, tz=tz, locale=locale).local().date()
    except DueDateError:
        raise Refusal(
            f"I couldn't read `{text}` as a date; for past dates use ISO, e.g. 2026-11-01. "
            f"{STATS_USAGE}"
        ) from None


def parse_period(
    text: str, *, now: datetime, tz: str, locale: str | None = None
) -> tuple[str, datetime, datetime]:
    """(label, start, end) in UTC for the period named in `text`, in local days of `tz`."""
    phrase = " ".join(text.lower().split())
    today = now.astimezone(ZoneInfo(tz)).date()
    monday = today - timedelta(days=today.weekday())
    if phrase in ("", "this week", "week"):
        label, first, after = "this week", monday, monday + timedelta(days=7)
    elif phrase == "last week":
        label, first, after = "last week", monday - timedelta(days=7), monday
    elif phrase in ("this month", "month"):
        first = today.replace(day=1)
        after = (first + timedelta(days=32)).replace(day=1)
        label = "this month"
    elif phrase in ("this quarter", "quarter"):
        first = today.replace(month=3 * ((today.month - 1) // 3) + 1, day=1)
        after = (first + timedelta(days=95)).replace(day=1)
        label = "this quarter"
    else:
        match = _RANGE.match(text.strip())
        if not match:
            raise Refusal(f"I don't know the period `{text.strip()}`. {STATS_USAGE}")
        first = _day(match["start"], now=now, tz=tz, locale=locale)
        last = _day(match["end"], now=now, tz=tz, locale=locale)
        if last < first:
            raise Refusal(f"The period ends before it starts. {STATS_USAGE}")
        if (last - first).days > MAX_DAYS:
            raise Refusal("Please ask for at most two years at a time.")
        after = last + timedelta(days=1)
        label = f"{first.isoformat()} to {last.isoformat()}"
    return label, reports.local_midnight(first, tz), reports.local_midnight(after, tz)


def _stats(context: BoltContext, client: WebClient, command: dict, text: str) -> dict:
    channel_id = command.get("channel_id", "")
    if channel_id.startswith("D"):
        raise Refusal(
            "Stats belong to a partnership: use `/saydo stats` in the partnership's channel."
        )
    partnership = common.partnership(context, channel_id, command.get("channel_name"))
    asker = common.person(context, client, command["user_id"])
    engine = common.engine_of(context)
    check_member(engine, partnership=partnership, user_id=asker.user_id)
    now = common.utcnow()
    label, start, end = parse_period(text, now=now, tz=partnership.tz, locale=asker.locale)
    charter = current_charter(engine, partnership_id=partnership.id)
    figures = reports.figures(engine, partnership_id=partnership.id, start=start, end=end, now=now)
    return report_blocks.stats_message(
        figures, charter.settings, label=label, partnership=partnership
    )


# `/saydo <name>` subcommands this module answers (collected by `handlers.register_all`).
SUBCOMMANDS: dict[str, Subcommand] = {
    "stats": _stats,
}


def register(app: App) -> None:
    """Nothing to register: `/saydo stats` is dispatched by `handlers.saydo_command`."""
