"""Quarterly review messages: the reminder with its evidence pack, the Record the review
modal, the posted record, and lessons learned.

Commitments in the pack show their owners' organisations, never names. Every user text
(titles, lessons, what a review recorded) is escaped. Lists are trimmed to a few items with
"and N more" pointing at `saydo export`, so a message stays well inside Slack's limits
(50 blocks, 3,000 characters a section).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.blocks import Block, Message, button, context, plain, section
from bot.blocks import costs as cost_blocks
from bot.blocks import objectives as objective_blocks
from bot.reports.figures import Tally
from bot.reports.reviews import (
    MAX_LESSON,
    MAX_RECORD_FIELD,
    RECORDABLE_OFFSETS,
    LessonView,
    Listed,
    Pack,
    RecordView,
)
from bot.text import escape_mrkdwn, mrkdwn_with_mentions

View = dict[str, Any]

# Action, modal and input ids (block id, action id)
RECORD_BUTTON = "review_record"  # value: {"p": partnership id, "d": review date}
RECORD_MODAL = "review_record_modal"
PROPOSE_FROM_REVIEW = "review_propose_charter"  # value: "<partnership id>:<review record id>"
ATTENDEES = ("review_attendees", "attendees")
OUTCOMES = ("review_outcomes", "outcomes")
DECISIONS = ("review_decisions", "decisions")
CHARTER_CHANGES = ("review_charter_changes", "charter_changes")

MAX_SECTION = 3000
MAX_TITLE_SHOWN = 120
MAX_LESSON_SHOWN = 240
QUESTIONS = (
    "Are our objectives still right?",
    "Is our charter still right?",
    "What will we change?",
)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _lines(lines: Sequence[str], *, more: int = 0, what: str | None = None) -> str:
    """Lines for one section, then "and N more" for what was left off (within 3,000 chars)."""
    where = "`saydo export`" if what is None else f"`saydo export --what {what}`"
    kept: list[str] = []
    size = 0
    for index, line in enumerate(lines):
        if size + len(line) + 1 > MAX_SECTION - 300:
            more += len(lines) - index
            break
        kept.append(line)
        size += len(line) + 1
    if more > 0:
        kept.append(f"…and {more} more — {where}")
    return "\n".join(kept)


def percent(ratio: float | None) -> str:
    return "no commitments judged yet" if ratio is None else f"{round(ratio * 100)}%"


def _day(d: date) -> str:
    return f"{d:%a} {d.day} {d:%b %Y}"


def _ratio_line(name: str, current: Tally, previous: Tally, target: float) -> str:
    judged = current.kept + current.late + current.missed
    line = f"*{name}*: {percent(current.ratio)}"
    if current.ratio is not None:
        line += f" ({current.kept} of {judged} kept)"
        line += " · on target" if current.ratio >= target else " · below target"
    if previous.ratio is None:
        line += " · previous quarter: nothing judged"
    else:
        line += f" · previous quarter {percent(previous.ratio)}"
        if current.ratio is not None:
            change = round(current.ratio * 100) - round(previous.ratio * 100)
            line += f" ({'+' if change >= 0 else ''}{change} points)"
    return line


def _listed(item: Listed) -> str:
    title = mrkdwn_with_mentions(_clip(item.title, MAX_TITLE_SHOWN))
    return f"• *#{item.ref}* {title} — {escape_mrkdwn(item.organisation)}"


def _lesson_line(lesson: LessonView, tz: str) -> str:
    when = lesson.created_at.astimezone(ZoneInfo(tz)).date()
    return f"• {escape_mrkdwn(_clip(lesson.text, MAX_LESSON_SHOWN))} _({_day(when)})_"


def record_value(partnership_id: int, review_date: date) -> str:
    return json.dumps({"p": partnership_id, "d": review_date.isoformat()}, separators=(",", ":"))


def parse_record_value(value: str) -> tuple[int, date]:
    """The button's value back as (partnership id, review date); ValueError if garbled."""
    try:
        data = json.loads(value)
        return int(data["p"]), date.fromisoformat(data["d"])
    except (TypeError, KeyError, json.JSONDecodeError) as error:
        raise ValueError(str(error)) from None


def record_button(partnership_id: int, review_date: date) -> Block:
    return {
        "type": "actions",
        "block_id": f"review_{partnership_id}_{review_date:%Y%m%d}",
        "elements": [
            button(
                "Record the review",
                RECORD_BUTTON,
                record_value(partnership_id, review_date),
                style="primary",
            )
        ],
    }


