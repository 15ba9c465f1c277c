"""The Relationship Charter in Block Kit: the setup form, the charter, a proposed change (with
Agree and Adopt), the form to propose one, and the history of versions.

Inputs have stable (block id, action id) pairs; listeners read
`view["state"]["values"][<block id>][<action id>]`. The setup form and the proposal form share
the charter's inputs, so a proposal starts from exactly the current charter.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.blocks import Block, Message, button, context, plain, section
from bot.charter.service import (
    MAX_NAME,
    MAX_TEXT,
    WEEKDAYS,
    Charter,
    ProposalView,
    describe_settings,
)
from bot.partnerships.members import MemberView
from bot.policy.charter_settings import BY_ORGANISATION, BY_PERSON
from bot.text import escape_mrkdwn

View = dict[str, Any]

# Callback ids and buttons
SETUP_MODAL = "charter_setup"
PROPOSE_MODAL = "charter_propose_modal"
PROPOSE = "charter_propose"  # value: the partnership id
AGREE = "charter_agree"  # value: the proposal id
ADOPT = "charter_adopt"  # value: the proposal id

# Inputs: (block id, action id)
NAME = ("charter_name", "name")
TZ = ("charter_tz", "tz")
COFFEE_EVERY = ("charter_coffee_every", "weeks")
COFFEE_DAY = ("charter_coffee_day", "weekday")
COFFEE_TIME = ("charter_coffee_time", "time")
FIRST_REVIEW = ("charter_first_review", "date")
REVIEW_EVERY = ("charter_review_every", "months")
SUMMARY_DAY = ("charter_summary_day", "weekday")
SUMMARY_TIME = ("charter_summary_time", "time")
KEPT_TARGET = ("charter_kept_target", "percent")
TOLERANCE = ("charter_objective_tolerance", "percent")
CURRENCY = ("charter_currency", "code")
VISIBILITY = ("charter_visibility", "visibility")
WORKING_DAYS = ("charter_working_days", "days")
DAY_START = ("charter_day_start", "time")
DAY_END = ("charter_day_end", "time")
HOLIDAYS = ("charter_holidays", "calendars")
PURPOSE = ("charter_purpose", "text")
BEHAVIOURS = ("charter_behaviours", "text")
ESCALATION = ("charter_escalation", "text")
COURSE_CORRECTION = ("charter_course_correction", "on")
COURSE_CORRECTION_ON = "on"

COMMON_ZONES = (
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Amsterdam",
    "Europe/Brussels",
    "Europe/Stockholm",
    "Europe/Warsaw",
    "Europe/Athens",
    "Europe/Helsinki",
    "Europe/Istanbul",
    "Africa/Lagos",
    "Africa/Johannesburg",
    "Africa/Nairobi",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Hong_Kong",
    "Asia/Tokyo",
    "Australia/Perth",
    "Australia/Sydney",
    "Pacific/Auckland",
    "America/St_Johns",
    "America/Halifax",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Sao_Paulo",
    "America/Mexico_City",
    "UTC",
)
MAX_SECTION = 3000
MAX_HISTORY = 20
ELLIPSIS = "…"


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def metadata(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"))


def read_metadata(text: str | None) -> dict[str, Any]:
    try:
        data = json.loads(text or "{}")
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


# --- elements --------------------------------------------------------------------------------


def _option(text: str, value: str) -> Block:
    return {"text": plain(text), "value": value}


def _input(ids_: tuple[str, str], label: str, element: Block, **extra: Any) -> Block:
    block: Block = {
        "type": "input",
        "block_id": ids_[0],
        "label": plain(label),
        "element": {**element, "action_id": ids_[1]},
        "optional": extra.pop("optional", False),
    }
    if hint := extra.pop("hint", None):
        block["hint"] = plain(hint)
    return block


def _select(options: Sequence[tuple[str, str]], initial: str) -> Block:
    built = [_option(text, value) for text, value in options]
    chosen = next((o for o in built if o["value"] == initial), built[0])
    return {"type": "static_select", "options": built, "initial_option": chosen}


def _weekday(initial: int) -> Block:
    return _select([(name, str(n)) for n, name in enumerate(WEEKDAYS)], str(initial))


def _time(initial) -> Block:
    return {"type": "timepicker", "initial_time": f"{initial:%H:%M}"}


def _text(initial: str, *, max_length: int, multiline: bool = True, placeholder: str = ""):
    element: Block = {"type": "plain_text_input", "max_length": max_length}
    if multiline:
        element["multiline"] = True
    if initial:
        element["initial_value"] = initial
    if placeholder:
        element["placeholder"] = plain(placeholder)
    return element


# --- the forms -------------------------------------------------------------------------------


def charter_inputs(charter: Charter, organisations: Sequence[str]) -> list[Block]:
    """The charter's inputs, prefilled with `charter` (the defaults before setup)."""
    s = charter.settings
    weeks = [(f"Every {n} week{'s' if n > 1 else ''}", str(n)) for n in range(1, 9)]
    months = [(f"Every {n} month{'s' if n > 1 else ''}", str(n)) for n in range(1, 13)]
    day_options = [_option(name, str(n)) for n, name in enumerate(WEEKDAYS)]
    working = [o for o in day_options if int(o["value"]) in s.working_days]
    visibility = [
        _option("By organisation only", BY_ORGANISATION),
        _option("By person too", BY_PERSON),
    ]
    calendars = dict(s.holiday_calendars)
    for organisation in organisations:
        if s.holiday_country(organisation) is None:
            calendars[organisation] = ""
    holiday_lines = "\n".join(f"{org}: {code}" for org, code in calendars.items())
    first_review: Block = {"type": "datepicker", "placeholder": plain("Pick a date")}
    if s.first_review_date:
        first_review["initial_date"] = s.first_review_date.isoformat()
    days_element: Block = {"type": "checkboxes", "options": day_options}
    if working:
        days_element["initial_options"] = working
    correction = _option("Offer a private course-correction coffee", COURSE_CORRECTION_ON)
    correction_element: Block = {"type": "checkboxes", "options": [correction]}
    if s.course_correction:
        correction_element["initial_options"] = [correction]
    return [
        {"type": "header", "text": plain("Charter")},
        _input(
            PURPOSE,
            "Purpose and shared objectives",
            _text(charter.purpose, max_length=MAX_TEXT, placeholder="Why we work together"),
            optional=True,
        ),
        _input(
            BEHAVIOURS,
            "Behaviours we agree to",
            _text(charter.behaviours, max_length=MAX_TEXT, placeholder="How we treat each other"),
            optional=True,
        ),
        _input(
            ESCALATION,
            "Escalation playbook",
            _text(charter.escalation, max_length=MAX_TEXT, placeholder="What we do when it slips"),
            optional=True,
        ),
        _input(COURSE_CORRECTION, "Course correction", correction_element, optional=True),
        {"type": "header", "text": plain("Cup of coffee")},
        _input(COFFEE_EVERY, "How often", _select(weeks, str(s.coffee_cadence_weeks))),
        _input(COFFEE_DAY, "Day", _weekday(s.coffee_weekday)),
        _input(COFFEE_TIME, "Time", _time(s.coffee_time)),
        {"type": "header", "text": plain("Reviews and summaries")},
        _input(
            FIRST_REVIEW,
            "First review",
            first_review,
            optional=True,
            hint="Leave empty for one review cadence after the partnership began.",
        ),
        _input(REVIEW_EVERY, "Reviews", _select(months, str(s.review_cadence_months))),
        _input(SUMMARY_DAY, "Weekly summary day", _weekday(s.summary_weekday)),
        _input(SUMMARY_TIME, "Weekly summary time", _time(s.summary_time)),
        _input(
            KEPT_TARGET,
            "Kept-rate target (%)",
            {
                "type": "number_input",
                "is_decimal_allowed": False,
                "min_value": "1",
                "max_value": "100",
                "initial_value": str(round(s.kept_target * 100)),
            },
        ),
        _input(
            TOLERANCE,
            "Objective and budget tolerance (%)",
            {
                "type": "number_input",
                "is_decimal_allowed": False,
                "min_value": "0",
                "max_value": "100",
                "initial_value": str(s.objective_tolerance_percent),
            },
            hint="How far an objective may trail its line, or a project overspend, "
            "before Saydo calls it at risk.",
        ),
        _input(
            CURRENCY,
            "Currency of the cost ledger",
            _text(s.currency, max_length=3, multiline=False, placeholder="GBP"),
            hint="Three letters (ISO 4217): GBP, EUR, USD… Amounts already recorded keep their "
            "numbers; they are not converted.",
        ),
        _input(
            VISIBILITY,
            "Summaries show",
            {
                "type": "radio_buttons",
                "options": visibility,
                "initial_option": visibility[1 if s.summary_visibility == BY_PERSON else 0],
            },
        ),
        {"type": "header", "text": plain("Nudges")},
        _input(WORKING_DAYS, "Working days", days_element),
        _input(DAY_START, "Working day starts", _time(s.day_start)),
        _input(DAY_END, "Working day ends", _time(s.day_end)),
        _input(
            HOLIDAYS,
            "Public holidays by organisation",
            _text(holiday_lines, max_length=1000, placeholder="Northshire NHS Trust: GB"),
            optional=True,
            hint="One line per organisation: its name, a colon, and a country code "
            "(GB, IE, US, DE…) or a region (GB-ENG, GB-SCT, DE-BY…). Nudges and coffee rounds "
            "skip those holidays.",
        ),
    ]


