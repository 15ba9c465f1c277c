"""Keeping Saydo's "Logged #N" message in a partnership channel true after each change.

Each change to a commitment whose channel message is known enqueues one outbox slot
(`bot.commitments.CHANNEL_MESSAGE`); the sweep renders the commitment as it stands then and
sends it with `chat.update`, so a retried or repeated update says the same thing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from bot.blocks import commitments as messages
from bot.commitments import get_commitment
from bot.outbox import Item, Send, Skip, State


def render(engine: Engine, item: Item, _now: datetime) -> Send | Skip:
    commitment = get_commitment(engine, commitment_id=item.commitment_id)
    if commitment.channel_message_ts is None:
        return Skip(State.CANCELLED, f"#{commitment.ref} has no channel message")
    return Send(
        item.channel,
        messages.logged_as_it_stands(commitment),
        f"#{commitment.ref} channel message now {commitment.status.value}",
        replaces_ts=commitment.channel_message_ts,
    )
