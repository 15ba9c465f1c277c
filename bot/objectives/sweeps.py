"""Objective reminders and achievement announcements, through the outbox.

The "objectives" planning sweep enqueues, for each objective's value days (every cadence after
its baseline date, and its target date), one DM per active member of the owning organisation:
slot `objective_reminder:<objective id>:<person id>:<day>` at the charter's nudge time in the
partnership's time zone. Like nudges: a slot is planned once (unique key), catch-up after
downtime comes from planning a day back (the outbox supersedes slots more than a day late),
and the renderer waits while the person is away or outside their working hours. A reminder is
cancelled when the objective is achieved, a value was recorded since the previous value day,
or the person no longer belongs to the owning organisation.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select

from bot.objectives.service import (
    value_days,
)
from bot.outbox.sending import (
    STILL_USEFUL,
    Planned,
    enqueue,
)
from bot.policy.charter_settings import settings_in
from storage.db import transaction
from storage.models import Member, Objective, Partnership, Person

REMINDER = "objective_reminder"
PLAN_AHEAD = timedelta(days=7)


def slot_key(objective_id: int, person_id: int, day: date) -> str:
    return f"{REMINDER}:{objective_id}:{person_id}:{day.isoformat()}"


def plan(engine: Engine, *, now: datetime) -> int:
    """Enqueue the reminders due from a day ago (still worth sending) to a week ahead."""
    earliest, latest = now - STILL_USEFUL, now + PLAN_AHEAD
    with transaction(engine) as session:
        objectives = (
            session.execute(
                select(Objective).where(Objective.target_date >= earliest.date() - timedelta(1))
            )
            .scalars()
            .all()
        )
        partnerships = {
            p.id: p
            for p in session.execute(
                select(Partnership).where(
                    Partnership.id.in_({o.partnership_id for o in objectives})
                )
            ).scalars()
        }
        owners: dict[tuple[int, str], list[tuple[int, str]]] = {}
        for member, user_id in session.execute(
            select(Member, Person.user_id)
            .join(Person, Person.id == Member.person_id)
            .where(Member.partnership_id.in_(list(partnerships)), Member.active.is_(True))
        ):
            key = (member.partnership_id, member.organisation.casefold())
            owners.setdefault(key, []).append((member.person_id, user_id))
        nudge_times = {pid: settings_in(session, pid).nudge_time for pid in partnerships}
        planned = []
        for objective in objectives:
            partnership = partnerships[objective.partnership_id]
            zone = ZoneInfo(partnership.tz)
            for day in value_days(objective):
                at = datetime.combine(day, nudge_times[partnership.id], zone)
                if not earliest <= at < latest:
                    continue
                key = (objective.partnership_id, objective.owner_organisation.casefold())
                planned += [
                    Planned(
                        slot_key=slot_key(objective.id, person_id, day),
                        kind=REMINDER,
                        channel=user_id,
                        due_at=at,
                    )
                    for person_id, user_id in owners.get(key, [])
                ]
        enqueue(session, planned, now=now)
    return len(planned)
