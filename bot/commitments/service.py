"""Commitments: log, change and read them. No Slack here: handlers pass plain values in.

Every change is one transaction that appends an event and rewrites the commitment's status columns
from all its events (`bot.commitments.lifecycle.derive_state`), so the row never disagrees with its
history. Slack calls happen before or after, never inside, these transactions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import aliased

from bot.commitments.due_dates import END_OF_DAY, Due
from bot.commitments.grammar import MAX_TITLE
from bot.commitments.lifecycle import (
    CommitmentState,
    Event,
    EventKind,
    Outcome,
    Status,
    TransitionError,
    check_transition,
    derive_state,
    outcome,
)
from bot.commitments.nudge_planning import replan
from bot.outbox.sending import Planned, enqueue
from bot.policy.visibility import commitment_visible_to, sees_partnership
from bot.refusal import Refusal
from bot.text import has_visible
from storage.db import transaction, upsert_insert
from storage.models import (
    Commitment,
    CommitmentEvent,
    Member,
    Partnership,
    Person,
    RefCounter,
    utcnow,
)

DUPLICATE_WINDOW = timedelta(seconds=60)
MAX_REF = 2**31 - 1  # the largest reference the database's integer column holds
CHANNEL_MESSAGE = "channel_message"  # the outbox kind that updates a commitment's channel message
NOT_A_MEMBER = (
    "Only members of this partnership's channel can see its commitments, figures and lessons. "
    "If you've just joined the channel, please ask again in a moment."
)
OPEN_STATUSES = (Status.PROPOSED.value, Status.OPEN.value)


@dataclass(frozen=True)
class PersonRef:
    id: int
    team_id: str
    user_id: str
    name: str
    tz: str
    locale: str | None
    away_until: datetime | None = None


@dataclass(frozen=True)
class PartnershipRef:
    id: int
    team_id: str
    channel_id: str
    name: str
    tz: str


@dataclass(frozen=True)
class CommitmentView:
    """Everything a message about one commitment needs."""

    id: int
    ref: int
    team_id: str
    partnership: PartnershipRef
    title: str
    owner: PersonRef
    recipient: PersonRef | None
    created_by: PersonRef
    status: Status
    due_at: datetime
    original_due_at: datetime
    judged_due_at: datetime
    has_time: bool
    created_at: datetime
    delivered_at: datetime | None
    withdrawn_at: datetime | None
    confirmed: bool
    date_changes: int
    renegotiated: bool
    evidence: str | None
    notes: str | None
    source_permalink: str | None
    channel_message_ts: str | None = None  # Saydo's message about it in the channel, if known

    def outcome(self, *, now: datetime) -> Outcome:
        return outcome(self.state(), now=now)

    def state(self) -> CommitmentState:
        return CommitmentState.from_columns(self)

    def is_overdue(self, *, now: datetime) -> bool:
        return self.status == Status.OPEN and now > self.due_at


@dataclass(frozen=True)
class EventView:
    kind: EventKind
    at: datetime
    actor: PersonRef
    due_at: datetime | None
    note: str | None


@dataclass(frozen=True)
class Logged:
    commitment: CommitmentView
    duplicate: bool  # the same text from the same person in the same place within 60 seconds


# --- people and partnerships ------------------------------------------------------------


def save_person(
    engine: Engine,
    *,
    team_id: str,
    user_id: str,
    name: str,
    tz: str,
    locale: str | None,
    now: datetime,
) -> PersonRef:
    """Insert or refresh a person's profile (from `users.info`)."""
    values = {
        "team_id": team_id,
        "user_id": user_id,
        "name": name[:200],
        "tz": tz,
        "locale": locale,
        "profile_fetched_at": now,
    }
    insert = upsert_insert(engine.dialect.name)
    statement = insert(Person).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=["team_id", "user_id"],
        set_={k: statement.excluded[k] for k in ("name", "tz", "locale", "profile_fetched_at")},
    ).returning(Person)
    with transaction(engine) as session:
        person = session.execute(statement).scalar_one()
        return person_ref(person)


def find_person(engine: Engine, *, user_id: str, fresh_since: datetime) -> PersonRef | None:
    """A cached person whose profile was fetched after `fresh_since`, if any."""
    with transaction(engine) as session:
        person = session.execute(
            select(Person)
            .where(Person.user_id == user_id, Person.profile_fetched_at >= fresh_since)
            .order_by(Person.profile_fetched_at.desc())
            .limit(1)
        ).scalar_one_or_none()
        return person_ref(person) if person else None


