"""The Relationship Charter in Slack: `/saydo setup`, `/saydo charter [history]`, the Propose a
change form, and the Agree and Adopt buttons on a proposal.

Listeners stay thin: they read the form (every field checked, problems back to the form with
`response_action: errors` before anything is saved), ask `bot.charter.service`, then talk to Slack
after the domain's transaction has committed.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import charter as forms
from bot.blocks.reviews import PROPOSE_FROM_REVIEW
from bot.charter import service as domain
from bot.charter.service import Charter, Draft, Outcome, ProposalView
from bot.commitments.service import PartnershipRef, PersonRef, get_partnership
from bot.partnerships.members import (
    DirectoryUnavailable,
    admins,
    admit_if_present,
    is_admin,
    list_members,
    make_admin,
    member,
    organisations,
    refresh_members,
)
from bot.policy.charter_settings import (
    BY_ORGANISATION,
    BY_PERSON,
    CharterSettings,
    check_country,
    check_currency,
)
from bot.refusal import Refusal
from bot.reports import reviews
from handlers import common
from handlers.saydo_command import Subcommand

logger = logging.getLogger(__name__)

IN_CHANNEL = "The charter belongs to a partnership channel: use this in the channel."
CHARTER_USAGE = "`/saydo charter` shows the charter; `/saydo charter history` lists its versions."
MAX_AHEAD = timedelta(days=2 * 366)


# --- /saydo setup and /saydo charter --------------------------------------------------------


def _setup(context: BoltContext, client: WebClient, command: dict, text: str) -> None:
    partnership = _here(context, command)
    engine = common.engine_of(context)
    actor = common.person(context, client, command["user_id"])
    _check_may_set_up(engine, partnership, actor)
    view = forms.setup_modal(
        name=partnership.name,
        tz=partnership.tz,
        charter=domain.current_charter(engine, partnership_id=partnership.id),
        members=list_members(engine, partnership_id=partnership.id),
        channel_id=partnership.channel_id,
    )
    common.open_view(client, command["trigger_id"], view)
    return None


def _charter(context: BoltContext, client: WebClient, command: dict, text: str) -> dict:
    partnership = _here(context, command)
    engine = common.engine_of(context)
    word = text.strip().lower()
    if word == "history":
        versions = domain.history(engine, partnership_id=partnership.id)
        return forms.history_message(versions, name=partnership.name, tz=partnership.tz)
    if word:
        raise Refusal(f"I don't know `charter {text.strip()}`. {CHARTER_USAGE}")
    current = domain.current_charter(engine, partnership_id=partnership.id)
    return forms.charter_message(
        current, partnership_id=partnership.id, name=partnership.name, tz=partnership.tz
    )


def _here(context: BoltContext, command: dict) -> PartnershipRef:
    if command["channel_id"].startswith("D"):
        raise Refusal(IN_CHANNEL)
    return common.partnership(context, command["channel_id"], command.get("channel_name"))


def _check_may_set_up(engine, partnership: PartnershipRef, actor: PersonRef) -> None:
    """Setup founds the partnership: anyone while there is no admin, then only admins."""
    current = admins(engine, partnership_id=partnership.id)
    if current and actor.id not in {a.person.id for a in current}:
        names = ", ".join(a.person.name for a in current)
        raise Refusal(
            f"This partnership is set up already; only its admins ({names}) can run setup "
            "again. Anyone can propose a change from `/saydo charter`."
        )


def _membership(
    context: BoltContext, client: WebClient, partnership: PartnershipRef, person: PersonRef
) -> str:
    """The person's organisation here; someone Saydo hasn't met yet joins if the channel has
    them (their workspace's name is their organisation). Nobody outside the channel takes part."""
    engine = common.engine_of(context)
    found = member(engine, partnership_id=partnership.id, person_id=person.id)
    if found is None or not found.active:
        try:
            admit_if_present(
                engine,
                common.directory_of(context),
                partnership=partnership,
                user_id=person.user_id,
                now=common.utcnow(),
            )
        except DirectoryUnavailable as error:
            logger.warning("Could not check the members: %s", error)
        found = member(engine, partnership_id=partnership.id, person_id=person.id)
    if found is None or not found.active:
        raise Refusal("Only members of this partnership's channel take part in its charter.")
    return found.organisation


# --- the setup form -------------------------------------------------------------------------


def handle_setup_submission(
    ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext
) -> None:
    engine = common.engine_of(context)
    meta = forms.read_metadata(view.get("private_metadata"))
    values = view["state"]["values"]
    errors: dict[str, str] = {}
    name = " ".join((common.input_value(values, forms.NAME) or "").split())
    if not name:
        errors[forms.NAME[0]] = "Please give the partnership a name."
    elif len(name) > domain.MAX_NAME:
        errors[forms.NAME[0]] = f"Please keep the name under {domain.MAX_NAME} characters."
    tz = _selected(values, forms.TZ) or ""
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        errors[forms.TZ[0]] = "Please choose a time zone from the list."
        tz = "UTC"
    channel_id = str(meta.get("channel") or "")
    partnership = None
    if channel_id:
        partnership = common.partnership(context, channel_id)
    current = (
        domain.current_charter(engine, partnership_id=partnership.id)
        if partnership
        else domain.DEFAULT_CHARTER
    )
    draft = read_draft(values, current, tz=tz, now=common.utcnow(), errors=errors)
    if partnership is None:
        errors[forms.NAME[0]] = "I lost track of which channel this was. Please run setup again."
    if errors or draft is None or partnership is None:
        ack(response_action="errors", errors=errors)
        return
    try:
        actor = common.person(context, client, body["user"]["id"])
        _check_may_set_up(engine, partnership, actor)
        organisation = _membership(context, client, partnership, actor)
        if not is_admin(engine, partnership_id=partnership.id, person_id=actor.id):
            make_admin(
                engine,
                partnership_id=partnership.id,
                actor_person_id=actor.id,
                person_id=actor.id,
            )
        adopted = domain.setup(
            engine,
            partnership_id=partnership.id,
            actor=actor,
            agreed_by=f"{actor.name} ({organisation})",
            name=name,
            tz=tz,
            draft=draft,
            now=common.utcnow(),
        )
    except Refusal as error:
        ack(response_action="errors", errors={forms.NAME[0]: str(error)})
        return
    ack()
    # Record who else is in the channel, so their organisations count from the first change.
    try:
        refresh_members(
            engine, common.directory_of(context), partnership=partnership, now=common.utcnow()
        )
    except DirectoryUnavailable as error:
        logger.warning("Member refresh after setup failed: %s", error)
    announcement = forms.setup_announcement(
        adopted, by=actor.name, partnership_id=partnership.id, name=name, tz=tz
    )
    _post(client, partnership.channel_id, actor.user_id, announcement)


# --- proposing a change ---------------------------------------------------------------------


def handle_propose_button(
    ack: Ack, body: dict, action: dict, client: WebClient, context: BoltContext, respond: Respond
) -> None:
    ack()
    engine = common.engine_of(context)
    partnership = _partnership_by_id(context, action.get("value"))
    if partnership is None:
        respond(**common.refusal("I can't find that partnership any more."))
        return
    current = domain.current_charter(engine, partnership_id=partnership.id)
    if current.version == 0:
        respond(**common.refusal("There is no charter yet: start with `/saydo setup`."))
        return
    view = forms.propose_modal(
        charter=current,
        organisations=organisations(engine, partnership_id=partnership.id),
        partnership_id=partnership.id,
    )
    common.open_view(client, body["trigger_id"], view)


def handle_propose_from_review(
    ack: Ack, body: dict, action: dict, client: WebClient, context: BoltContext, respond: Respond
) -> None:
    """ "Propose these charter changes" on a recorded review: the Propose form, with what the
    review agreed shown above the charter to edit."""
    ack()
    engine = common.engine_of(context)
    partnership_value, _, record_value = str(action.get("value") or "").partition(":")
    partnership = _partnership_by_id(context, partnership_value)
    record = None
    if partnership is not None and record_value.isdigit():
        record = reviews.get_record(
            engine, partnership_id=partnership.id, record_id=int(record_value)
        )
    if partnership is None or record is None:
        respond(**common.refusal("I can't find that review any more."))
        return
    if record.proposal_id is not None:
        respond(**common.refusal("Those changes have already been proposed."))
        return
    current = domain.current_charter(engine, partnership_id=partnership.id)
    if current.version == 0:
        respond(**common.refusal("There is no charter yet: start with `/saydo setup`."))
        return
    view = forms.propose_modal(
        charter=current,
        organisations=organisations(engine, partnership_id=partnership.id),
        partnership_id=partnership.id,
        review=(record.id, record.charter_changes),
    )
    common.open_view(client, body["trigger_id"], view)


def handle_propose_submission(
    ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext
) -> None:
    engine = common.engine_of(context)
    meta = forms.read_metadata(view.get("private_metadata"))
    partnership = _partnership_by_id(context, meta.get("partnership"))
    if partnership is None:
        ack(response_action="errors", errors={forms.PURPOSE[0]: "I lost track of this charter."})
        return
    current = domain.current_charter(engine, partnership_id=partnership.id)
    errors: dict[str, str] = {}
    values = view["state"]["values"]
    draft = read_draft(values, current, tz=partnership.tz, now=common.utcnow(), errors=errors)
    if errors or draft is None:
        ack(response_action="errors", errors=errors)
        return
    try:
        actor = common.person(context, client, body["user"]["id"])
        organisation = _membership(context, client, partnership, actor)
        outcome = domain.propose(
            engine,
            partnership_id=partnership.id,
            proposer=actor,
            organisation=organisation,
            base_version=int(meta.get("base_version", -1)),
            draft=draft,
            organisations=organisations(engine, partnership_id=partnership.id),
            now=common.utcnow(),
        )
    except Refusal as error:
        ack(response_action="errors", errors={forms.PURPOSE[0]: str(error)})
        return
    ack()
    proposal = outcome.proposal
    if str(meta.get("review", "")).isdigit():
        reviews.link_proposal(engine, record_id=int(meta["review"]), proposal_id=proposal.id)
    try:
        posted = client.chat_postMessage(
            channel=partnership.channel_id, **forms.proposal_message(proposal)
        )
    except SlackApiError as error:
        logger.warning("Could not post proposal to %s: %s", partnership.channel_id, error)
        common.direct_message(client, actor.user_id, forms.proposal_message(proposal))
    else:
        domain.record_message(
            engine,
            proposal_id=proposal.id,
            channel_id=posted.get("channel") or partnership.channel_id,
            message_ts=posted["ts"],
        )
    _update_superseded(client, outcome)


# --- Agree and Adopt ------------------------------------------------------------------------


def handle_agree(
    ack: Ack, body: dict, action: dict, client: WebClient, context: BoltContext, respond: Respond
) -> None:
    ack()
    _decide(body, action, client, context, respond, adopt=False)


def handle_adopt(
    ack: Ack, body: dict, action: dict, client: WebClient, context: BoltContext, respond: Respond
) -> None:
    ack()
    _decide(body, action, client, context, respond, adopt=True)


def _decide(
    body: dict,
    action: dict,
    client: WebClient,
    context: BoltContext,
    respond: Respond,
    *,
    adopt: bool,
) -> None:
    engine = common.engine_of(context)
    value = str(action.get("value") or "")
    try:
        if not value.isdigit():
            raise Refusal("I lost track of which proposal this was.")
        proposal = domain.get_proposal(engine, proposal_id=int(value))
        partnership = _partnership_by_id(context, proposal.partnership_id)
        if partnership is None:
            raise Refusal("I can't find that charter proposal any more.")
        actor = common.person(context, client, body["user"]["id"])
        organisation = _membership(context, client, partnership, actor)
        orgs = organisations(engine, partnership_id=partnership.id)
        if adopt:
            if not is_admin(engine, partnership_id=partnership.id, person_id=actor.id):
                names = ", ".join(
                    a.person.name for a in admins(engine, partnership_id=partnership.id)
                )
                raise Refusal(
                    "Only an admin can adopt a change without waiting"
                    + (f" ({names})" if names else "")
                    + ". Press Agree to add your organisation's agreement."
                )
            outcome = domain.adopt(
                engine,
                proposal_id=proposal.id,
                actor=actor,
                organisation=organisation,
                organisations=orgs,
                now=common.utcnow(),
            )
        else:
            outcome = domain.agree(
                engine,
                proposal_id=proposal.id,
                person=actor,
                organisation=organisation,
                organisations=orgs,
                now=common.utcnow(),
            )
    except Refusal as error:
        respond(**common.refusal(str(error)))
        return
    _update(client, outcome.proposal, body)
    _update_superseded(client, outcome)
    respond(**common.refusal(_outcome_text(outcome)))


def _outcome_text(outcome: Outcome) -> str:
    proposal = outcome.proposal
    if outcome.adopted is not None:
        return f"Adopted: the charter is now version {outcome.adopted.version}."
    if proposal.state == domain.SUPERSEDED:
        return (
            "This proposal was overtaken: the charter changed since it was made. "
            "Open `/saydo charter` to propose it again."
        )
    waiting = ", ".join(proposal.waiting_for)
    lead = "You had already agreed." if outcome.already_agreed else "Thanks, your agreement is in."
    return f"{lead} Waiting for someone from: {waiting}." if waiting else lead


def _update(client: WebClient, proposal: ProposalView, body: dict | None = None) -> None:
    """Re-render the proposal message where it was posted."""
    channel = proposal.channel_id or ((body or {}).get("channel") or {}).get("id")
    ts = proposal.message_ts or ((body or {}).get("message") or {}).get("ts")
    if not channel or not ts:
        return
    try:
        client.chat_update(channel=channel, ts=ts, **forms.proposal_message(proposal))
    except SlackApiError as error:
        logger.warning("Could not update proposal %s: %s", proposal.id, error.response.get("error"))


def _update_superseded(client: WebClient, outcome: Outcome) -> None:
    for proposal in outcome.superseded:
        _update(client, proposal)


# --- reading the charter form ---------------------------------------------------------------


def read_draft(
    values: dict, current: Charter, *, tz: str, now: datetime, errors: dict[str, str]
) -> Draft | None:
    """The charter the form describes; each problem goes into `errors` under its block id."""
    old = current.settings

    def choice(field: tuple[str, str], low: int, high: int, message: str) -> int | None:
        raw = _selected(values, field)
        if raw is None or not str(raw).lstrip("-").isdigit() or not low <= int(raw) <= high:
            errors[field[0]] = message
            return None
        return int(raw)

    def clock(field: tuple[str, str]) -> time | None:
        raw = common.input_value(values, field, "selected_time")
        try:
            return time.fromisoformat(raw) if raw else None
        except ValueError:
            pass
        errors[field[0]] = "Please pick a time."
        return None

    every = choice(forms.COFFEE_EVERY, 1, 8, "Coffee rounds can be every 1 to 8 weeks.")
    coffee_day = choice(forms.COFFEE_DAY, 0, 6, "Please choose a day.")
    coffee_time = clock(forms.COFFEE_TIME)
    if coffee_time is None:
        errors[forms.COFFEE_TIME[0]] = "Please pick a time for coffee rounds."
    review_every = choice(forms.REVIEW_EVERY, 1, 12, "Reviews can be every 1 to 12 months.")
    summary_day = choice(forms.SUMMARY_DAY, 0, 6, "Please choose a day.")
    summary_time = clock(forms.SUMMARY_TIME)
    if summary_time is None:
        errors[forms.SUMMARY_TIME[0]] = "Please pick a time for the weekly summary."

    first_review = None
    raw_review = common.input_value(values, forms.FIRST_REVIEW, "selected_date")
    if raw_review:
        try:
            first_review = date.fromisoformat(raw_review)
        except ValueError:
            errors[forms.FIRST_REVIEW[0]] = "Please pick a date."
        else:
            today = now.astimezone(ZoneInfo(tz)).date()
            if first_review != old.first_review_date:  # an agreed past date may stand
                if first_review < today:
                    errors[forms.FIRST_REVIEW[0]] = "That date is already in the past."
                elif first_review > today + MAX_AHEAD:
                    errors[forms.FIRST_REVIEW[0]] = "Please pick a date within two years."

    target = None
    raw_target = str(common.input_value(values, forms.KEPT_TARGET) or "").strip().rstrip("%")
    if raw_target.isdigit() and 1 <= int(raw_target) <= 100:
        target = int(raw_target) / 100
    else:
        errors[forms.KEPT_TARGET[0]] = "The target is a whole percentage from 1 to 100."

    # A form opened before this setting existed keeps the current tolerance.
    raw_tolerance = str(
        common.input_value(values, forms.TOLERANCE) or old.objective_tolerance_percent
    )
    raw_tolerance = raw_tolerance.strip().rstrip("%")
    if not (raw_tolerance.isdigit() and 0 <= int(raw_tolerance) <= 100):
        errors[forms.TOLERANCE[0]] = "The tolerance is a whole percentage from 0 to 100."

    # Likewise the currency (ISO 4217; GBP by default).
    currency = old.currency
    try:
        currency = check_currency(common.input_value(values, forms.CURRENCY) or old.currency)
    except ValueError as error:
        errors[forms.CURRENCY[0]] = str(error)

    visibility = _selected(values, forms.VISIBILITY)
    if visibility not in (BY_ORGANISATION, BY_PERSON):
        errors[forms.VISIBILITY[0]] = "Please choose what summaries show."

    chosen_days = common.input_value(values, forms.WORKING_DAYS, "selected_options") or []
    days = sorted({int(o["value"]) for o in chosen_days if str(o.get("value")).isdigit()})
    days = [d for d in days if 0 <= d <= 6]
    if not days:
        errors[forms.WORKING_DAYS[0]] = "Please choose at least one working day."
    start, end = clock(forms.DAY_START), clock(forms.DAY_END)
    if start is not None and end is not None and start >= end:
        errors[forms.DAY_END[0]] = "The working day must end after it starts."

    calendars = read_calendars(common.input_value(values, forms.HOLIDAYS) or "", errors)

    texts = {}
    for field in (forms.PURPOSE, forms.BEHAVIOURS, forms.ESCALATION):
        text = (common.input_value(values, field) or "").strip()
        if len(text) > domain.MAX_TEXT:
            errors[field[0]] = f"Please keep it under {domain.MAX_TEXT} characters."
        texts[field] = text
    correction = bool(common.input_value(values, forms.COURSE_CORRECTION, "selected_options"))

    if errors:
        return None
    nudge_time = old.nudge_time if start <= old.nudge_time < end else start
    settings = CharterSettings(
        coffee_cadence_weeks=every,
        coffee_weekday=coffee_day,
        coffee_time=coffee_time,
        first_review_date=first_review,
        review_cadence_months=review_every,
        summary_weekday=summary_day,
        summary_time=summary_time,
        kept_target=target,
        summary_visibility=visibility,
        working_days=tuple(days),
        day_start=start,
        day_end=end,
        nudge_time=nudge_time,
        overdue_working_days=old.overdue_working_days,
        max_overdue=old.max_overdue,
        holiday_calendars=calendars,
        course_correction=correction,
        objective_tolerance_percent=int(raw_tolerance),
        currency=currency,
    )
    return Draft(texts[forms.PURPOSE], texts[forms.BEHAVIOURS], texts[forms.ESCALATION], settings)


def read_calendars(text: str, errors: dict[str, str]) -> dict[str, str]:
    """`Organisation: GB` lines -> {organisation: country}; a blank code means none."""
    calendars: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        organisation, colon, code = line.rpartition(":")
        organisation = " ".join(organisation.split())
        if not colon or not organisation:
            errors[forms.HOLIDAYS[0]] = (
                f"Line {number}: write the organisation, a colon and a country code, "
                "e.g. `Northshire NHS Trust: GB`."
            )
            continue
        if not code.strip():
            continue
        try:
            calendars[organisation] = check_country(code)
        except ValueError as error:
            errors[forms.HOLIDAYS[0]] = (
                f"Line {number}: {error}. Use a two-letter country code such as GB, IE or US, "
                "or a region such as GB-ENG."
            )
    return calendars


# --- helpers --------------------------------------------------------------------------------


def _selected(values: dict, field: tuple[str, str]) -> str | None:
    option = common.input_value(values, field, "selected_option") or {}
    return option.get("value")


def _partnership_by_id(context: BoltContext, value) -> PartnershipRef | None:
    """A partnership of this workspace (ids from buttons and forms are never trusted alone)."""
    if not str(value or "").isdigit():
        return None
    return get_partnership(
        common.engine_of(context), team_id=common.workspace_id(context), partnership_id=int(value)
    )


def _post(client: WebClient, channel: str, fallback_user: str, message: dict) -> None:
    try:
        client.chat_postMessage(channel=channel, **message)
    except SlackApiError as error:
        logger.warning("Could not post to %s: %s", channel, error.response.get("error"))
        common.direct_message(client, fallback_user, message)


# `/saydo <name>` subcommands this module answers (collected by `handlers.register_all`).
SUBCOMMANDS: dict[str, Subcommand] = {
    "setup": _setup,
    "charter": _charter,
}


def register(app: App) -> None:
    app.view(forms.SETUP_MODAL)(handle_setup_submission)
    app.view(forms.PROPOSE_MODAL)(handle_propose_submission)
    app.action(forms.PROPOSE)(common.opens_form(handle_propose_button))
    app.action(PROPOSE_FROM_REVIEW)(common.opens_form(handle_propose_from_review))
    app.action(forms.AGREE)(handle_agree)
    app.action(forms.ADOPT)(handle_adopt)