def reminder(pack: Pack, *, days_before: int) -> Message:
    """The reminder in the channel, with the evidence pack for the quarter."""
    when = _day(pack.review_date)
    if days_before == 0:
        lead = f"Quarterly review today, {when}"
    else:
        lead = f"Quarterly review in {days_before} days: {when}"
    tz = pack.partnership.tz
    first = pack.start.astimezone(ZoneInfo(tz)).date()
    last = pack.end.astimezone(ZoneInfo(tz)).date() - timedelta(days=1)
    blocks: list[Block] = [
        {"type": "header", "text": plain(lead)},
        section(
            f"The evidence pack for the quarter {_day(first)} to {_day(last)}, "
            f"as it stands now. Commitments are shown by organisation, not by person."
        ),
        {"type": "divider"},
    ]
    ratio = [
        _ratio_line(o.organisation, o.current, o.previous, pack.target) for o in pack.organisations
    ]
    ratio.append(_ratio_line("Everyone", pack.total, pack.previous_total, pack.target))
    blocks.append(
        section(
            f"*Say/do ratio* (target {percent(pack.target)}, kept out of kept, late and missed)\n"
            + _lines(ratio)
        )
    )
    t = pack.total
    blocks.append(
        section(
            f"*This quarter*: {t.kept} kept · {t.late} late · {t.missed} missed · "
            f"{pack.renegotiated_count} renegotiated"
            f"\n_Not counted: {t.withdrawn} withdrawn in time, {t.pending} still open._"
        )
    )
    if pack.missed_count:
        more = pack.missed_count - len(pack.missed)
        blocks.append(section("*Missed*\n" + _lines([_listed(m) for m in pack.missed], more=more)))
    if pack.renegotiated_count:
        more = pack.renegotiated_count - len(pack.renegotiated)
        blocks.append(
            section(
                "*Renegotiated* (a new date agreed in time)\n"
                + _lines([_listed(m) for m in pack.renegotiated], more=more)
            )
        )
    coffee = (
        f"*Cups of coffee*: {pack.coffees_held} held of {pack.coffees_planned} introduced "
        f"in {pack.coffee_rounds} round{'s' if pack.coffee_rounds != 1 else ''}."
    )
    if pack.pairs_met:
        pairs = [f"• {escape_mrkdwn(a)} & {escape_mrkdwn(b)}" for a, b in pack.pairs_met]
        coffee += "\nOrganisations that have met:\n" + _lines(pairs[:20], more=len(pairs) - 20)
    else:
        coffee += "\nNo organisations have met over coffee this quarter."
    blocks.append(section(coffee))
    lesson_text = f"*Lessons logged*: {pack.lessons_count}"
    if pack.lessons:
        more = pack.lessons_count - len(pack.lessons)
        lesson_text += "\n" + _lines(
            [_lesson_line(le, tz) for le in pack.lessons], more=more, what="lessons"
        )
    else:
        lesson_text += "\n_Log one any time with `/saydo lesson what we learned`._"
    blocks.append(section(lesson_text))
    version = (
        f"version {pack.charter_version}"
        if pack.charter_version
        else "the defaults (no version agreed yet)"
    )
    charter = f"*Charter*: {version} · {pack.open_proposals_count} open amendment proposal" + (
        "s" if pack.open_proposals_count != 1 else ""
    )
    if pack.open_proposals:
        more = pack.open_proposals_count - len(pack.open_proposals)
        proposals = [
            f"• Proposal {pid}, made {_day(at.astimezone(ZoneInfo(tz)).date())}"
            for pid, at in pack.open_proposals
        ]
        charter += "\n" + _lines(proposals, more=more)
    blocks.append(section(charter))
    blocks += objective_blocks.pack_section(pack.objectives)
    blocks += cost_blocks.pack_section(pack.costs)
    blocks.append({"type": "divider"})
    blocks.append(
        section(
            "*Three questions for the meeting*\n"
            + "\n".join(f"{n}. {q}" for n, q in enumerate(QUESTIONS, 1))
        )
    )
    if days_before in RECORDABLE_OFFSETS:
        blocks.append(record_button(pack.partnership.id, pack.review_date))
        blocks.append(context("On the day of the review or after it, record what you decided."))
    ratio_text = percent(pack.total.ratio)
    return {"text": f"{lead}. Say/do ratio this quarter: {ratio_text}.", "blocks": blocks}