def ensure_partnership(
    engine: Engine, *, team_id: str, channel_id: str, name: str | None = None
) -> PartnershipRef:
    """The channel's partnership, created with default settings on first use."""
    insert = upsert_insert(engine.dialect.name)
    statement = (
        insert(Partnership)
        .values(
            team_id=team_id,
            channel_id=channel_id,
            name=(name or channel_id)[:200],
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["team_id", "channel_id"])
    )
    with transaction(engine) as session:
        session.execute(statement)
        partnership = session.execute(
            select(Partnership).where(
                Partnership.team_id == team_id, Partnership.channel_id == channel_id
            )
        ).scalar_one()
        return partnership_ref(partnership)


def rename_partnership(engine: Engine, *, team_id: str, channel_id: str, name: str) -> None:
    """The channel's new name (a partnership is named after its channel)."""
    name = " ".join(name.split())[:200]
    if not name:
        return
    with transaction(engine) as session:
        session.execute(
            update(Partnership)
            .where(Partnership.team_id == team_id, Partnership.channel_id == channel_id)
            .values(name=name)
        )


def partnerships_for(engine: Engine, *, team_id: str) -> list[PartnershipRef]:
    with transaction(engine) as session:
        rows = session.execute(
            select(Partnership).where(Partnership.team_id == team_id).order_by(Partnership.name)
        ).scalars()
        return [partnership_ref(p) for p in rows]


def check_member(engine: Engine, *, partnership: PartnershipRef, user_id: str) -> None:
    """Refuse, politely, anyone who may not see this partnership's data
    (`bot.policy.visibility`)."""
    with transaction(engine) as session:
        if not sees_partnership(session, partnership_id=partnership.id, user_id=user_id):
            raise Refusal(NOT_A_MEMBER)


def get_partnership(engine: Engine, *, team_id: str, partnership_id: int) -> PartnershipRef | None:
    with transaction(engine) as session:
        partnership = session.get(Partnership, partnership_id)
        if partnership is None or partnership.team_id != team_id:
            return None
        return partnership_ref(partnership)


# --- due dates in the owner's terms -----------------------------------------------------


def due_for_owner(due: Due, owner_tz: str) -> datetime:
    """A date with no time is due at the end of that day in the owner's time zone."""
    if due.has_time:
        return due.at
    day = due.local().date()
    return datetime.combine(day, END_OF_DAY, ZoneInfo(owner_tz)).astimezone(ZoneInfo("UTC"))


def due_from_picker(day_iso: str, time_hhmm: str | None, tz: str) -> tuple[datetime, bool]:
    """A modal's date picker (and optional time picker) value as a UTC instant."""
    day = datetime.fromisoformat(day_iso).date()
    wall = time.fromisoformat(time_hhmm) if time_hhmm else END_OF_DAY
    local = datetime.combine(day, wall, ZoneInfo(tz))
    return local.astimezone(ZoneInfo("UTC")), time_hhmm is not None


# --- logging and changing commitments ----------------------------------------------------


def log_commitment(
    engine: Engine,
    *,
    partnership: PartnershipRef,
    creator: PersonRef,
    owner: PersonRef,
    recipient: PersonRef | None,
    title: str,
    due_at: datetime,
    has_time: bool,
    now: datetime,
    notes: str | None = None,
    source_text: str | None = None,
    source_permalink: str | None = None,
    source_ts: str | None = None,
) -> Logged:
    """Record a commitment: accepted when the owner logs it, proposed when someone else does.

    The same `source_text` from the same person in the same partnership within 60 seconds is
    a duplicate submission and returns the commitment already logged; so is any commitment
    from the same message (`source_ts`, e.g. a mention edited after it was logged).
    """
    title = " ".join(title.split())
    if not has_visible(title):
        raise Refusal("Please say what will be done.")
    if len(title) > MAX_TITLE:
        raise Refusal(f"Please keep it under {MAX_TITLE} characters; you wrote {len(title)}.")
    if due_at <= now:
        raise Refusal("That due date has already passed; please pick a later one.")
    try:
        commitment_id = _insert(
            engine,
            Commitment(
                team_id=partnership.team_id,
                ref=0,  # set from the workspace's counter inside the transaction
                partnership_id=partnership.id,
                owner_id=owner.id,
                recipient_id=recipient.id if recipient else None,
                created_by_id=creator.id,
                title=title,
                notes=notes,
                source_text=source_text,
                source_permalink=source_permalink,
                source_ts=source_ts,
                has_time=has_time,
                created_at=now,
            ),
            creator=creator,
            due_at=due_at,
        )
    except _Duplicate as duplicate:
        return Logged(get_commitment(engine, commitment_id=duplicate.commitment_id), True)
    return Logged(get_commitment(engine, commitment_id=commitment_id), False)


