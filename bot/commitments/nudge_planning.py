"""Planning a commitment's nudges, inside the transaction that changes it.

The old plan's unsent slots are cancelled and, while the commitment is open, the policy's future
slots are enqueued under keys naming the commitment, the change that planned them and the slot
(`nudge:12:e3:overdue-2`), so a moved commitment gets a fresh schedule and each slot of a plan is
sent at most once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select

from bot.commitments.lifecycle import Status
from bot.outbox.sending import Planned, State, cancel_pending, enqueue
from bot.policy.charter_settings import nudge_policy_in
from bot.policy.working_hours import plan_slots
from storage.models import Commitment, OutboxMessage, Person

NUDGE = "nudge"


def replan(
    session, row: Commitment, *, generation: int | str, now: datetime, keep_sent: bool = False
) -> None:
    """Cancel the commitment's unsent nudges and, if it is open, plan its future ones.

    `generation` (the number of events so far) makes each plan's slot keys new, so a moved
    commitment gets a fresh schedule while a slot of one plan is still sent at most once.
    The policy is the partnership's charter (working days and hours) with the public holidays
    of the owner's organisation. A charter change replans with `generation` "<events>c<version>"
    and `keep_sent`: slots of the same due date already sent are not planned again.
    """
    cancel_pending(session, commitment_id=row.id)
    if row.status != Status.OPEN.value:
        return
    owner = session.get(Person, row.owner_id)
    policy = nudge_policy_in(
        session,
        partnership_id=row.partnership_id,
        person_id=owner.id,
        years=range(row.created_at.year, row.due_at.year + 2),
    )
    slots = plan_slots(created_at=row.created_at, due_at=row.due_at, tz=owner.tz, policy=policy)
    if keep_sent:
        sent = _sent_suffixes(session, row.id, str(generation).split("c")[0])
        slots = [slot for slot in slots if slot.key_suffix not in sent]
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


def _sent_suffixes(session, commitment_id: int, events: str) -> set[str]:
    """Slots already sent (or being sent) for this commitment since its last change."""
    prefix = f"{NUDGE}:{commitment_id}:e{events}"
    keys = session.execute(
        select(OutboxMessage.slot_key).where(
            OutboxMessage.commitment_id == commitment_id,
            OutboxMessage.state.in_((State.SENT.value, State.CLAIMED.value)),
            or_(
                OutboxMessage.slot_key.startswith(prefix + ":", autoescape=True),
                OutboxMessage.slot_key.startswith(prefix + "c", autoescape=True),
            ),
        )
    ).scalars()
    return {key.rsplit(":", 1)[-1] for key in keys}
