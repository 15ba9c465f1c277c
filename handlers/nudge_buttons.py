"""Buttons on a nudge: Snooze one day, and Can't deliver (which asks why, then withdraws it)."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.blocks import commitments as messages
from bot.blocks import ids
from bot.blocks import nudges as nudge_messages
from bot.blocks.modals import decode_metadata
from bot.commitments.due_dates import describe_due
from bot.commitments.lifecycle import EventKind
from bot.commitments.nudges import snooze
from bot.commitments.service import change_commitment, parse_ref, visible_by_ref
from bot.refusal import Refusal
from handlers import common, notify
from handlers.modals import LOST_TRACK


def handle_snooze(
    ack: Ack, body: dict, client: WebClient, context: BoltContext, respond: Respond
) -> None:
    ack()
    try:
        actor = common.person(context, client, body["user"]["id"])
        at = snooze(
            common.engine_of(context),
            team_id=common.workspace_id(context),
            ref=common.button_ref(body),
            actor=actor,
            now=common.utcnow(),
        )
    except Refusal as error:
        respond(**common.refusal(str(error)))
        return
    when = describe_due(at, tz=actor.tz, has_time=True)
    respond(**common.refusal(f"Snoozed. I'll remind you again {when}. The due date stays."))


def handle_cant_deliver(
    ack: Ack, body: dict, client: WebClient, context: BoltContext, respond: Respond
) -> None:
    ack()
    ref = parse_ref(((body.get("actions") or [{}])[0] or {}).get("value"))
    commitment = (
        visible_by_ref(
            common.engine_of(context),
            team_id=common.workspace_id(context),
            ref=ref,
            viewer_user_id=body["user"]["id"],
        )
        if ref is not None
        else None
    )
    if commitment is None or commitment.owner.user_id != body["user"]["id"]:
        respond(**common.refusal("Only the owner can withdraw this commitment."))
        return
    client.views_open(
        trigger_id=body["trigger_id"], view=nudge_messages.cant_deliver_modal(commitment)
    )


def handle_cant_deliver_submitted(
    ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext
) -> None:
    block_id, action_id = nudge_messages.CANT_DELIVER_REASON
    values = (view.get("state") or {}).get("values") or {}
    reason = (((values.get(block_id) or {}).get(action_id) or {}).get("value") or "").strip()
    ref = parse_ref(decode_metadata(view.get("private_metadata")).get("ref"))
    try:
        if ref is None:
            raise Refusal(LOST_TRACK)
        actor = common.person(context, client, body["user"]["id"])
        commitment = change_commitment(
            common.engine_of(context),
            team_id=common.workspace_id(context),
            ref=ref,
            actor=actor,
            kind=EventKind.WITHDRAWN,
            now=common.utcnow(),
            note=f"Can't deliver: {reason}",
        )
    except Refusal as error:
        ack(response_action="errors", errors={block_id: str(error)})
        return
    ack()
    common.direct_message(
        client, actor.user_id, messages.changed(commitment, "Withdrawn, thank you for saying so:")
    )
    notify.changed_for_recipient(
        client, common.engine_of(context), commitment, actor, "Can't be delivered, with regret:"
    )


def register(app: App) -> None:
    app.action(ids.SNOOZE)(handle_snooze)
    app.action(ids.CANT_DELIVER)(common.opens_form(handle_cant_deliver))
    app.view(ids.CANT_DELIVER_MODAL)(handle_cant_deliver_submitted)
