"""Say/do reports as Block Kit: the weekly summary, `/saydo stats` and the App Home tab.

Recognition comes first; what needs a new date is put constructively; people are named only
when the charter's `summary_visibility` is "person". Messages stay within 50 blocks and the
Home tab within 100 (long lists are trimmed with a note), every text within 3000 characters.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.blocks import Block, Message, context, plain, section
from bot.blocks import objectives as objective_blocks
from bot.blocks.commitments import actions_for, summary_line
from bot.commitments.service import PartnershipRef
from bot.policy.charter_settings import BY_PERSON, CharterSettings
from bot.reports.figures import Calendar, Figures, HomeData, Item, Line, Tally
from bot.reports.summaries import Weekly
from bot.text import escape_mrkdwn, mrkdwn_with_mentions

MAX_MESSAGE_BLOCKS = 50
MAX_HOME_BLOCKS = 100
MAX_TEXT = 2900
HOME_SWITCH = "home_switch_partnership"
HOME_OPEN_SHOWN = 15
HOME_OWED_SHOWN = 10


# --- formatting ----------------------------------------------------------------------------


def percent(ratio: float | None) -> str:
    return "n/a" if ratio is None else f"{ratio:.0%}"


def day_text(at: datetime, tz: str) -> str:
    local = at.astimezone(ZoneInfo(tz))
    return f"{local:%a} {local.day} {local:%b %Y}"


def instant_text(at: datetime, tz: str) -> str:
    local = at.astimezone(ZoneInfo(tz))
    return f"{local:%a} {local.day} {local:%b}, {local:%H:%M}"


def tally_text(tally: Tally) -> str:
    parts = [
        f"due {tally.due}",
        f"kept {tally.kept}",
        f"late {tally.late}",
        f"missed {tally.missed}",
    ]
    if tally.pending:
        parts.append(f"still open {tally.pending}")
    text = " · ".join(parts) + f" · say/do *{percent(tally.ratio)}*"
    if tally.withdrawn:
        text += f" _(withdrawn in time, not counted: {tally.withdrawn})_"
    return text


def line_text(line: Line, *, name: str | None = None) -> str:
    label = name or f"*{escape_mrkdwn(line.label)}*"
    text = f"{label}: {tally_text(line.tally)}"
    if line.trend:
        text += f"  `{line.sparkline}`"
    return text


def item_text(item: Item, tz: str) -> str:
    return (
        f"*#{item.ref}* {mrkdwn_with_mentions(item.title)} · <@{item.owner.user_id}> · "
        f"{day_text(item.due_at, tz)}"
    )


def _chunks(lines: Sequence[str], *, limit: int = MAX_TEXT) -> list[str]:
    """Join lines into texts each within Slack's section limit."""
    texts: list[str] = []
    current = ""
    for line in lines:
        line = line[:limit]
        if current and len(current) + 1 + len(line) > limit:
            texts.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        texts.append(current)
    return texts


def _sections(heading: str, lines: Sequence[str]) -> list[Block]:
    texts = _chunks([heading, *lines])
    return [section(t) for t in texts]


def _trim(blocks: list[Block], limit: int, note: str) -> list[Block]:
    if len(blocks) <= limit:
        return blocks
    return [*blocks[: limit - 1], context(note)]


# --- figures (shared by the summary and /saydo stats) --------------------------------------


def recognition(figures: Figures, settings: CharterSettings) -> list[str]:
    """Who met the target, who kept every week in a row, and what came early."""
    by_person = settings.summary_visibility == BY_PERSON
    lines = []
    for org in figures.organisations:
        ratio = org.tally.ratio
        if ratio is not None and ratio >= settings.kept_target:
            lines.append(
                f":star: *{escape_mrkdwn(org.label)}* kept {org.tally.kept} of "
                f"{org.tally.judged} ({percent(ratio)}), at or above the "
                f"{percent(settings.kept_target)} target."
            )
    for line in figures.people if by_person else figures.organisations:
        if line.streak >= 2:
            who = f"<@{line.owner.user_id}>" if line.owner else f"*{escape_mrkdwn(line.label)}*"
            lines.append(f":fire: {who}: {line.streak} full weeks kept in a row.")
    early = [
        line
        for line in (figures.people if by_person else figures.organisations)
        if line.tally.early
    ]
    if early:
        names = ", ".join(
            (f"<@{line.owner.user_id}>" if line.owner else f"*{escape_mrkdwn(line.label)}*")
            + f" ({line.tally.early})"
            for line in early
        )
        lines.append(f":rocket: Delivered early (a day or more ahead): {names}.")
    return lines


