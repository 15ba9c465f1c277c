"""Buttons that change a commitment in one click: Accept, Decline, Undo, Received."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.blocks import commitments as messages
from bot.blocks import ids
from bot.commitments import CommitmentError, change_commitment, undo_commitment
from bot.keeping import EventKind
from handlers import common, notify


def _ref(body: dict) -> int:
    return int(body["actions"][0]["value"])


def _change(body: dict, client: WebClient, context: BoltContext, kind: EventKind):
    actor = common.person(context, client, body["user"]["id"])
    return change_commitment(
        common.engine_of(context),
        team_id=common.workspace_id(context),
        ref=_ref(body),
        actor=actor,
        kind=kind,
        now=common.utcnow(),
    )


def handle_accept(
    ack: Ack, body: dict, client: WebClient, context: BoltContext, respond: Respond
) -> None:
    ack()
    try:
        commitment = _change(body, client, context, EventKind.ACCEPTED)
    except CommitmentError as error:
        respond(**common.refusal(str(error)))
        return
    respond(replace_original=True, **messages.changed(commitment, "You accepted"))
    notify.proposal_answered(client, commitment, "accepted")


def handle_decline(
    ack: Ack, body: dict, client: WebClient, context: BoltContext, respond: Respond
) -> None:
    ack()
    try:
        commitment = _change(body, client, context, EventKind.DECLINED)
    except CommitmentError as error:
        respond(**common.refusal(str(error)))
        return
    respond(replace_original=True, **messages.changed(commitment, "You declined"))
    notify.proposal_answered(client, commitment, "declined")


def handle_received(
    ack: Ack, body: dict, client: WebClient, context: BoltContext, respond: Respond
) -> None:
    ack()
    try:
        commitment = _change(body, client, context, EventKind.CONFIRMED)
    except CommitmentError as error:
        respond(**common.refusal(str(error)))
        return
    respond(replace_original=True, **messages.changed(commitment, "Thanks, confirmed received:"))
    notify.delivery_judged(client, commitment, received=True)


def handle_undo(
    ack: Ack, body: dict, client: WebClient, context: BoltContext, respond: Respond
) -> None:
    ack()
    try:
        actor = common.person(context, client, body["user"]["id"])
        commitment = undo_commitment(
            common.engine_of(context),
            team_id=common.workspace_id(context),
            ref=_ref(body),
            actor=actor,
            now=common.utcnow(),
        )
    except CommitmentError as error:
        respond(**common.refusal(str(error)))
        return
    respond(replace_original=True, **messages.changed(commitment, "Undone:"))


def register(app: App) -> None:
    app.action(ids.ACCEPT)(handle_accept)
    app.action(ids.DECLINE)(handle_decline)
    app.action(ids.RECEIVED)(handle_received)
    app.action(ids.UNDO)(handle_undo)