def setup_modal(
    *,
    name: str,
    tz: str,
    charter: Charter,
    members: Sequence[MemberView],
    channel_id: str,
) -> View:
    """`/saydo setup`: the partnership and its first (or next) charter."""
    zones = list(COMMON_ZONES) if tz in COMMON_ZONES else [tz, *COMMON_ZONES]
    organisations = list(dict.fromkeys(m.organisation for m in members))
    blocks: list[Block] = [
        section(
            "Setting up makes you an admin of this partnership and adopts the charter below "
            "as agreed by you. After that, changes are agreed by every organisation."
        ),
        _input(
            NAME,
            "Partnership name",
            _text(name, max_length=MAX_NAME, multiline=False),
        ),
        _input(TZ, "Time zone", _select([(z.replace("_", " "), z) for z in zones], tz)),
        section(organisation_summary(members)),
        context("An admin changes someone's organisation with `/saydo org`."),
        *charter_inputs(charter, organisations),
    ]
    return {
        "type": "modal",
        "callback_id": SETUP_MODAL,
        "title": plain("Set up Saydo"),
        "submit": plain("Adopt"),
        "close": plain("Cancel"),
        "private_metadata": metadata({"channel": channel_id}),
        "blocks": blocks,
    }


def organisation_summary(members: Sequence[MemberView]) -> str:
    by_org: dict[str, list[str]] = {}
    for m in members:
        by_org.setdefault(m.organisation, []).append(m.person.name)
    if not by_org:
        return "*Organisations taking part*\nNobody yet: members appear as people use Saydo here."
    lines = [
        f"*{escape_mrkdwn(org)}*: {escape_mrkdwn(', '.join(names))}"
        for org, names in by_org.items()
    ]
    return shorten("*Organisations taking part*\n" + "\n".join(lines), MAX_SECTION)


