"""Block Kit for objectives: the New objective and Record a value forms, the list, the value
reminder, and the achievement announcement. User text is escaped everywhere."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from bot.blocks import Block, Message, button, context, plain, section, text_input
from bot.objectives import service
from bot.objectives.service import ObjectiveView, Status
from bot.text import escape_mrkdwn

View = dict[str, Any]

NEW_MODAL = "objective_new_modal"  # private_metadata: the partnership id
RECORD_MODAL = "objective_record_modal"  # private_metadata: the objective id
RECORD_BUTTON = "objective_record"  # value: the objective id

# (block id, action id) of each form field, keyed by the domain's field names.
FIELDS = {
    service.TITLE: ("objective_title", "title"),
    service.GOOD: ("objective_good", "good_looks_like"),
    service.MEASURE: ("objective_measure", "measure"),
    service.DIRECTION: ("objective_direction", "direction"),
    service.BASELINE_VALUE: ("objective_baseline_value", "baseline_value"),
    service.BASELINE_DATE: ("objective_baseline_date", "baseline_date"),
    service.TARGET_VALUE: ("objective_target_value", "target_value"),
    service.TARGET_DATE: ("objective_target_date", "target_date"),
    service.OWNER: ("objective_owner", "owner"),
    service.CADENCE: ("objective_cadence", "cadence"),
}
VALUE = ("objective_value", "value")
EVIDENCE = ("objective_evidence", "evidence")
MAX_OPTION_TEXT = 75
MAX_SHOWN = 20  # objectives in one list message (3 blocks each, within Slack's 50)

STATUS_MARKS = {
    Status.ACHIEVED: ":trophy: achieved",
    Status.ON_TRACK: ":white_check_mark: on track",
    Status.AT_RISK: ":warning: at risk",
    Status.MISSED: ":x: missed",
    Status.NO_VALUE: ":grey_question: no value yet",
}


def number(value: Decimal) -> str:
    """A value as people write it: thousands separated, at most two decimals if computed."""
    if value.as_tuple().exponent < -2:
        value = value.quantize(Decimal("0.01"))
    return f"{value:,f}"


def _day(d: date) -> str:
    return d.strftime("%a %-d %b %Y")


def _option(text: str, value: str) -> Block:
    shown = text if len(text) <= MAX_OPTION_TEXT else text[: MAX_OPTION_TEXT - 1] + "…"
    return {"text": plain(shown), "value": value}


def _input(field: tuple[str, str], label: str, element: Block, **extra: Any) -> Block:
    block: Block = {
        "type": "input",
        "block_id": field[0],
        "label": plain(label),
        "element": {**element, "action_id": field[1]},
        "optional": extra.get("optional", False),
    }
    if hint := extra.get("hint"):
        block["hint"] = plain(hint)
    return block


def _date() -> Block:
    return {"type": "datepicker", "placeholder": plain("Pick a date")}


# --- forms ------------------------------------------------------------------------------------


def objective_modal(partnership_name: str, organisations: Sequence[str], *, metadata: str) -> View:
    """The New objective form: SMART fields, each refused next to itself when wrong."""
    orgs = [_option(o, o) for o in organisations[:100]]
    directions = [
        _option("Higher is better", service.HIGHER),
        _option("Lower is better", service.LOWER),
    ]
    cadences = [_option(c.title(), c) for c in service.CADENCES]
    monthly = next(o for o in cadences if o["value"] == service.DEFAULT_CADENCE)
    f = FIELDS
    return {
        "type": "modal",
        "callback_id": NEW_MODAL,
        "title": plain("New objective"),
        "submit": plain("Save"),
        "close": plain("Cancel"),
        "private_metadata": metadata,
        "blocks": [
            section(
                f"A shared, measurable objective for *{escape_mrkdwn(partnership_name)}*: "
                "what is measured, where it starts, where it should be and by when."
            ),
            _input(
                f[service.TITLE],
                "Objective",
                text_input(max_length=service.MAX_TITLE, placeholder="Faster hospital discharge"),
            ),
            _input(
                f[service.GOOD],
                "What good looks like",
                text_input(
                    max_length=service.MAX_GOOD,
                    placeholder="Patients go home the day they are ready",
                    multiline=True,
                ),
                optional=True,
            ),
            _input(
                f[service.MEASURE],
                "Measure (with its unit)",
                text_input(
                    max_length=service.MAX_MEASURE, placeholder="days from referral to discharge"
                ),
            ),
            _input(
                f[service.DIRECTION],
                "Which way is better",
                {"type": "radio_buttons", "options": directions},
            ),
            _input(
                f[service.BASELINE_VALUE],
                "Baseline value",
                text_input(max_length=30, placeholder="e.g. 12"),
            ),
            _input(f[service.BASELINE_DATE], "Baseline measured on", _date()),
            _input(
                f[service.TARGET_VALUE],
                "Target value",
                text_input(max_length=30, placeholder="e.g. 5"),
            ),
            _input(f[service.TARGET_DATE], "Target date", _date()),
            _input(
                f[service.OWNER], "Owning organisation", {"type": "static_select", "options": orgs}
            ),
            _input(
                f[service.CADENCE],
                "Measured",
                {"type": "static_select", "options": cadences, "initial_option": monthly},
                hint="The owners get a private reminder to record a value at this cadence.",
            ),
        ],
    }


def record_modal(objective: ObjectiveView, *, metadata: str) -> View:
    latest = objective.latest
    last = (
        f"Latest: {number(latest.value)} on {_day(latest.measured_on)}."
        if latest
        else f"Baseline: {number(objective.baseline_value)} on {_day(objective.baseline_date)}."
    )
    return {
        "type": "modal",
        "callback_id": RECORD_MODAL,
        "title": plain("Record a value"),
        "submit": plain("Record"),
        "close": plain("Cancel"),
        "private_metadata": metadata,
        "blocks": [
            section(
                f"*{objective.ref} {escape_mrkdwn(objective.title)}*\n"
                f"{escape_mrkdwn(objective.measure)}. {last} "
                f"Target: {number(objective.target_value)} by {_day(objective.target_date)}."
            ),
            _input(VALUE, "Value today", text_input(max_length=30, placeholder="e.g. 9.5")),
            _input(
                EVIDENCE,
                "Evidence",
                text_input(
                    max_length=service.MAX_EVIDENCE,
                    placeholder="A link or a note of where the figure comes from",
                ),
                optional=True,
            ),
        ],
    }


# --- messages ---------------------------------------------------------------------------------


def summary_line(o: ObjectiveView) -> str:
    """Its status, then baseline → latest → target, on two lines."""
    latest = (
        f"latest {number(o.latest.value)} ({_day(o.latest.measured_on)})"
        if o.latest
        else "no value yet"
    )
    return (
        f"*{o.ref} {escape_mrkdwn(o.title)}* · {STATUS_MARKS[o.status]}\n"
        f"{escape_mrkdwn(o.measure)}: baseline {number(o.baseline_value)} → {latest} → "
        f"target {number(o.target_value)} by {_day(o.target_date)} · "
        f"owner {escape_mrkdwn(o.owner_organisation)}"
    )


def objectives_list(objectives: Sequence[ObjectiveView], *, partnership_name: str) -> Message:
    name = escape_mrkdwn(partnership_name)
    if not objectives:
        text = f"*{name}* has no objectives yet. `/saydo objective` sets one."
        return {"text": text, "blocks": [section(text)]}
    blocks: list[Block] = [section(f"*Objectives of {name}*")]
    for o in objectives[:MAX_SHOWN]:
        blocks.append(section(summary_line(o)))
    if len(objectives) > MAX_SHOWN:
        blocks.append(
            context(f"and {len(objectives) - MAX_SHOWN} more: `saydo export --what objectives`.")
        )
    blocks.append(context("Record a value: `/saydo measure O1 9.5 evidence: <link or note>`."))
    counts = ", ".join(
        f"{sum(o.status == s for o in objectives)} {s.value}"
        for s in Status
        if any(o.status == s for o in objectives)
    )
    return {"text": f"Objectives of {name}: {counts}.", "blocks": blocks}


def created(objective: ObjectiveView, *, by_user_id: str) -> Message:
    good = objective.good_looks_like
    lines = [f"<@{by_user_id}> set a new objective.", summary_line(objective)]
    if good:
        lines.append(f"_What good looks like_: {escape_mrkdwn(good)}")
    return {
        "text": f"New objective {objective.ref}: {escape_mrkdwn(objective.title)}",
        "blocks": [section("\n".join(lines))],
    }


def recorded(objective: ObjectiveView, *, achieved: bool) -> Message:
    latest = objective.latest
    lead = f"Recorded {number(latest.value)} for {objective.ref}." if latest else "Recorded."
    if achieved:
        lead += " Target reached: well done! I'll tell the channel."
    return {
        "text": f"{lead} Status: {objective.status.value}.",
        "blocks": [section(lead), section(summary_line(objective))],
    }


def reminder(objective: ObjectiveView, *, due: date) -> Message:
    """The private DM asking an owner for the new value, with Record a value."""
    text = (
        f"Time to record {objective.ref} {escape_mrkdwn(objective.title)}: "
        f"a new value of {escape_mrkdwn(objective.measure)} is due {_day(due)}."
    )
    return {
        "text": text,
        "blocks": [
            section(
                f"Time to record *{objective.ref} {escape_mrkdwn(objective.title)}*: "
                f"a new value of _{escape_mrkdwn(objective.measure)}_ is due {_day(due)}."
            ),
            section(summary_line(objective)),
            {
                "type": "actions",
                "block_id": "objective_reminder",
                "elements": [
                    button("Record a value", RECORD_BUTTON, str(objective.id), style="primary")
                ],
            },
        ],
    }


def achieved(objective: ObjectiveView) -> Message:
    latest = objective.latest
    value = number(latest.value) if latest else number(objective.target_value)
    text = (
        f":trophy: Objective achieved: {objective.ref} {escape_mrkdwn(objective.title)}, "
        f"{value} against a target of {number(objective.target_value)}. Well done, "
        f"{escape_mrkdwn(objective.owner_organisation)} and everyone who helped!"
    )
    return {
        "text": text,
        "blocks": [
            section(
                f":trophy: *Objective achieved: {objective.ref} {escape_mrkdwn(objective.title)}*\n"
                f"{escape_mrkdwn(objective.measure)}: {value} against a target of "
                f"{number(objective.target_value)} (baseline {number(objective.baseline_value)}). "
                f"Well done, {escape_mrkdwn(objective.owner_organisation)} and everyone who helped!"
            )
        ],
    }


# --- in reports -------------------------------------------------------------------------------


def pack_section(objectives: Sequence[ObjectiveView]) -> list[Block]:
    """The evidence pack's objectives: baseline → latest → target and status, and those on the
    review's agenda (at risk twice in a row, or missed)."""
    if not objectives:
        return []
    lines = [summary_line(o).replace("\n", " · ") for o in objectives[:MAX_SHOWN]]
    if len(objectives) > MAX_SHOWN:
        lines.append(f"and {len(objectives) - MAX_SHOWN} more: `saydo export --what objectives`")
    blocks = [section(_clip("*Objectives*\n" + "\n".join(lines)))]
    agenda = [
        f"{o.ref} {escape_mrkdwn(o.title)} ({agenda_reason(o)})" for o in objectives if o.for_review
    ]
    if agenda:
        blocks.append(section(_clip("*On the agenda: what got in the way?*\n" + "\n".join(agenda))))
    return blocks


