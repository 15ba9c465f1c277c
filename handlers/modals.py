"""Modals: the commitment form (`/commit` with no text, the "Make this a commitment" message
shortcut) and the small forms behind Mark delivered, New date, Propose another date and Not yet.

Listeners stay thin: they read the form, ask the domain (`bot.commitments.service`), and answer.
Field problems go back to the form (`response_action: errors`) before anything is saved; Slack calls
(messages, notifications) happen after the domain's transaction has committed."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine

from bot.blocks import commitments as messages
from bot.blocks import ids
from bot.blocks import modals as forms
from bot.commitments.due_dates import MAX_AHEAD, describe_due
from bot.commitments.grammar import MAX_TITLE
from bot.commitments.lifecycle import EventKind, Status
from bot.commitments.service import (
    CommitmentView,
    PartnershipRef,
    PersonRef,
    change_commitment,
    check_allowed,
    due_from_picker,
    log_commitment,
    not_found,
    parse_ref,
    visible_by_ref,
)
from bot.partnerships.members import partnerships_of
from bot.refusal import Refusal
from bot.text import has_visible, unescape_slack
from handlers import common, notify

logger = logging.getLogger(__name__)

NO_PARTNERSHIPS = (
    "There are no partnerships yet. Use Saydo in a partnership channel first "
    "(for example `/commit` there), then you can log commitments from here too."
)
LOST_TRACK = "I lost track of which commitment this was. Please press the button again."
NOT_A_PERSON = "Please choose a person: bots and deactivated accounts can't make commitments."


# --- the commitment form -------------------------------------------------------------------


def open_create_modal(
    client: WebClient,
    context: BoltContext,
    *,
    trigger_id: str,
    user_id: str,
    channel_id: str,
    title: str | None = None,
    channel_name: str | None = None,
) -> None:
    """Open the commitment form for `/commit` (no text, or any text in a DM with Saydo)."""
    _open_form(
        client,
        context,
        trigger_id=trigger_id,
        user_id=user_id,
        channel_id=channel_id,
        channel_name=channel_name,
        title=title,
    )


def handle_make_commitment(
    ack: Ack, shortcut: dict, client: WebClient, context: BoltContext
) -> None:
    """The message shortcut: the form prefilled with the message, linked back to it."""
    ack()
    channel = shortcut.get("channel") or {}
    message = shortcut.get("message") or {}
    channel_id = channel.get("id") or ""
    message_ts = message.get("ts")
    permalink = None
    if channel_id and message_ts:
        try:
            permalink = client.chat_getPermalink(channel=channel_id, message_ts=message_ts)[
                "permalink"
            ]
        except SlackApiError as error:
            logger.warning(
                "No permalink for %s/%s: %s", channel_id, message_ts, common.error_code(error)
            )
    text = message.get("text") or ""
    _open_form(
        client,
        context,
        trigger_id=shortcut["trigger_id"],
        user_id=shortcut["user"]["id"],
        channel_id=channel_id,
        channel_name=channel.get("name"),
        title=" ".join(readable(text).split()) or None,
        source_text=forms.shorten(text, forms.MAX_SOURCE_TEXT) if text else None,
        permalink=permalink,
        thread_ts=message.get("thread_ts") or message_ts,
    )


def _open_form(
    client: WebClient,
    context: BoltContext,
    *,
    trigger_id: str,
    user_id: str,
    channel_id: str,
    channel_name: str | None,
    title: str | None,
    source_text: str | None = None,
    permalink: str | None = None,
    thread_ts: str | None = None,
) -> None:
    in_dm = not channel_id or channel_id.startswith("D")
    partnerships = None
    if in_dm:
        partnerships = partnerships_of(
            common.engine_of(context), team_id=common.workspace_id(context), user_id=user_id
        )
        if not partnerships:
            common.direct_message(client, user_id, messages.problem(NO_PARTNERSHIPS))
            return
    metadata = forms.encode_metadata(
        {
            "channel": None if in_dm else channel_id,
            "channel_name": None if in_dm else channel_name,
            "thread_ts": None if in_dm else thread_ts,
            "permalink": permalink,
            "source_text": source_text,
        }
    )
    view = forms.create_modal(
        owner_id=user_id,
        metadata=metadata,
        title=title,
        partnerships=partnerships,
        source_permalink=permalink,
    )
    common.open_view(client, trigger_id, view)


def handle_create_submission(
    ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext
) -> None:
    meta = forms.decode_metadata(view.get("private_metadata"))
    values = _values(view)
    engine = common.engine_of(context)
    now = common.utcnow()
    errors: dict[str, str] = {}

    title = " ".join((common.input_value(values, forms.TITLE) or "").split())
    if not has_visible(title):
        errors[forms.TITLE[0]] = "Please say what will be done."
    elif len(title) > MAX_TITLE:
        errors[forms.TITLE[0]] = (
            f"Please keep it under {MAX_TITLE} characters; you wrote {len(title)}."
        )

    owner = _person_field(context, client, values, forms.OWNER, errors, required=True)
    recipient = _person_field(context, client, values, forms.RECIPIENT, errors)
    due = _due_field(values, owner.tz, now, errors) if owner else None

    partnership: PartnershipRef | None = None
    if not meta.get("channel"):
        chosen = common.input_value(values, forms.PARTNERSHIP, "selected_option") or {}
        mine = partnerships_of(
            engine, team_id=common.workspace_id(context), user_id=body["user"]["id"]
        )
        partnership = next((p for p in mine if str(p.id) == chosen.get("value")), None)
        if partnership is None:
            errors[forms.PARTNERSHIP[0]] = "Please choose one of the partnerships."

    creator = None
    if not errors:
        try:
            creator = common.person(context, client, body["user"]["id"])
        except Refusal as error:
            errors[forms.TITLE[0]] = str(error)
    if errors or owner is None or due is None or creator is None:
        ack(response_action="errors", errors=errors)
        return

    notes = (common.input_value(values, forms.NOTES) or "").strip() or None
    try:
        if partnership is None:  # Made in a channel: it becomes a partnership on first use.
            partnership = common.partnership(context, meta["channel"], meta.get("channel_name"))
        result = log_commitment(
            engine,
            partnership=partnership,
            creator=creator,
            owner=owner,
            recipient=recipient,
            title=title,
            due_at=due[0],
            has_time=due[1],
            now=now,
            notes=notes,
            # The message it came from (a form alone has none). Note the domain treats the
            # same source text from the same person within a minute as a duplicate.
            source_text=meta.get("source_text"),
            source_permalink=meta.get("permalink"),
        )
    except Refusal as error:
        ack(response_action="errors", errors={forms.TITLE[0]: str(error)})
        return
    ack()

    commitment = result.commitment
    if result.duplicate:
        common.direct_message(
            client,
            creator.user_id,
            messages.confirmation(commitment, duplicate=True, now=common.utcnow()),
        )
        return
    if not common.post_logged(context, client, commitment, thread_ts=meta.get("thread_ts")):
        # e.g. Saydo isn't in that channel: tell the creator instead
        common.direct_message(
            client, creator.user_id, messages.confirmation(commitment, now=common.utcnow())
        )
    notify.logged(client, common.engine_of(context), commitment)


def _person_field(
    context: BoltContext,
    client: WebClient,
    values: dict,
    field: tuple[str, str],
    errors: dict[str, str],
    *,
    required: bool = False,
) -> PersonRef | None:
    user_id = common.input_value(values, field, "selected_user")
    if not user_id:
        if required:
            errors[field[0]] = "Please choose who will do it."
        return None
    try:
        return common.person(context, client, user_id)
    except Refusal:
        errors[field[0]] = NOT_A_PERSON
        return None


def _due_field(
    values: dict,
    tz: str,
    now: datetime,
    errors: dict[str, str],
    *,
    current: datetime | None = None,
) -> tuple[datetime, bool] | None:
    """The date (and optional time) pickers as a UTC instant in `tz`, or a field error."""
    day = common.input_value(values, forms.DUE_DATE, "selected_date")
    clock = common.input_value(values, forms.DUE_TIME, "selected_time")
    if not day:
        errors[forms.DUE_DATE[0]] = "Please pick a date."
        return None
    try:
        due_at, has_time = due_from_picker(day, clock, tz)
    except ValueError:
        errors[forms.DUE_DATE[0]] = "I couldn't read that date; please pick it again."
        return None
    today = now.astimezone(ZoneInfo(tz)).date()
    when = describe_due(due_at, tz=tz, has_time=has_time)
    if due_at <= now:
        # Today with a time that has passed is the time's fault; an earlier day the date's.
        field = forms.DUE_TIME if clock and date.fromisoformat(day) >= today else forms.DUE_DATE
        errors[field[0]] = f"That's already in the past ({when}); please pick a later one."
        return None
    if due_at.astimezone(ZoneInfo(tz)).date() > today + MAX_AHEAD:
        errors[forms.DUE_DATE[0]] = (
            f"That's more than two years away ({when}); due dates can be at most two years ahead."
        )
        return None
    if current is not None and due_at == current:
        errors[forms.DUE_DATE[0]] = f"That's the date it already has ({when})."
        return None
    return due_at, has_time


# --- buttons that open a small form --------------------------------------------------------


def handle_deliver_button(
    ack: Ack, body: dict, client: WebClient, context: BoltContext, respond: Respond
) -> None:
    ack()
    _open_change_form(
        body, client, context, respond, EventKind.DELIVERED, forms.deliver_modal, mode=None
    )


def handle_new_date_button(
    ack: Ack, body: dict, client: WebClient, context: BoltContext, respond: Respond
) -> None:
    ack()
    _open_change_form(body, client, context, respond, EventKind.MOVED, _move_form, forms.MOVE)


def handle_propose_date_button(
    ack: Ack, body: dict, client: WebClient, context: BoltContext, respond: Respond
) -> None:
    ack()
    _open_change_form(body, client, context, respond, EventKind.MOVED, _move_form, forms.PROPOSE)


def handle_not_yet_button(
    ack: Ack, body: dict, client: WebClient, context: BoltContext, respond: Respond
) -> None:
    ack()
    _open_change_form(
        body, client, context, respond, EventKind.DISPUTED, forms.dispute_modal, mode=None
    )


def _move_form(commitment: CommitmentView, *, metadata: str, mode: str) -> dict:
    return forms.move_modal(commitment, metadata=metadata, mode=mode)


def _open_change_form(
    body: dict,
    client: WebClient,
    context: BoltContext,
    respond: Respond,
    kind: EventKind,
    build: Callable[..., dict],
    mode: str | None,
) -> None:
    """Check the clicker may do this now, then open the form; else a polite refusal."""
    clicker = body["user"]["id"]
    value = str(((body.get("actions") or [{}])[0] or {}).get("value") or "")
    commitment = None
    engine = common.engine_of(context)
    ref = parse_ref(value)
    if ref is not None:
        commitment = visible_by_ref(
            engine, team_id=common.workspace_id(context), ref=ref, viewer_user_id=clicker
        )
    refusal = _may_not(engine, commitment, value, clicker, kind, mode)
    if refusal is not None:
        _refuse(body, client, respond, clicker, refusal)
        return
    assert commitment is not None
    container = body.get("container") or {}
    if container.get("channel_id") == commitment.partnership.channel_id and not container.get(
        "is_ephemeral"
    ):  # clicked on Saydo's message about it in the channel: now Saydo knows where that is
        common.remember_channel_message(context, commitment, container.get("message_ts"))
    metadata = forms.encode_metadata(
        {
            "ref": commitment.ref,
            "mode": mode,
            "channel": container.get("channel_id"),
            "message_ts": container.get("message_ts"),
        }
    )
    extra = {"mode": mode} if mode else {}
    common.open_view(client, body["trigger_id"], build(commitment, metadata=metadata, **extra))


def _may_not(
    engine: Engine,
    commitment: CommitmentView | None,
    value: str,
    clicker: str,
    kind: EventKind,
    mode: str | None,
) -> str | None:
    """Why `clicker` can't do this now (the domain's own rules, checked before the form)."""
    if commitment is None:
        return str(not_found(value))
    if mode == forms.PROPOSE and commitment.status != Status.PROPOSED:
        return f"Commitment {commitment.ref} isn't waiting for your answer any more."
    try:
        check_allowed(engine, commitment, user_id=clicker, kind=kind)
    except Refusal as error:
        return str(error)
    return None


def _refuse(body: dict, client: WebClient, respond: Respond, user_id: str, text: str) -> None:
    """Only the clicker sees it: through the action's response_url, else their DM."""
    if body.get("response_url"):
        respond(**common.refusal(text))
    else:
        common.direct_message(client, user_id, messages.problem(text))


