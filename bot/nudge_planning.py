"""Planning a commitment's nudges, inside the transaction that changes it.

The old plan's unsent slots are cancelled and, while the commitment is open, the policy's future
slots are enqueued under keys naming the commitment, the change that planned them and the slot
(`nudge:12:e3:overdue-2`), so a moved commitment gets a fresh schedule and each slot of a plan is
sent at most once.
"""

from __future__ import annotations

from datetime import datetime

from bot.keeping import Status
from bot.nudge_policy import NudgePolicy, plan_slots
from bot.outbox import Planned, cancel_pending, enqueue
from storage.models import Commitment, Person

NUDGE = "nudge"
DEFAULT_POLICY = NudgePolicy()


def replan(session, row: Commitment, *, generation: int, now: datetime) -> None:
    """Cancel the commitment's unsent nudges and, if it is open, plan its future ones.

    `generation` (the number of events so far) makes each plan's slot keys new, so a moved
    commitment gets a fresh schedule while a slot of one plan is still sent at most once.
    """
    cancel_pending(session, commitment_id=row.id)
    if row.status != Status.OPEN.value:
        return
    owner = session.get(Person, row.owner_id)
    slots = plan_slots(
        created_at=row.created_at, due_at=row.due_at, tz=owner.tz, policy=DEFAULT_POLICY
    )
    enqueue(
        session,
        (
            Planned(
                slot_key=f"{NUDGE}:{row.id}:e{generation}:{slot.key_suffix}",
                kind=NUDGE,
                channel=owner.user_id,
                due_at=slot.at,
                commitment_id=row.id,
            )
            for slot in slots
            if slot.at > now
        ),
        now=now,
    )