def agenda_reason(objective: ObjectiveView) -> str:
    """Why an objective is on the review's agenda, in a few words."""
    return "missed" if objective.status == Status.MISSED else "at risk twice in a row"


def weekly_line(objectives: Sequence[ObjectiveView], *, start: date, end: date) -> Block | None:
    """One line for the weekly summary: objectives achieved and newly at risk in [start, end)."""
    achieved_now = [o for o in objectives if o.achieved_on and start <= o.achieved_on < end]
    at_risk_now = [o for o in objectives if o.newly_at_risk(start, end)]
    if not achieved_now and not at_risk_now:
        return None
    parts = []
    if achieved_now:
        names = ", ".join(f"{o.ref} {escape_mrkdwn(o.title)}" for o in achieved_now)
        whose = "its" if len(achieved_now) == 1 else "their"
        parts.append(f":trophy: Well done: {names} reached {whose} target.")
    if at_risk_now:
        names = ", ".join(f"{o.ref} {escape_mrkdwn(o.title)}" for o in at_risk_now)
        parts.append(f":warning: Newly at risk: {names}.")
    return context(_clip(" ".join(parts) + " The rest is in `/saydo objectives`."))


def home_blocks(objectives: Sequence[ObjectiveView], *, today: date) -> list[Block]:
    """The Home tab's objectives that the person's organisation owns, with the next value due."""
    if not objectives:
        return []
    lines = []
    for o in objectives[:MAX_SHOWN]:
        due = o.next_due(today)
        when = (
            f"next value due {_day(due)}" if due and o.status != Status.ACHIEVED else "no value due"
        )
        lines.append(f"*{o.ref} {escape_mrkdwn(o.title)}* · {STATUS_MARKS[o.status]} · {when}")
    return [
        {"type": "divider"},
        section(_clip("*Objectives your organisation owns*\n" + "\n".join(lines))),
    ]


def _clip(text: str, limit: int = 2900) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