# --- submissions of the small forms --------------------------------------------------------


def handle_deliver_submission(
    ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext
) -> None:
    meta = forms.decode_metadata(view.get("private_metadata"))
    evidence = (common.input_value(_values(view), forms.EVIDENCE) or "").strip() or None
    try:
        actor = common.person(context, client, body["user"]["id"])
        commitment = _change(context, meta, actor, EventKind.DELIVERED, note=evidence)
    except Refusal as error:
        ack(response_action="errors", errors={forms.EVIDENCE[0]: str(error)})
        return
    ack()
    common.direct_message(
        client, actor.user_id, messages.changed(commitment, "Delivered, thank you:")
    )
    notify.delivered(client, common.engine_of(context), commitment)


def handle_move_submission(
    ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext
) -> None:
    meta = forms.decode_metadata(view.get("private_metadata"))
    values = _values(view)
    propose = meta.get("mode") == forms.PROPOSE
    reason = (common.input_value(values, forms.REASON) or "").strip() or None
    now = common.utcnow()
    errors: dict[str, str] = {}
    try:
        actor = common.person(context, client, body["user"]["id"])
        current = _current(context, meta, actor)
        due = _due_field(values, actor.tz, now, errors, current=current.due_at)
        if due is None:
            ack(response_action="errors", errors=errors)
            return
        commitment = _change(
            context, meta, actor, EventKind.MOVED, due_at=due[0], has_time=due[1], note=reason
        )
        if propose:  # The owner commits to the date they proposed.
            commitment = _change(context, meta, actor, EventKind.ACCEPTED)
    except Refusal as error:
        ack(response_action="errors", errors={forms.DUE_DATE[0]: str(error)})
        return
    ack()
    if propose:
        _reply(client, meta, actor, messages.changed(commitment, "You accepted, for a new date:"))
        notify.proposal_answered(
            client, common.engine_of(context), commitment, "proposed another date and accepted"
        )
    else:
        common.direct_message(client, actor.user_id, messages.changed(commitment, "New date for"))
        notify.changed_for_recipient(
            client, common.engine_of(context), commitment, actor, "New date for"
        )


