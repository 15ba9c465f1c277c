"""Erasure (`saydo forget`): a person's personal data goes, their counts stay.

The person's row becomes a tombstone: their name, Slack id and profile copy are replaced, but
the row (and so every commitment, event and membership pointing at it) stays, so every count
and keeping ratio is unchanged; their memberships end, as when someone leaves. Free text they
wrote goes too: the title, notes and source of the commitments they logged, the evidence of
those they owned, the notes of their changes, their lessons and the evidence of the values and
spend they recorded. Messages still queued to them are cancelled, and those sent to them keep
no id or text. Running it again changes nothing.

A whole workspace is erased the same way, person by person, with its installations of Saydo
(`forget_team`): by hand, or by `erase_uninstalled` once the retention period after the
workspace uninstalled Saydo has passed (unless it installed Saydo again first).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, func, or_, select, update
from sqlmodel import Session, SQLModel

from bot.outbox.sending import GROUP_DM_PREFIX, State
from storage.db import transaction, upsert_insert
from storage.models import (
    BOTS_TABLE,
    INSTALLATIONS_TABLE,
    Commitment,
    CommitmentEvent,
    CostEntry,
    Lesson,
    Member,
    ObjectiveMeasurement,
    OutboxMessage,
    Person,
    WorkspaceUninstall,
)

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
    records: int = 0
    messages_cancelled: int = 0
    installations: int = 0

    def lines(self) -> list[str]:
        labels = (
            (self.people, "person(s): name, Slack id and profile replaced by a tombstone"),
            (self.commitments_logged, "commitment(s) they logged: title, notes and source erased"),
            (self.evidence, "commitment(s) they owned: evidence erased"),
            (self.notes, "note(s) on changes they made erased"),
            (self.lessons, "lesson(s) they wrote erased"),
            (self.records, "value(s) and spend they recorded: evidence erased"),
            (self.messages_cancelled, "queued message(s) to them cancelled"),
            (self.installations, "record(s) of Saydo's installation (tokens included) deleted"),
        )
        return [f"{count} {label}" for count, label in labels if count]


def forget(engine: Engine, *, user_id: str, team_id: str | None = None) -> Erased:
    """Erase the personal data of Slack user `user_id` (in workspace `team_id`, when given)."""
    with transaction(engine) as session:
        query = select(Person).where(Person.user_id == user_id)
        if team_id is not None:
            query = query.where(Person.team_id == team_id)
        return _erase(session, session.execute(query.with_for_update()).scalars().all())


def forget_team(engine: Engine, *, team_id: str, now: datetime) -> Erased:
    """Erase the personal data of every person of workspace `team_id`, and delete its
    installations of Saydo (tokens included) if any remain."""
    with transaction(engine) as session:
        return _erase_team(session, team_id, now)


def note_uninstalled(engine: Engine, *, team_id: str, now: datetime) -> None:
    """Workspace `team_id` uninstalled Saydo (or revoked its bot token) at `now`: its retention
    period starts (afresh, if it had uninstalled before)."""
    insert = upsert_insert(engine.dialect.name)(WorkspaceUninstall).values(
        team_id=team_id, uninstalled_at=now, erased_at=None
    )
    with transaction(engine) as session:
        session.execute(
            insert.on_conflict_do_update(
                index_elements=["team_id"],
                set_={"uninstalled_at": insert.excluded.uninstalled_at, "erased_at": None},
            )
        )


@dataclass(frozen=True)
class Pending:
    """A workspace that uninstalled Saydo and whose people's data is not erased yet."""

    team_id: str
    uninstalled_at: datetime
    erase_at: datetime


def pending_erasures(engine: Engine, *, retention: timedelta) -> list[Pending]:
    """The workspaces whose data `erase_uninstalled` will erase, and when, soonest first."""
    with transaction(engine) as session:
        rows = session.execute(
            select(WorkspaceUninstall)
            .where(WorkspaceUninstall.erased_at.is_(None))
            .order_by(WorkspaceUninstall.uninstalled_at, WorkspaceUninstall.team_id)
        ).scalars()
        return [
            Pending(r.team_id, r.uninstalled_at, r.uninstalled_at + retention)
            for r in rows
            if not _installed(session, r.team_id)
        ]


