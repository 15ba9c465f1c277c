"""Nudges: private reminders before, on and after a commitment's due date, through the outbox.

Planning happens with every change (`bot.commitments.nudge_planning`); here are snoozing, away
periods and rendering. At send time the renderer reads the commitment as it is then, so a nudge
never goes out for a commitment that was delivered, withdrawn or moved meanwhile."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, select, update

from bot.commitments.lifecycle import Status
from bot.commitments.nudge_planning import NUDGE
from bot.commitments.service import PersonRef
from bot.outbox.sending import Planned, enqueue
from bot.policy.charter_settings import nudge_policy_in
from bot.policy.working_hours import snoozed
from bot.refusal import Refusal
from storage.db import transaction
from storage.models import Commitment, Person


def snooze(engine: Engine, *, team_id: str, ref: int, actor: PersonRef, now: datetime) -> datetime:
    """Send the nudge again one working day later; the due date does not move."""
    with transaction(engine) as session:
        row = session.execute(
            select(Commitment).where(Commitment.team_id == team_id, Commitment.ref == ref)
        ).scalar_one_or_none()
        if row is None:
            raise Refusal(f"I can't find commitment {ref}.")
        if row.owner_id != actor.id:
            raise Refusal("Only the owner can snooze this reminder.")
        if row.status != Status.OPEN.value:
            raise Refusal("It is no longer open, so there is nothing to snooze.")
        policy = nudge_policy_in(
            session,
            partnership_id=row.partnership_id,
            person_id=actor.id,
            years=(now.year, now.year + 1),
        )
        at = snoozed(now, tz=actor.tz, policy=policy)
        enqueue(
            session,
            [
                Planned(
                    slot_key=f"{NUDGE}:{row.id}:{at:%Y%m%dT%H%M}:snoozed",
                    kind=NUDGE,
                    channel=actor.user_id,
                    due_at=at,
                    commitment_id=row.id,
                )
            ],
            now=now,
        )
        return at


def set_away(engine: Engine, *, person_id: int, until: datetime | None) -> None:
    """Pause (or, with None, resume) every nudge to this person until `until`."""
    with transaction(engine) as session:
        session.execute(update(Person).where(Person.id == person_id).values(away_until=until))