class _Duplicate(Exception):
    """Rolls back a duplicate submission (returning its reference number)."""

    def __init__(self, commitment_id: int):
        self.commitment_id = commitment_id


def _insert(engine: Engine, row: Commitment, *, creator: PersonRef, due_at: datetime) -> int:
    """Insert `row` with its CREATED event and its nudge plan, in one transaction."""
    with transaction(engine) as session:
        row.ref = _next_ref(session, row.team_id)  # first: serialises creators per workspace
        if row.source_ts is not None:
            same_message = session.execute(
                select(Commitment.id).where(
                    Commitment.partnership_id == row.partnership_id,
                    Commitment.source_ts == row.source_ts,
                )
            ).scalar()
            if same_message is not None:
                raise _Duplicate(same_message)
        if row.source_text is not None:
            earlier = session.execute(
                select(Commitment.id)
                .where(
                    Commitment.created_by_id == row.created_by_id,
                    Commitment.partnership_id == row.partnership_id,
                    Commitment.source_text == row.source_text,
                    Commitment.owner_id == row.owner_id,
                    Commitment.title == row.title,
                    Commitment.created_at >= row.created_at - DUPLICATE_WINDOW,
                )
                .order_by(Commitment.id.desc())
                .limit(1)
            ).scalar_one_or_none()
            if earlier is not None:
                raise _Duplicate(earlier)
        created = Event(
            kind=EventKind.CREATED,
            at=row.created_at,
            actor_id=creator.user_id,
            due_at=due_at,
            proposed=row.owner_id != creator.id,
        )
        for column, value in derive_state([created]).as_columns().items():
            setattr(row, column, value)
        session.add(row)
        session.flush()
        session.add(_event_row(row.id, created, creator.id))
        replan(session, row, generation=1, now=row.created_at)
        return row.id


# Who may do what: the owner changes their own commitment; the recipient judges delivery.
_OWNER_ACTIONS = {
    EventKind.ACCEPTED,
    EventKind.DECLINED,
    EventKind.MOVED,
    EventKind.DELIVERED,
    EventKind.WITHDRAWN,
    EventKind.REOPENED,
}
_RECIPIENT_ACTIONS = {EventKind.CONFIRMED, EventKind.DISPUTED}
# An admin of the commitment's partnership from the owner's own Slack workspace may also do
# these for the owner (the history records the admin as the actor): between Slack Connect
# partners, nobody withdraws another organisation's commitments. Accepting and declining stay
# the owner's own.
_ADMIN_ACTIONS = {EventKind.MOVED, EventKind.DELIVERED, EventKind.WITHDRAWN, EventKind.REOPENED}
_REFUSALS = {
    EventKind.ACCEPTED: "Only {owner} can accept this commitment.",
    EventKind.DECLINED: "Only {owner} can decline this commitment.",
    EventKind.MOVED: "Only {owner} can change the date of this commitment.",
    EventKind.DELIVERED: "Only {owner} can mark this commitment delivered.",
    EventKind.WITHDRAWN: "Only {owner} can withdraw this commitment.",
    EventKind.REOPENED: "Only {owner} can reopen this commitment.",
    EventKind.CONFIRMED: "Only {recipient} can confirm this delivery.",
    EventKind.DISPUTED: "Only {recipient} can say this has not arrived yet.",
}


