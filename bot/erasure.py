"""Erasure (`saydo forget`): a person's personal data goes, their counts stay.

The person's row becomes a tombstone: their name, Slack id and profile copy are replaced, but
the row (and so every commitment, event and membership pointing at it) stays, so every count
and keeping ratio is unchanged; their memberships end, as when someone leaves. Free text they
wrote goes too: the title, notes and source of the commitments they logged, the evidence of
those they owned, the notes of their changes and their lessons. Messages still queued to them
are cancelled, and those sent to them keep no id or text. Running it again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, func, or_, select, update

from bot.outbox.sending import GROUP_DM_PREFIX, State
from storage.db import transaction
from storage.models import Commitment, CommitmentEvent, Lesson, Member, OutboxMessage, Person

TOMBSTONE_NAME = "Former member"
ERASED_TEXT = "(erased)"
TOMBSTONE_PREFIX = "erased-"  # a tombstone's user id: `erased-<person id>`, never a Slack id


@dataclass(frozen=True)
class Erased:
    """What one `forget` changed, per kind of record."""

    people: int = 0
    commitments_logged: int = 0
    evidence: int = 0
    notes: int = 0
    lessons: int = 0
    messages_cancelled: int = 0

    def lines(self) -> list[str]:
        labels = (
            (self.people, "person's name, Slack id and profile replaced by a tombstone"),
            (self.commitments_logged, "commitment(s) they logged: title, notes and source erased"),
            (self.evidence, "commitment(s) they owned: evidence erased"),
            (self.notes, "note(s) on changes they made erased"),
            (self.lessons, "lesson(s) they wrote erased"),
            (self.messages_cancelled, "queued message(s) to them cancelled"),
        )
        return [f"{count} {label}" for count, label in labels if count]


def forget(engine: Engine, *, user_id: str, team_id: str | None = None) -> Erased:
    """Erase the personal data of Slack user `user_id` (in workspace `team_id`, when given)."""
    with transaction(engine) as session:
        query = select(Person).where(Person.user_id == user_id)
        if team_id is not None:
            query = query.where(Person.team_id == team_id)
        people = session.execute(query.with_for_update()).scalars().all()
        if not people:
            return Erased()
        ids = [p.id for p in people]
        tombstone = f"{TOMBSTONE_PREFIX}{ids[0]}"
        for person in people:
            person.name = TOMBSTONE_NAME
            person.user_id = f"{TOMBSTONE_PREFIX}{person.id}"
            person.locale = None
            person.away_until = None
        session.execute(update(Member).where(Member.person_id.in_(ids)).values(active=False))
        logged = session.execute(
            update(Commitment)
            .where(Commitment.created_by_id.in_(ids))
            .values(title=ERASED_TEXT, notes=None, source_text=None, source_permalink=None)
        ).rowcount
        evidence = session.execute(
            update(Commitment)
            .where(Commitment.owner_id.in_(ids), Commitment.evidence.is_not(None))
            .values(evidence=None)
        ).rowcount
        notes = session.execute(
            update(CommitmentEvent)
            .where(CommitmentEvent.actor_id.in_(ids), CommitmentEvent.note.is_not(None))
            .values(note=None)
        ).rowcount
        lessons = session.execute(
            update(Lesson).where(Lesson.person_id.in_(ids)).values(text=ERASED_TEXT)
        ).rowcount
        to_them = or_(
            OutboxMessage.channel == user_id,
            OutboxMessage.channel.startswith(GROUP_DM_PREFIX)
            & OutboxMessage.channel.contains(user_id),
        )
        cancelled = session.execute(
            update(OutboxMessage)
            .where(to_them, OutboxMessage.state == State.PENDING.value)
            .values(state=State.CANCELLED.value, last_error="the person was erased")
        ).rowcount
        session.execute(  # what was sent to them keeps its count, not their id or its text
            update(OutboxMessage)
            .where(to_them)
            .values(channel=func.replace(OutboxMessage.channel, user_id, tombstone), payload=None)
        )
    return Erased(len(people), logged, evidence, notes, lessons, cancelled)
