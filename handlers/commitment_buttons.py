"""Buttons that change a commitment in one click: Accept, Decline, Undo, Received."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.blocks import commitments as messages
from bot.blocks import ids
from bot.commitments.lifecycle import EventKind
from bot.commitments.service import CommitmentView, change_commitment, undo_commitment
from bot.refusal import Refusal
from handlers import common, notify


def _one_click(
    kind: EventKind, done: str, tell: Callable[[WebClient, Engine, CommitmentView], None]
):
    """A listener that appends `kind`, replaces the message with `done`, then tells whoever
    should hear (the domain refuses anyone who may not, politely and privately)."""

    def handle(
        ack: Ack, body: dict, client: WebClient, context: BoltContext, respond: Respond
    ) -> None:
        ack()
        try:
            actor = common.person(context, client, body["user"]["id"])
            commitment = change_commitment(
                common.engine_of(context),
                team_id=common.workspace_id(context),
                ref=common.button_ref(body),
                actor=actor,
                kind=kind,
                now=common.utcnow(),
            )
        except Refusal as error:
            respond(**common.refusal(str(error)))
            return
        respond(replace_original=True, **messages.changed(commitment, done))
        tell(client, common.engine_of(context), commitment)

    return handle


handle_accept = _one_click(
    EventKind.ACCEPTED,
    "You accepted",
    lambda client, engine, c: notify.proposal_answered(client, engine, c, "accepted"),
)
handle_decline = _one_click(
    EventKind.DECLINED,
    "You declined",
    lambda client, engine, c: notify.proposal_answered(client, engine, c, "declined"),
)
handle_received = _one_click(
    EventKind.CONFIRMED,
    "Thanks, confirmed received:",
    lambda client, engine, c: notify.delivery_judged(client, engine, c, received=True),
)


def handle_undo(
    ack: Ack, body: dict, client: WebClient, context: BoltContext, respond: Respond
) -> None:
    ack()
    try:
        actor = common.person(context, client, body["user"]["id"])
        commitment = undo_commitment(
            common.engine_of(context),
            team_id=common.workspace_id(context),
            ref=common.button_ref(body),
            actor=actor,
            now=common.utcnow(),
        )
    except Refusal as error:
        respond(**common.refusal(str(error)))
        return
    respond(replace_original=True, **messages.changed(commitment, "Undone:"))


def register(app: App) -> None:
    app.action(ids.ACCEPT)(handle_accept)
    app.action(ids.DECLINE)(handle_decline)
    app.action(ids.RECEIVED)(handle_received)
    app.action(ids.UNDO)(handle_undo)