def figure_blocks(figures: Figures, settings: CharterSettings, tz: str) -> list[Block]:
    by_person = settings.summary_visibility == BY_PERSON
    blocks: list[Block] = []
    praise = recognition(figures, settings)
    if praise:
        blocks += _sections("*Well done*", praise)
    org_lines = [line_text(org) for org in figures.organisations]
    if len(figures.organisations) > 1:
        org_lines.append(line_text(figures.total, name="*All together*"))
    blocks += _sections("*By organisation*", org_lines)
    if by_person and figures.people:
        blocks += _sections(
            "*By person*",
            [line_text(p, name=f"<@{p.owner.user_id}>") for p in figures.people],
        )
    if figures.withdrawn and by_person:
        blocks += _sections(
            "*Withdrawn in time (not counted)*",
            [item_text(i, tz) for i in figures.withdrawn],
        )
    if figures.trend_starts:
        blocks.append(
            context(
                f"Trend: the weekly say/do ratio for the last {len(figures.trend_starts)} weeks "
                "(▁ none kept … █ all kept; blank: nothing due). Say/do = kept ÷ (kept + late "
                "+ missed), by the agreed date."
            )
        )
    return blocks


# --- the weekly summary --------------------------------------------------------------------


def weekly_summary(summary: Weekly) -> Message:
    figures, ahead, settings = summary.figures, summary.ahead, summary.settings
    tz = summary.partnership.tz
    by_person = settings.summary_visibility == BY_PERSON
    start = summary.week_start_local
    last_day = summary.week_end_local.date().fromordinal(summary.week_end_local.toordinal() - 1)
    week = f"{start:%a} {start.day} {start:%b} to {last_day:%a} {last_day.day} {last_day:%b %Y}"
    name = escape_mrkdwn(summary.partnership.name)
    quiet = (
        figures.total.tally.due == 0
        and not figures.withdrawn
        and figures.total.tally.withdrawn == 0
        and ahead.overdue_total == 0
        and ahead.due_soon_total == 0
    )
    objectives = objective_blocks.weekly_line(
        summary.objectives, start=start.date(), end=summary.week_end_local.date()
    )
    if quiet:
        text = f"A quiet week for {name}: nothing was due {week}, and nothing falls due this week."
        return {"text": text, "blocks": [section(text), *([objectives] if objectives else [])]}

    blocks: list[Block] = [
        {"type": "header", "text": plain(f"Weekly say/do: {summary.partnership.name}"[:150])},
        context(f"{week} ({tz})"),
    ]
    if figures.total.tally.due or figures.total.tally.withdrawn:
        blocks += figure_blocks(figures, settings, tz)
    else:
        blocks.append(section(f"Nothing was due {week}."))

    if ahead.overdue_total:
        lines = [
            f"{ahead.overdue_total} open commitment{_s(ahead.overdue_total)} "
            f"{'has' if ahead.overdue_total == 1 else 'have'} passed {_its(ahead.overdue_total)} "
            "date. A new date keeps everyone planning on facts:"
        ]
        lines += [f"• *{escape_mrkdwn(o.label)}*: {o.tally.missed}" for o in ahead.overdue]
        if by_person:
            lines += [f"• {item_text(i, tz)}" for i in ahead.overdue_items]
            lines += _more(ahead.overdue_total, len(ahead.overdue_items))
        blocks += _sections("*Needs a new date*", lines)

    coming = [
        f"{ahead.due_soon_total} commitment{_s(ahead.due_soon_total)} fall"
        f"{'s' if ahead.due_soon_total == 1 else ''} due in the next 7 days"
        + (":" if ahead.due_soon_total else ".")
    ]
    coming += [f"• *{escape_mrkdwn(o.label)}*: {o.tally.pending}" for o in ahead.due_soon]
    if by_person:
        coming += [f"• {item_text(i, tz)}" for i in ahead.due_soon_items]
        coming += _more(ahead.due_soon_total, len(ahead.due_soon_items))
    coming += calendar_lines(summary.calendar, tz)
    blocks += _sections("*The week ahead*", coming)
    if objectives:
        blocks.append(objectives)

    blocks = _trim(blocks, MAX_MESSAGE_BLOCKS, "More in `/saydo stats last week`.")
    ratio = percent(figures.total.tally.ratio)
    return {"text": f"Weekly say/do for {name}, {week}: {ratio} kept.", "blocks": blocks}