def propose_modal(
    *,
    charter: Charter,
    organisations: Sequence[str],
    partnership_id: int,
    review: tuple[int, str] | None = None,
) -> View:
    """The charter as it stands, to edit into a proposal; `review` (record id, the agreed
    changes) when the proposal carries out what a quarterly review agreed."""
    data: dict[str, Any] = {"partnership": partnership_id, "base_version": charter.version}
    agreed: list[Block] = []
    if review is not None:
        data["review"] = review[0]
        agreed.append(
            section(shorten(f"*Agreed at the review*\n{escape_mrkdwn(review[1])}", MAX_SECTION))
        )
    return {
        "type": "modal",
        "callback_id": PROPOSE_MODAL,
        "title": plain("Propose a change"),
        "submit": plain("Propose"),
        "close": plain("Cancel"),
        "private_metadata": metadata(data),
        "blocks": [
            section(
                f"Editing version {charter.version}. Your proposal is posted in the channel; "
                "it is adopted once someone from every organisation agrees."
            ),
            *agreed,
            *charter_inputs(charter, organisations)[1:],
        ],
    }


# --- messages --------------------------------------------------------------------------------


def _when(at: datetime | None, tz: str) -> str:
    return at.astimezone(ZoneInfo(tz)).strftime("%a %-d %b %Y") if at else "never"


def _settings_text(charter: Charter) -> str:
    lines = [
        f"*{label}*: {escape_mrkdwn(value)}" for label, value in describe_settings(charter.settings)
    ]
    return "\n".join(lines)


def _text_section(label: str, text: str) -> Block:
    body = escape_mrkdwn(text) if text else "_Not written yet._"
    return section(shorten(f"*{label}*\n{body}", MAX_SECTION))