def erase_uninstalled(
    engine: Engine, *, now: datetime, retention: timedelta
) -> list[tuple[str, Erased]]:
    """The retention sweep: erase each workspace that uninstalled Saydo at least `retention`
    before `now`, once. A workspace that installed Saydo again since is no longer waiting to be
    erased. Returns what was erased, per workspace."""
    with transaction(engine) as session:
        waiting = (
            session.execute(
                select(WorkspaceUninstall.team_id).where(WorkspaceUninstall.erased_at.is_(None))
            )
            .scalars()
            .all()
        )
    erased = []
    for team_id in waiting:  # one transaction each; the row lock makes a replica wait
        with transaction(engine) as session:
            record = session.execute(
                select(WorkspaceUninstall)
                .where(WorkspaceUninstall.team_id == team_id)
                .with_for_update()
            ).scalar_one_or_none()
            if record is None or record.erased_at is not None:
                continue
            if _installed(session, team_id):
                session.delete(record)  # installed again: nothing to erase
            elif record.uninstalled_at + retention <= now:
                erased.append((team_id, _erase_team(session, team_id, now)))
    return erased


def _erase_team(session: Session, team_id: str, now: datetime) -> Erased:
    people = (
        session.execute(
            select(Person)
            .where(Person.team_id == team_id, Person.user_id.not_like(f"{TOMBSTONE_PREFIX}%"))
            .with_for_update()
        )
        .scalars()
        .all()
    )
    erased = _erase(session, people)
    installations = sum(
        session.execute(delete(table).where(table.c.team_id == team_id)).rowcount
        for table in (_table(BOTS_TABLE), _table(INSTALLATIONS_TABLE))
    )
    session.execute(
        update(WorkspaceUninstall)
        .where(WorkspaceUninstall.team_id == team_id, WorkspaceUninstall.erased_at.is_(None))
        .values(erased_at=now)
    )
    return dataclasses.replace(erased, installations=installations)


def _installed(session: Session, team_id: str) -> bool:
    """Whether workspace `team_id` has an installation of Saydo's bot now."""
    bots = _table(BOTS_TABLE)
    found = session.execute(select(bots.c.id).where(bots.c.team_id == team_id).limit(1))
    return found.first() is not None


def _table(name: str):
    return SQLModel.metadata.tables[name]


def _erase(session: Session, people: Sequence[Person]) -> Erased:
    """Replace `people` by tombstones and erase the free text they wrote (one transaction)."""
    if not people:
        return Erased()
    ids = [p.id for p in people]
    tombstones: dict[str, str] = {}  # Slack user id -> the tombstone it becomes in the outbox
    for person in people:
        tombstones.setdefault(person.user_id, f"{TOMBSTONE_PREFIX}{person.id}")
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
    records = sum(
        session.execute(
            update(model)
            .where(model.recorded_by_id.in_(ids), model.evidence.is_not(None))
            .values(evidence=None)
        ).rowcount
        for model in (ObjectiveMeasurement, CostEntry)
    )
    cancelled = 0
    for user_id, tombstone in tombstones.items():
        to_them = or_(
            OutboxMessage.channel == user_id,
            OutboxMessage.channel.startswith(GROUP_DM_PREFIX)
            & OutboxMessage.channel.contains(user_id),
        )
        cancelled += session.execute(
            update(OutboxMessage)
            .where(to_them, OutboxMessage.state == State.PENDING.value)
            .values(state=State.CANCELLED.value, last_error="the person was erased")
        ).rowcount
        session.execute(  # what was sent to them keeps its count, not their id or its text
            update(OutboxMessage)
            .where(to_them)
            .values(channel=func.replace(OutboxMessage.channel, user_id, tombstone), payload=None)
        )
    return Erased(len(people), logged, evidence, notes, lessons, records, cancelled)