def handle_dispute_submission(
    ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext
) -> None:
    meta = forms.decode_metadata(view.get("private_metadata"))
    note = (common.input_value(_values(view), forms.DISPUTE_NOTE) or "").strip() or None
    try:
        actor = common.person(context, client, body["user"]["id"])
        commitment = _change(context, meta, actor, EventKind.DISPUTED, note=note)
    except Refusal as error:
        ack(response_action="errors", errors={forms.DISPUTE_NOTE[0]: str(error)})
        return
    ack()
    answer = messages.changed(commitment, "Thanks, I've told the owner it hasn't arrived yet:")
    _reply(client, meta, actor, answer)
    notify.delivery_judged(client, common.engine_of(context), commitment, received=False, note=note)


def _ref_of(meta: dict) -> int:
    ref = parse_ref(meta.get("ref"))
    if ref is None:
        raise Refusal(LOST_TRACK)
    return ref


def _current(context: BoltContext, meta: dict, viewer: PersonRef) -> CommitmentView:
    ref = _ref_of(meta)
    commitment = visible_by_ref(
        common.engine_of(context),
        team_id=common.workspace_id(context),
        ref=ref,
        viewer_user_id=viewer.user_id,
    )
    if commitment is None:
        raise not_found(ref)
    return commitment


def _change(
    context: BoltContext,
    meta: dict,
    actor: PersonRef,
    kind: EventKind,
    *,
    due_at: datetime | None = None,
    has_time: bool | None = None,
    note: str | None = None,
) -> CommitmentView:
    return change_commitment(
        common.engine_of(context),
        team_id=common.workspace_id(context),
        ref=_ref_of(meta),
        actor=actor,
        kind=kind,
        now=common.utcnow(),
        due_at=due_at,
        has_time=has_time,
        note=note,
    )


