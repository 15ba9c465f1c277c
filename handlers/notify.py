"""Who hears about a change, privately: one function per kind of change, used by every door
(slash command, button, modal, mention) so they all tell the same people the same thing."""

from __future__ import annotations

from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.blocks import commitments as messages
from bot.commitments.lifecycle import Status
from bot.commitments.service import CommitmentView, PersonRef
from handlers import home
from handlers.common import direct_message


def logged(client: WebClient, engine: Engine, commitment: CommitmentView) -> None:
    """A commitment logged for someone else needs their acceptance."""
    if commitment.status == Status.PROPOSED:
        direct_message(client, commitment.owner.user_id, messages.proposal_for_owner(commitment))
    home.refresh(client, engine, commitment)


def proposal_answered(
    client: WebClient, engine: Engine, commitment: CommitmentView, answer: str
) -> None:
    """The person who logged a proposal hears the owner's answer."""
    if commitment.created_by.id != commitment.owner.id:
        direct_message(
            client,
            commitment.created_by.user_id,
            messages.proposal_answered(commitment, answer),
        )
    home.refresh(client, engine, commitment)


def delivered(client: WebClient, engine: Engine, commitment: CommitmentView) -> None:
    """The recipient, if any, is asked whether it arrived."""
    if commitment.recipient and commitment.recipient.id != commitment.owner.id:
        direct_message(
            client, commitment.recipient.user_id, messages.delivered_for_recipient(commitment)
        )
    home.refresh(client, engine, commitment)


def delivery_judged(
    client: WebClient,
    engine: Engine,
    commitment: CommitmentView,
    *,
    received: bool,
    note: str | None = None,
) -> None:
    direct_message(
        client,
        commitment.owner.user_id,
        messages.delivery_judged(commitment, received=received, note=note),
    )
    home.refresh(client, engine, commitment)


def changed_for_recipient(
    client: WebClient, engine: Engine, commitment: CommitmentView, actor: PersonRef, what: str
) -> None:
    """Renegotiation is open: the recipient hears of a new date or a withdrawal."""
    if commitment.recipient and commitment.recipient.id != actor.id:
        direct_message(client, commitment.recipient.user_id, messages.changed(commitment, what))
    home.refresh(client, engine, commitment)