def change_commitment(
    engine: Engine,
    *,
    team_id: str,
    ref: int,
    actor: PersonRef,
    kind: EventKind,
    now: datetime,
    due_at: datetime | None = None,
    has_time: bool | None = None,
    note: str | None = None,
) -> CommitmentView:
    """Append one event, after checking who may, and whether it can happen now.

    A move takes the new `due_at` and whether it carries a time (`has_time`, else end of day).
    """
    with transaction(engine) as session:
        row = _locked_by_ref(session, team_id, ref, actor.user_id)
        _authorise(_view(session, row), actor.user_id, kind, session=session)
        if kind == EventKind.MOVED and has_time is not None:
            row.has_time = has_time
        return _append(session, row, actor, kind, now, due_at=due_at, note=note)


def undo_commitment(
    engine: Engine, *, team_id: str, ref: int, actor: PersonRef, now: datetime
) -> CommitmentView:
    """The Undo button on a confirmation: withdraw it, or decline it if still a proposal.

    Only the person who logged it may undo it.
    """
    with transaction(engine) as session:
        row = _locked_by_ref(session, team_id, ref, actor.user_id)
        if row.created_by_id != actor.id:
            logged_by = _view(session, row).created_by.name
            raise Refusal(f"Only {logged_by}, who logged it, can undo commitment {ref}.")
        if row.status == Status.PROPOSED:
            kind, note = EventKind.DECLINED, "Undone by the person who proposed it"
        else:
            kind, note = EventKind.WITHDRAWN, "Undone right after logging"
        return _append(session, row, actor, kind, now, note=note)


# --- reading ------------------------------------------------------------------------------


def get_commitment(engine: Engine, *, commitment_id: int) -> CommitmentView:
    with transaction(engine) as session:
        return _view(session, session.get(Commitment, commitment_id))


def parse_ref(value: object) -> int | None:
    """A commitment reference from outside (a button, a form's metadata, typed text): a
    whole number from 1 to `MAX_REF`, else None."""
    text = str(value).strip() if isinstance(value, str | int) else ""
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_REF:
        return None
    return int(text)


def not_found(value: object) -> Refusal:
    return Refusal(f"I can't find commitment {value or '?'}. `/saydo list` shows yours.")


def get_by_ref(engine: Engine, *, team_id: str, ref: int) -> CommitmentView | None:
    """The commitment whoever asks (for the operator and tests; listeners use `visible_by_ref`)."""
    with transaction(engine) as session:
        row = session.execute(_by_ref(team_id, ref)).scalar_one_or_none()
        return _view(session, row) if row else None


def visible_by_ref(
    engine: Engine, *, team_id: str, ref: int, viewer_user_id: str
) -> CommitmentView | None:
    """The commitment if this Slack user may see it, else None (as if it did not exist)."""
    with transaction(engine) as session:
        row = session.execute(
            _by_ref(team_id, ref).where(commitment_visible_to(viewer_user_id))
        ).scalar_one_or_none()
        return _view(session, row) if row else None


def _by_ref(team_id: str, ref: int):
    """References are per workspace."""
    return select(Commitment).where(Commitment.team_id == team_id, Commitment.ref == ref)


def history(engine: Engine, *, commitment_id: int) -> list[EventView]:
    with transaction(engine) as session:
        rows = session.execute(
            select(CommitmentEvent, Person)
            .join(Person, Person.id == CommitmentEvent.actor_id)
            .where(CommitmentEvent.commitment_id == commitment_id)
            .order_by(CommitmentEvent.id)
        ).all()
        return [
            EventView(EventKind(e.kind), e.at, person_ref(p), e.due_at, e.note) for e, p in rows
        ]


@dataclass(frozen=True)
class Page:
    items: list[CommitmentView]
    page: int
    pages: int
    total: int