def _reply(client: WebClient, meta: dict, actor: PersonRef, message: dict) -> None:
    """Answer in place of the message whose button opened the form (its buttons are spent),
    or in the actor's DM when that message can't be updated."""
    channel, ts = meta.get("channel"), meta.get("message_ts")
    if channel and ts:
        try:
            client.chat_update(channel=channel, ts=ts, **message)
            return
        except SlackApiError as error:
            logger.warning("Could not update %s/%s: %s", channel, ts, common.error_code(error))
    common.direct_message(client, actor.user_id, message)


# --- plumbing ------------------------------------------------------------------------------

_LINK = re.compile(r"<(?P<target>[^<>|]+)(?:\|(?P<label>[^<>]*))?>")


def readable(text: str) -> str:
    """A message's text as a person reads it: links as their labels (or addresses), channels
    as #name, and Slack's `&amp;`/`&lt;`/`&gt;` unescaped. Mentions stay as they are."""

    def replace(match: re.Match[str]) -> str:
        target, label = match["target"], match["label"]
        if target.startswith(("@", "!")):
            return match[0]
        if target.startswith("#"):
            return f"#{label}" if label else target
        return label or target

    return unescape_slack(_LINK.sub(replace, text))


def _values(view: dict) -> dict:
    """The submitted inputs, `{}` when Slack (or anyone signing as it) sent none."""
    return (view.get("state") or {}).get("values") or {}


def register(app: App) -> None:
    app.shortcut(ids.MAKE_COMMITMENT_SHORTCUT)(common.opens_form(handle_make_commitment))
    app.action(ids.DELIVER)(common.opens_form(handle_deliver_button))
    app.action(ids.NEW_DATE)(common.opens_form(handle_new_date_button))
    app.action(ids.PROPOSE_DATE)(common.opens_form(handle_propose_date_button))
    app.action(ids.NOT_YET)(common.opens_form(handle_not_yet_button))
    app.view(ids.CREATE_MODAL)(handle_create_submission)
    app.view(ids.DELIVER_MODAL)(handle_deliver_submission)
    app.view(ids.MOVE_MODAL)(handle_move_submission)
    app.view(ids.DISPUTE_MODAL)(handle_dispute_submission)