def _input(
    ids: tuple[str, str], label: str, element: Block, *, optional: bool = False, hint: str = ""
) -> Block:
    block: Block = {
        "type": "input",
        "block_id": ids[0],
        "label": plain(label),
        "element": {**element, "action_id": ids[1]},
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint)
    return block


def _text(max_length: int, placeholder: str) -> Block:
    return {
        "type": "plain_text_input",
        "multiline": True,
        "max_length": max_length,
        "placeholder": plain(placeholder),
    }


def record_modal(partnership_name: str, review_date: date, *, metadata: str) -> View:
    return {
        "type": "modal",
        "callback_id": RECORD_MODAL,
        "title": plain("Record the review"),
        "submit": plain("Record"),
        "close": plain("Cancel"),
        "private_metadata": metadata,
        "blocks": [
            section(
                f"The quarterly review of *{escape_mrkdwn(partnership_name)}* on "
                f"{_day(review_date)}. It will be posted in the channel and kept."
            ),
            _input(
                ATTENDEES,
                "Who attended",
                {"type": "multi_users_select", "placeholder": plain("Choose people")},
                optional=True,
            ),
            _input(OUTCOMES, "Outcomes", _text(MAX_RECORD_FIELD, "What did the review find?")),
            _input(
                DECISIONS,
                "Decisions",
                _text(MAX_RECORD_FIELD, "What did you decide?"),
                optional=True,
            ),
            _input(
                CHARTER_CHANGES,
                "Agreed charter changes",
                _text(MAX_RECORD_FIELD, "What should change in the charter?"),
                optional=True,
                hint="These become a proposal to amend the charter.",
            ),
        ],
    }


def record_message(record: RecordView) -> Message:
    """The record as posted in the channel."""
    when = _day(record.review_date)
    attendees = " ".join(f"<@{a}>" for a in record.attendees) or "_not recorded_"
    blocks: list[Block] = [
        {"type": "header", "text": plain(f"Quarterly review recorded: {when}")},
        section(f"Recorded by <@{record.recorded_by.user_id}>.\n*Attended*: {attendees}"),
        section("*Outcomes*\n" + escape_mrkdwn(_clip(record.outcomes, MAX_SECTION - 20))),
    ]
    if record.decisions:
        blocks.append(
            section("*Decisions*\n" + escape_mrkdwn(_clip(record.decisions, MAX_SECTION - 20)))
        )
    if record.charter_changes:
        blocks.append(
            section(
                "*Agreed charter changes*\n"
                + escape_mrkdwn(_clip(record.charter_changes, MAX_SECTION - 40))
            )
        )
        if record.proposal_id is not None:
            blocks.append(context(f"Proposed as charter amendment {record.proposal_id}."))
        else:
            blocks.append(
                {
                    "type": "actions",
                    "block_id": "review_charter_changes",
                    "elements": [
                        button(
                            "Propose these charter changes",
                            PROPOSE_FROM_REVIEW,
                            f"{record.partnership.id}:{record.id}",
                        )
                    ],
                }
            )
    return {"text": f"Quarterly review recorded: {when}", "blocks": blocks}


def lesson_logged(lesson: LessonView) -> Message:
    text = escape_mrkdwn(lesson.text)
    return {
        "text": "Lesson logged for the quarterly review.",
        "blocks": [
            section(f"Lesson logged for the quarterly review:\n>{_quote(text)}"),
            context("`/saydo lessons` lists them all."),
        ],
    }


def _quote(text: str) -> str:
    return text.replace("\n", "\n>")


def lesson_list(lessons: Sequence[LessonView], total: int, *, tz: str) -> Message:
    """Newest first, with who and when."""
    if not lessons:
        text = "No lessons logged here yet. `/saydo lesson what we learned` logs one."
        return {"text": text, "blocks": [section(text)]}
    blocks: list[Block] = [section(f"*Lessons learned* ({total}), newest first")]
    for lesson in lessons:
        when = lesson.created_at.astimezone(ZoneInfo(tz))
        who = f"<@{lesson.person.user_id}>"
        if lesson.organisation:
            who += f" ({escape_mrkdwn(lesson.organisation)})"
        body = escape_mrkdwn(_clip(lesson.text, MAX_LESSON))
        blocks.append(section(f"{body}\n_{who}, {_day(when.date())} {when:%H:%M}_"))
    if total > len(lessons):
        blocks.append(context(f"…and {total - len(lessons)} more — `saydo export --what lessons`"))
    return {"text": f"Lessons learned: {total}", "blocks": blocks}