def list_commitments(
    engine: Engine,
    *,
    team_id: str,
    viewer_user_id: str,
    now: datetime,
    owner_user_id: str | None = None,
    involving_user_id: str | None = None,
    overdue_only: bool = False,
    open_only: bool = True,
    partnership_id: int | None = None,
    page: int = 1,
    page_size: int = 10,
) -> Page:
    """The commitments `viewer_user_id` may see, newest due first, one page at a time (two
    queries whatever the size)."""
    owner, recipient = aliased(Person), aliased(Person)
    conditions = [Commitment.team_id == team_id, commitment_visible_to(viewer_user_id)]
    if open_only or overdue_only:
        conditions.append(Commitment.status.in_(OPEN_STATUSES))
    if overdue_only:
        conditions += [Commitment.status == Status.OPEN.value, Commitment.due_at < now]
    if owner_user_id:
        conditions.append(owner.user_id == owner_user_id)
    if involving_user_id:
        conditions.append(
            (owner.user_id == involving_user_id) | (recipient.user_id == involving_user_id)
        )
    if partnership_id is not None:
        conditions.append(Commitment.partnership_id == partnership_id)
    base = (
        select(Commitment)
        .join(owner, owner.id == Commitment.owner_id)
        .outerjoin(recipient, recipient.id == Commitment.recipient_id)
        .where(*conditions)
    )
    with transaction(engine) as session:
        total = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
        pages = max(1, -(-total // page_size))
        page = min(max(1, page), pages)
        rows = (
            session.execute(
                base.order_by(Commitment.due_at.desc(), Commitment.id.desc())
                .offset((page - 1) * page_size)
                .limit(page_size)
            )
            .scalars()
            .all()
        )
        return Page(items=views_of(session, rows), page=page, pages=pages, total=total)


# --- internals -----------------------------------------------------------------------------


def _next_ref(session, team_id: str) -> int:
    dialect = session.get_bind().dialect.name
    insert = upsert_insert(dialect)
    statement = insert(RefCounter).values(team_id=team_id, last_ref=1)
    statement = statement.on_conflict_do_update(
        index_elements=["team_id"], set_={"last_ref": RefCounter.last_ref + 1}
    ).returning(RefCounter.last_ref)
    return session.execute(statement).scalar_one()


def _locked_by_ref(session, team_id: str, ref: int, actor_user_id: str) -> Commitment:
    """The commitment, locked so concurrent changes queue up (FOR UPDATE on PostgreSQL;
    SQLite transactions already hold the write lock). One the actor may not see is not found."""
    row = session.execute(
        _by_ref(team_id, ref).where(commitment_visible_to(actor_user_id)).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        raise Refusal(f"I can't find commitment {ref}. `/saydo list` shows yours.")
    return row


def _append(
    session,
    row: Commitment,
    actor: PersonRef,
    kind: EventKind,
    now: datetime,
    *,
    due_at: datetime | None = None,
    note: str | None = None,
) -> CommitmentView:
    events = _events(session, row.id)
    try:
        check_transition(derive_state(events), kind)
        event = Event(kind=kind, at=now, actor_id=actor.user_id, due_at=due_at, note=note)
        state = derive_state([*events, event])
    except (TransitionError, ValueError) as refusal:
        raise Refusal(str(refusal)) from None
    session.add(_event_row(row.id, event, actor.id))
    for column, value in state.as_columns().items():
        setattr(row, column, value)
    session.flush()
    replan(session, row, generation=len(events) + 1, now=now)
    _plan_channel_message_update(session, row, generation=len(events) + 1, now=now)
    return _view(session, row)


def _plan_channel_message_update(session, row: Commitment, *, generation: int, now: datetime):
    """Saydo's message about the commitment in its channel is brought up to date by the
    outbox (never while Slack waits for an answer); one update per change, at most."""
    if row.channel_message_ts is None:
        return
    channel = session.get(Partnership, row.partnership_id).channel_id
    enqueue(
        session,
        [
            Planned(
                slot_key=f"{CHANNEL_MESSAGE}:{row.id}:e{generation}",
                kind=CHANNEL_MESSAGE,
                channel=channel,
                due_at=now,
                commitment_id=row.id,
            )
        ],
        now=now,
    )


def record_channel_message(engine: Engine, *, commitment_id: int, ts: str, now: datetime) -> None:
    """Where Saydo's message about the commitment is in its channel (the first one known), so
    that changes keep it current. A change made before it was known (while the message was on
    its way to Slack) brings the message up to date at once."""
    with transaction(engine) as session:
        recorded = session.execute(
            update(Commitment)
            .where(Commitment.id == commitment_id, Commitment.channel_message_ts.is_(None))
            .values(channel_message_ts=ts)
        ).rowcount
        if recorded and (generation := len(_events(session, commitment_id))) > 1:
            row = session.get(Commitment, commitment_id)
            _plan_channel_message_update(session, row, generation=generation, now=now)


def check_allowed(
    engine: Engine, commitment: CommitmentView, *, user_id: str, kind: EventKind
) -> None:
    """Raise a friendly Refusal if this person may not make this change now (so a
    button can refuse before showing a form that could not be submitted). Admins from the
    owner's workspace may do most of what the owner may."""
    with transaction(engine) as session:
        _authorise(commitment, user_id, kind, session=session)
    try:
        check_transition(commitment.state(), kind)
    except TransitionError as refusal:
        raise Refusal(str(refusal)) from None


def _authorise(view: CommitmentView, user_id: str, kind: EventKind, *, session=None) -> None:
    if kind in _OWNER_ACTIONS and user_id != view.owner.user_id:
        admin = kind in _ADMIN_ACTIONS and session is not None
        if not (admin and _is_owners_admin(session, view, user_id)):
            raise Refusal(_REFUSALS[kind].format(owner=view.owner.name))
    if kind in _RECIPIENT_ACTIONS and (view.recipient is None or user_id != view.recipient.user_id):
        who = view.recipient.name if view.recipient else "the recipient"
        raise Refusal(_REFUSALS[kind].format(recipient=who))


def _is_owners_admin(session, view: CommitmentView, user_id: str) -> bool:
    """An active admin of the commitment's partnership (not of another one) from the owner's
    Slack workspace."""
    return (
        session.execute(
            select(Member.id)
            .join(Person, Person.id == Member.person_id)
            .where(
                Member.partnership_id == view.partnership.id,
                Person.user_id == user_id,
                Person.team_id == view.owner.team_id,
                Member.is_admin.is_(True),
                Member.active.is_(True),
            )
            .limit(1)
        ).first()
        is not None
    )


def _events(session, commitment_id: int) -> list[Event]:
    rows = session.execute(
        select(CommitmentEvent, Person.user_id)
        .join(Person, Person.id == CommitmentEvent.actor_id)
        .where(CommitmentEvent.commitment_id == commitment_id)
        .order_by(CommitmentEvent.id)
    ).all()
    return [
        Event(
            kind=EventKind(e.kind),
            at=e.at,
            actor_id=user_id,
            due_at=e.due_at,
            proposed=e.proposed,
            note=e.note,
        )
        for e, user_id in rows
    ]


def _event_row(commitment_id: int, event: Event, actor_person_id: int) -> CommitmentEvent:
    return CommitmentEvent(
        commitment_id=commitment_id,
        kind=event.kind.value,
        at=event.at,
        actor_id=actor_person_id,
        due_at=event.due_at,
        proposed=event.proposed,
        note=event.note,
    )


def person_ref(person: Person) -> PersonRef:
    """A Person row as the plain value the domain passes around."""
    return PersonRef(
        person.id,
        person.team_id,
        person.user_id,
        person.name,
        person.tz,
        person.locale,
        person.away_until,
    )


def partnership_ref(p: Partnership) -> PartnershipRef:
    return PartnershipRef(p.id, p.team_id, p.channel_id, p.name, p.tz)


def _view(session, row: Commitment) -> CommitmentView:
    return views_of(session, [row])[0]


def views_of(session, rows: list[Commitment]) -> list[CommitmentView]:
    """Views for many commitments with two extra queries in all (people, partnerships)."""
    if not rows:
        return []
    person_ids = {r.owner_id for r in rows} | {r.created_by_id for r in rows}
    person_ids |= {r.recipient_id for r in rows if r.recipient_id}
    people = {
        p.id: person_ref(p)
        for p in session.execute(select(Person).where(Person.id.in_(person_ids))).scalars()
    }
    partnership_ids = {r.partnership_id for r in rows}
    partnerships = {
        p.id: partnership_ref(p)
        for p in session.execute(
            select(Partnership).where(Partnership.id.in_(partnership_ids))
        ).scalars()
    }
    return [
        CommitmentView(
            id=r.id,
            ref=r.ref,
            team_id=r.team_id,
            partnership=partnerships[r.partnership_id],
            title=r.title,
            owner=people[r.owner_id],
            recipient=people[r.recipient_id] if r.recipient_id else None,
            created_by=people[r.created_by_id],
            **vars(CommitmentState.from_columns(r)),
            has_time=r.has_time,
            created_at=r.created_at,
            notes=r.notes,
            source_permalink=r.source_permalink,
            channel_message_ts=r.channel_message_ts,
        )
        for r in rows
    ]