def calendar_lines(calendar: Calendar, tz: str) -> list[str]:
    return [
        f":coffee: Next coffee round: {instant_text(calendar.next_coffee, tz)}",
        f":calendar: Next review: {day_text(calendar.next_review, tz)}",
    ]


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def _its(n: int) -> str:
    return "its" if n == 1 else "their"


def _more(total: int, shown: int) -> list[str]:
    return [f"…and {total - shown} more (`/saydo list overdue`)."] if total > shown else []


# --- /saydo stats --------------------------------------------------------------------------


def stats_message(
    figures: Figures, settings: CharterSettings, *, label: str, partnership: PartnershipRef
) -> Message:
    tz = partnership.tz
    span = f"{day_text(figures.start, tz)} to {day_text(figures.end - timedelta(seconds=1), tz)}"
    name = escape_mrkdwn(partnership.name)
    heading = f"*Say/do for {name}, {escape_mrkdwn(label)}* ({span}, {tz})"
    tally = figures.total.tally
    if tally.due == 0 and tally.withdrawn == 0:
        text = f"{heading}\nNothing was due in that period."
        return {"text": text, "blocks": [section(text)]}
    blocks = [section(heading), *figure_blocks(figures, settings, tz)]
    blocks = _trim(blocks, MAX_MESSAGE_BLOCKS, "Trimmed: try a shorter period.")
    return {"text": f"Say/do for {name}, {label}: {percent(tally.ratio)} kept.", "blocks": blocks}


# --- App Home ------------------------------------------------------------------------------


def _option(p: PartnershipRef) -> dict[str, Any]:
    return {"text": plain(f"#{p.name}"[:75]), "value": str(p.id)}


def home_view(data: HomeData) -> dict[str, Any]:
    """The person's Home tab for the selected partnership."""
    blocks: list[Block] = [{"type": "header", "text": plain("Saydo")}]
    if data.selected is None:
        blocks.append(
            section(
                "You have no commitments yet. Type `/commit` in a partnership channel to log "
                "one, or `/saydo help` to see what I can do."
            )
        )
        return {"type": "home", "blocks": blocks}
    selected = data.selected
    intro = section(f"Your commitments in *#{escape_mrkdwn(selected.name)}*")
    if len(data.partnerships) > 1:
        intro["accessory"] = {
            "type": "static_select",
            "action_id": HOME_SWITCH,
            "placeholder": plain("Switch partnership"),
            "options": [_option(p) for p in data.partnerships[:100]],
            "initial_option": _option(selected),
        }
    blocks.append(intro)
    if data.ratios is not None:
        blocks.append(
            context(
                f"Your say/do: *{percent(data.ratios.last_30.ratio)}* over the last 30 days "
                f"({data.ratios.last_30.kept} of {data.ratios.last_30.judged} kept), "
                f"*{percent(data.ratios.last_90.ratio)}* over 90 days "
                f"({data.ratios.last_90.kept} of {data.ratios.last_90.judged})."
            )
        )
    blocks.append({"type": "divider"})
    blocks.append(section("*What you've said you'll do*, soonest first"))
    if not data.open_items:
        blocks.append(section("Nothing open. :tada:"))
    for commitment in data.open_items:
        blocks.append(section(summary_line(commitment, now=data.now)))
        actions = actions_for(commitment)
        if actions:
            actions = {**actions, "block_id": f"home_{actions['block_id']}"}
            blocks.append(actions)
    if data.open_total > len(data.open_items):
        blocks.append(
            context(f"…and {data.open_total - len(data.open_items)} more: `/saydo list`.")
        )
    blocks.append({"type": "divider"})
    blocks.append(section("*What others owe you*"))
    owed = [summary_line(c, now=data.now) for c in data.owed]
    if data.owed_total > len(data.owed):
        owed.append(f"…and {data.owed_total - len(data.owed)} more.")
    blocks += [section(t) for t in _chunks(owed)] or [section("Nothing is owed to you.")]
    if data.calendar is not None:
        blocks.append({"type": "divider"})
        blocks.append(section("\n".join(calendar_lines(data.calendar, data.tz))))
    return {"type": "home", "blocks": _trim(blocks, MAX_HOME_BLOCKS, "Trimmed: `/saydo list`.")}