def charter_message(charter: Charter, *, partnership_id: int, name: str, tz: str) -> Message:
    """`/saydo charter`: the current version, who agreed it and when, and Propose a change."""
    title = f"Relationship Charter: {name}"
    if charter.version == 0:
        text = f"{title}. No charter has been agreed yet; these are the defaults."
        return {
            "text": text,
            "blocks": [
                {"type": "header", "text": plain(shorten(title, 150))},
                section(
                    "No charter has been agreed here yet, so Saydo uses its defaults. "
                    "`/saydo setup` sets up the partnership and adopts its first charter."
                ),
                section(_settings_text(charter)),
            ],
        }
    agreed = (
        f"Version {charter.version}, adopted {_when(charter.adopted_at, tz)}; "
        f"agreed by {escape_mrkdwn(charter.agreed_by)}."
    )
    return {
        "text": f"{title}, version {charter.version}",
        "blocks": [
            {"type": "header", "text": plain(shorten(title, 150))},
            context(shorten(agreed, MAX_SECTION)),
            _text_section("Purpose and shared objectives", charter.purpose),
            _text_section("Behaviours we agree to", charter.behaviours),
            _text_section("Escalation playbook", charter.escalation),
            section(_settings_text(charter)),
            {
                "type": "actions",
                "block_id": "charter_actions",
                "elements": [
                    button("Propose a change", PROPOSE, str(partnership_id), style="primary")
                ],
            },
            context("`/saydo charter history` lists every version and what changed."),
        ],
    }


def setup_announcement(
    charter: Charter, *, by: str, partnership_id: int, name: str, tz: str
) -> Message:
    """Posted in the channel when setup is submitted: who set it up, and the charter."""
    lead = f"{by} set up this partnership: charter version {charter.version} adopted."
    shown = charter_message(charter, partnership_id=partnership_id, name=name, tz=tz)
    return {"text": lead, "blocks": [section(escape_mrkdwn(lead)), *shown["blocks"]]}


def _bullets(lines: Sequence[str]) -> str:
    return "\n".join(f"• {escape_mrkdwn(line)}" for line in lines)


def proposal_message(proposal: ProposalView) -> Message:
    """A proposed change, with who has agreed; Agree and Adopt while it is open."""
    who = escape_mrkdwn(proposal.proposed_by)
    lead = f"{who} proposes changing the charter (version {proposal.base_version}):"
    blocks: list[Block] = [
        section(shorten(f"{lead}\n{_bullets(proposal.changes)}", MAX_SECTION)),
    ]
    base_fields = {
        "Purpose and shared objectives": proposal.draft.purpose,
        "Behaviours": proposal.draft.behaviours,
        "Escalation playbook": proposal.draft.escalation,
    }
    for label, text in base_fields.items():
        if any(change.startswith(label) and "cleared" not in change for change in proposal.changes):
            blocks.append(_text_section(f"Proposed {label.lower()}", text))
    agreed = ", ".join(f"{a.name} ({a.organisation})" for a in proposal.agreements) or "nobody yet"
    status = f"Agreed so far: {escape_mrkdwn(agreed)}."
    if proposal.state == "adopted":
        status += f" *Adopted as version {proposal.adopted_version}.*"
        text = f"Charter change adopted as version {proposal.adopted_version}"
    elif proposal.state == "superseded":
        status += (
            " *Superseded*: the charter changed since this was proposed. "
            "`/saydo charter` to propose again."
        )
        text = "Charter change superseded"
    else:
        waiting = ", ".join(proposal.waiting_for)
        if waiting:
            status += f" Waiting for someone from: {escape_mrkdwn(waiting)}."
        text = f"{proposal.proposed_by} proposes a change to the charter"
    blocks.append(context(shorten(status, MAX_SECTION)))
    if proposal.state == "open":
        blocks.append(
            {
                "type": "actions",
                "block_id": f"charter_proposal_{proposal.id}",
                "elements": [
                    button("Agree", AGREE, str(proposal.id), style="primary"),
                    button("Adopt now (admins)", ADOPT, str(proposal.id)),
                ],
            }
        )
    return {"text": text, "blocks": blocks}


def history_message(versions: Sequence[Charter], *, name: str, tz: str) -> Message:
    """`/saydo charter history`: every version, newest first, with what changed."""
    title = f"Charter history: {name}"
    if not versions:
        return {
            "text": f"{title}. No versions yet.",
            "blocks": [section("No charter has been agreed yet. `/saydo setup` adopts the first.")],
        }
    blocks: list[Block] = [{"type": "header", "text": plain(shorten(title, 150))}]
    for version in versions[:MAX_HISTORY]:
        head = (
            f"*Version {version.version}*, {_when(version.adopted_at, tz)}, "
            f"agreed by {escape_mrkdwn(version.agreed_by)}"
        )
        changes = [line for line in version.change_summary.splitlines() if line.strip()]
        blocks.append(section(shorten(f"{head}\n{_bullets(changes)}", MAX_SECTION)))
    if len(versions) > MAX_HISTORY:
        blocks.append(context(f"and {len(versions) - MAX_HISTORY} earlier versions."))
    return {"text": f"{title}: {len(versions)} versions", "blocks": blocks}
