"""Say/do figures for any period, computed in SQL: the weekly summary, `/saydo stats`, the Home
tab and the quarterly review all read them from here.

The rules are `bot.keeping`'s, applied to the denormalised `commitment` columns (the mapping is
in its docstring): a commitment belongs to [start, end) by `judged_due_at`; proposed and
declined never count; withdrawn by the due date is listed, not counted. Every function runs a
fixed number of queries (aggregates with GROUP BY, served by `ix_commitment_partnership_judged_due`
and the owner/recipient indexes) whatever the number of commitments.

A person's organisation is their member row's organisation in that partnership; without one,
their Slack workspace (team) id.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, and_, case, func, literal, literal_column, or_, select
from sqlalchemy.sql import ColumnElement

from bot.charter import CharterSettings, coffee_round_at, review_date_after
from bot.commitments import CommitmentView, PartnershipRef
from bot.keeping import Status
from storage.db import transaction
from storage.models import Commitment, Member, Partnership, Person, UTCDateTime

TREND_WEEKS = 8
SPARKS = "▁▂▃▄▅▆▇█"
LISTED = 10  # titles shown at most in any one list
EARLY = timedelta(days=1)  # delivered at least this long before the judged due date


# --- the figures ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    """Outcome counts over a period. `withdrawn` (by the due date) and `pending` are not in the
    ratio; `early` counts kept commitments delivered a day or more ahead."""

    kept: int = 0
    late: int = 0
    missed: int = 0
    withdrawn: int = 0
    pending: int = 0
    early: int = 0

    @property
    def judged(self) -> int:
        return self.kept + self.late + self.missed

    @property
    def due(self) -> int:
        """Everything due in the period that counts (judged or still pending)."""
        return self.judged + self.pending

    @property
    def ratio(self) -> float | None:
        """kept / (kept + late + missed); None when nothing has been judged."""
        return self.kept / self.judged if self.judged else None

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.kept + other.kept,
            self.late + other.late,
            self.missed + other.missed,
            self.withdrawn + other.withdrawn,
            self.pending + other.pending,
            self.early + other.early,
        )


@dataclass(frozen=True)
class Owner:
    person_id: int
    user_id: str
    name: str
    organisation: str


@dataclass(frozen=True)
class Line:
    """One organisation's or person's figures: the period's tally and the weekly trend."""

    label: str
    tally: Tally
    trend: tuple[Tally, ...] = ()
    owner: Owner | None = None  # set on per-person lines

    @property
    def streak(self) -> int:
        """Full weeks kept in a row, ending with the latest trend week (weeks with nothing
        judged neither break nor extend it)."""
        weeks = 0
        for week in reversed(self.trend):
            if week.judged == 0:
                continue
            if week.ratio != 1:
                break
            weeks += 1
        return weeks

    @property
    def sparkline(self) -> str:
        return sparkline(t.ratio for t in self.trend)


@dataclass(frozen=True)
class Item:
    """A commitment named in a report (overdue, withdrawn, due soon)."""

    ref: int
    title: str
    owner: Owner
    due_at: datetime


@dataclass(frozen=True)
class Figures:
    """A partnership's figures for [start, end) as they stand at `now`."""

    partnership_id: int
    start: datetime
    end: datetime
    now: datetime
    total: Line
    organisations: tuple[Line, ...]
    people: tuple[Line, ...]
    withdrawn: tuple[Item, ...]  # withdrawn by their due date: listed, not counted (capped)
    trend_starts: tuple[datetime, ...] = ()


@dataclass(frozen=True)
class Ahead:
    """What is open and past its date now (needs a new date), and what falls due next."""

    overdue: tuple[Line, ...]  # per organisation: tally.missed = open past their date
    overdue_people: tuple[Line, ...]
    overdue_items: tuple[Item, ...]  # soonest first, capped
    overdue_total: int
    due_soon: tuple[Line, ...]  # per organisation: tally.pending = open, due in the window
    due_soon_items: tuple[Item, ...]
    due_soon_total: int


@dataclass(frozen=True)
class PersonRatios:
    """A person's own figures over the last 30 and 90 days (as owner)."""

    last_30: Tally
    last_90: Tally


def sparkline(ratios: Iterable[float | None]) -> str:
    """One character a week: ▁ (none kept) to █ (all kept); a space for nothing judged."""
    return "".join(
        " " if r is None else SPARKS[min(len(SPARKS) - 1, int(r * (len(SPARKS) - 1) + 0.5))]
        for r in ratios
    )


def week_starts(end: datetime, tz: str, weeks: int = TREND_WEEKS) -> tuple[datetime, ...]:
    """The starts (UTC) of the `weeks` local weeks before `end`, oldest first, plus `end`.

    Weeks are seven local days, so they stay aligned to midnight across clock changes."""
    zone = ZoneInfo(tz)
    local_end = end.astimezone(zone)
    return tuple(
        datetime.combine(
            local_end.date() - timedelta(days=7 * n), local_end.timetz().replace(tzinfo=None), zone
        ).astimezone(UTC)
        for n in range(weeks, -1, -1)
    )


def local_midnight(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(tz)).astimezone(UTC)


# --- SQL building blocks -------------------------------------------------------------------

_C = Commitment.__table__.c


def _at(moment: datetime) -> ColumnElement:
    return literal(moment, UTCDateTime())


def _sum(condition: ColumnElement) -> ColumnElement:
    return func.sum(case((condition, 1), else_=0))


def _early(dialect: str) -> ColumnElement:
    """Delivered at least EARLY before the judged due date, on either database."""
    if dialect == "sqlite":
        gap = func.julianday(_C.judged_due_at) - func.julianday(_C.delivered_at)
        return gap >= EARLY.total_seconds() / 86400
    return (_C.judged_due_at - _C.delivered_at) >= literal_column(
        f"interval '{int(EARLY.total_seconds())} seconds'"
    )


def _outcome_sums(now: datetime, dialect: str) -> list[ColumnElement]:
    """kept, late, missed, withdrawn, pending, early: the `bot.keeping` column mapping."""
    delivered = _C.status == Status.DELIVERED.value
    open_ = _C.status == Status.OPEN.value
    withdrawn = _C.status == Status.WITHDRAWN.value
    return [
        _sum(and_(delivered, _C.delivered_at <= _C.judged_due_at)).label("kept"),
        _sum(and_(delivered, _C.delivered_at > _C.judged_due_at)).label("late"),
        _sum(
            or_(
                and_(open_, _C.judged_due_at < _at(now)),
                and_(withdrawn, _C.withdrawn_at > _C.judged_due_at),
            )
        ).label("missed"),
        _sum(and_(withdrawn, _C.withdrawn_at <= _C.judged_due_at)).label("withdrawn"),
        _sum(and_(open_, _C.judged_due_at >= _at(now))).label("pending"),
        _sum(and_(delivered, _early(dialect))).label("early"),
    ]


def _counted(partnership_id: int, start: datetime, end: datetime) -> list[ColumnElement]:
    return [
        _C.partnership_id == partnership_id,
        _C.judged_due_at >= _at(start),
        _C.judged_due_at < _at(end),
        _C.status.not_in((Status.PROPOSED.value, Status.DECLINED.value)),
    ]


def _with_owners(grouped, partnership_id: int):
    """Join a subquery grouped by owner_id to the owner's person row and member row."""
    sub = grouped.subquery()
    organisation = func.coalesce(Member.organisation, Person.team_id)
    columns = [c for c in sub.c if c.name != "owner_id"]
    return (
        select(Person.id, Person.user_id, Person.name, organisation.label("org"), *columns)
        .select_from(sub)
        .join(Person, Person.id == sub.c.owner_id)
        .outerjoin(
            Member, and_(Member.person_id == Person.id, Member.partnership_id == partnership_id)
        )
    )


def _owner(row) -> Owner:
    return Owner(row.id, row.user_id, row.name, row.org)


def _tally(row) -> Tally:
    return Tally(
        int(row.kept or 0),
        int(row.late or 0),
        int(row.missed or 0),
        int(row.withdrawn or 0),
        int(row.pending or 0),
        int(row.early or 0),
    )


# --- queries -------------------------------------------------------------------------------


@contextmanager
def _reading(engine: Engine) -> Iterator[Connection]:
    """A Core connection for read-only aggregates (no ORM objects to build), one transaction
    so every query of a report sees the same data."""
    with engine.connect() as connection, connection.begin():
        yield connection


def figures(
    engine: Engine,
    *,
    partnership_id: int,
    start: datetime,
    end: datetime,
    now: datetime,
    trend: Sequence[datetime] = (),
) -> Figures:
    """The partnership's figures for [start, end) at `now`, by organisation and by person.

    `trend` (optional) is a list of boundaries b0 < b1 < ... < bn; each line then carries one
    Tally per [b_i, b_i+1) (see `week_starts`). Three queries whatever the number of rows.
    """
    dialect = engine.dialect.name
    sums = _outcome_sums(now, dialect)
    period = (
        select(_C.owner_id, *sums)
        .where(*_counted(partnership_id, start, end))
        .group_by(_C.owner_id)
    )
    withdrawn_items = (
        select(
            _C.ref,
            _C.title,
            _C.judged_due_at,
            Person.id,
            Person.user_id,
            Person.name,
            func.coalesce(Member.organisation, Person.team_id).label("org"),
        )
        .join(Person, Person.id == _C.owner_id)
        .outerjoin(
            Member, and_(Member.person_id == Person.id, Member.partnership_id == partnership_id)
        )
        .where(
            *_counted(partnership_id, start, end),
            _C.status == Status.WITHDRAWN.value,
            _C.withdrawn_at <= _C.judged_due_at,
        )
        .order_by(_C.judged_due_at, _C.ref)
        .limit(LISTED)
    )
    weeks = max(0, len(trend) - 1)
    # When the period is the trend's last week, the trend query gives the period too.
    period_in_trend = weeks > 0 and (trend[-2], trend[-1]) == (start, end)
    with _reading(engine) as connection:
        period_rows = []
        if not period_in_trend:
            period_rows = connection.execute(_with_owners(period, partnership_id)).all()
        trend_rows = []
        if weeks:
            bucket = case(
                *((_C.judged_due_at < _at(b), i) for i, b in enumerate(trend[1:])),
                else_=len(trend) - 1,
            ).label("bucket")
            grouped = (
                select(_C.owner_id, bucket, *sums)
                .where(*_counted(partnership_id, trend[0], trend[-1]))
                .group_by(_C.owner_id, bucket)
            )
            trend_rows = connection.execute(_with_owners(grouped, partnership_id)).all()
        if period_in_trend:
            period_rows = [r for r in trend_rows if r.bucket == weeks - 1]
        withdrawn = tuple(
            Item(r.ref, r.title, _owner(r), r.judged_due_at)
            for r in connection.execute(withdrawn_items).all()
        )

    owners: dict[int, Owner] = {}
    person_tally: dict[int, Tally] = defaultdict(Tally)
    person_trend: dict[int, list[Tally]] = defaultdict(lambda: [Tally()] * weeks)
    for row in period_rows:
        owners[row.id] = _owner(row)
        person_tally[row.id] = _tally(row)
    for row in trend_rows:
        owners.setdefault(row.id, _owner(row))
        person_trend[row.id][row.bucket] = _tally(row)

    people = tuple(
        sorted(
            (
                Line(
                    owner.name,
                    person_tally[pid],
                    tuple(person_trend[pid]) if weeks else (),
                    owner,
                )
                for pid, owner in owners.items()
            ),
            key=lambda line: (line.owner.organisation.lower(), line.label.lower()),
        )
    )
    organisations = tuple(
        _combine(org, [p for p in people if p.owner.organisation == org], weeks)
        for org in sorted({o.organisation for o in owners.values()}, key=str.lower)
    )
    total = _combine("Everyone", list(people), weeks)
    return Figures(
        partnership_id=partnership_id,
        start=start,
        end=end,
        now=now,
        total=total,
        organisations=organisations,
        people=people,
        withdrawn=withdrawn,
        trend_starts=tuple(trend[:-1]),
    )


def _combine(label: str, lines: list[Line], weeks: int) -> Line:
    tally = sum((line.tally for line in lines), Tally())
    trend = tuple(
        sum((line.trend[i] for line in lines if line.trend), Tally()) for i in range(weeks)
    )
    return Line(label, tally, trend)


def ahead(engine: Engine, *, partnership_id: int, now: datetime, until: datetime) -> Ahead:
    """Open commitments past their date in force at `now` (they need a new date), and open
    commitments falling due in [now, until). Four queries whatever the number of rows."""
    open_ = [_C.partnership_id == partnership_id, _C.status == Status.OPEN.value]
    overdue = _C.due_at < _at(now)
    soon = and_(_C.due_at >= _at(now), _C.due_at < _at(until))
    grouped = (
        select(
            _C.owner_id,
            _sum(overdue).label("overdue"),
            _sum(soon).label("soon"),
        )
        .where(*open_, or_(overdue, soon))
        .group_by(_C.owner_id)
    )
    organisation = func.coalesce(Member.organisation, Person.team_id).label("org")

    def items(condition: ColumnElement):
        return (
            select(
                _C.ref, _C.title, _C.due_at, Person.id, Person.user_id, Person.name, organisation
            )
            .join(Person, Person.id == _C.owner_id)
            .outerjoin(
                Member,
                and_(Member.person_id == Person.id, Member.partnership_id == partnership_id),
            )
            .where(*open_, condition)
            .order_by(_C.due_at, _C.ref)
            .limit(LISTED)
        )

    with _reading(engine) as connection:
        rows = connection.execute(_with_owners(grouped, partnership_id)).all()
        overdue_items = connection.execute(items(overdue)).all()
        soon_items = connection.execute(items(soon)).all()

    people_overdue = tuple(
        Line(r.name, Tally(missed=int(r.overdue)), (), _owner(r)) for r in rows if r.overdue
    )
    people_soon = [Line(r.name, Tally(pending=int(r.soon)), (), _owner(r)) for r in rows if r.soon]

    def by_org(lines: Iterable[Line]) -> tuple[Line, ...]:
        groups: dict[str, Tally] = defaultdict(Tally)
        for line in lines:
            groups[line.owner.organisation] += line.tally
        return tuple(Line(org, groups[org]) for org in sorted(groups, key=str.lower))

    return Ahead(
        overdue=by_org(people_overdue),
        overdue_people=tuple(sorted(people_overdue, key=lambda line: line.label.lower())),
        overdue_items=tuple(Item(r.ref, r.title, _owner(r), r.due_at) for r in overdue_items),
        overdue_total=sum(line.tally.missed for line in people_overdue),
        due_soon=by_org(people_soon),
        due_soon_items=tuple(Item(r.ref, r.title, _owner(r), r.due_at) for r in soon_items),
        due_soon_total=sum(line.tally.pending for line in people_soon),
    )


def person_ratios(
    engine: Engine, *, person_ids: Sequence[int], partnership_id: int | None, now: datetime
) -> PersonRatios:
    """A person's own figures (as owner) for the 30 and 90 days up to `now`: one query."""
    conditions = [
        _C.owner_id.in_(list(person_ids) or [-1]),
        _C.judged_due_at >= _at(now - timedelta(days=90)),
        _C.judged_due_at < _at(now),
        _C.status.not_in((Status.PROPOSED.value, Status.DECLINED.value)),
    ]
    if partnership_id is not None:
        conditions.append(_C.partnership_id == partnership_id)
    recent = case((_C.judged_due_at >= _at(now - timedelta(days=30)), 1), else_=0).label("recent")
    query = select(recent, *_outcome_sums(now, engine.dialect.name)).where(*conditions)
    with _reading(engine) as connection:
        rows = connection.execute(query.group_by(recent)).all()
    by_recent = {row.recent: _tally(row) for row in rows}
    last_30 = by_recent.get(1, Tally())
    return PersonRatios(last_30=last_30, last_90=last_30 + by_recent.get(0, Tally()))


def raw_week_aggregate(
    engine: Engine, *, partnership_id: int, start: datetime, end: datetime, now: datetime
):
    """The benchmark's yardstick: one plain aggregate over the period's rows."""
    query = select(*_outcome_sums(now, engine.dialect.name)).where(
        *_counted(partnership_id, start, end)
    )
    with engine.connect() as connection:
        return connection.execute(query).one()


# --- the calendar and the Home tab ----------------------------------------------------------


@dataclass(frozen=True)
class Calendar:
    """A partnership's next coffee round and next review, as of a moment."""

    next_coffee: datetime
    next_review: datetime  # local midnight of the review day, UTC


def calendar(settings: CharterSettings, tz: str, began: datetime, *, now: datetime) -> Calendar:
    zone = ZoneInfo(tz)
    began_day = began.astimezone(zone).date()
    coffee = coffee_round_at(settings, tz, began=began_day, on_or_after=now)
    review_day = review_date_after(settings, began=began_day, after=now.astimezone(zone).date())
    return Calendar(coffee, local_midnight(review_day, tz))


@dataclass(frozen=True)
class HomeData:
    user_id: str
    tz: str
    partnerships: Sequence[PartnershipRef]
    selected: PartnershipRef | None
    open_items: Sequence[CommitmentView]
    open_total: int
    owed: Sequence[CommitmentView]
    owed_total: int
    ratios: PersonRatios | None
    calendar: Calendar | None
    now: datetime


def home_data(
    engine: Engine,
    *,
    user_id: str,
    now: datetime,
    partnership_id: int | None = None,
    open_shown: int = 15,
    owed_shown: int = 10,
) -> HomeData:
    """Everything the person's Home tab shows for one of their partnerships (the one asked
    for, else the one with their soonest open commitment): a fixed number of queries."""
    from bot.charter import current_charter
    from bot.commitments import partnership_ref, views_of

    with transaction(engine) as session:
        people = session.execute(select(Person).where(Person.user_id == user_id)).scalars().all()
        ids = [p.id for p in people] or [-1]
        tz = people[0].tz if people else "UTC"
        involved = (
            select(Member.partnership_id.label("pid"))
            .where(Member.person_id.in_(ids), Member.active.is_(True))
            .union(
                select(_C.partnership_id).where(or_(_C.owner_id.in_(ids), _C.recipient_id.in_(ids)))
            )
            .subquery()
        )
        rows = (
            session.execute(
                select(Partnership)
                .where(Partnership.id.in_(select(involved.c.pid)))
                .order_by(Partnership.name, Partnership.id)
            )
            .scalars()
            .all()
        )
        partnerships = [partnership_ref(p) for p in rows]
        began = {p.id: p.created_at for p in rows}
        if not partnerships:
            return HomeData(user_id, tz, [], None, [], 0, [], 0, None, None, now)
        chosen = {p.id: p for p in partnerships}.get(partnership_id or -1)
        open_ = _C.status.in_((Status.OPEN.value, Status.PROPOSED.value))
        if chosen is None:
            soonest = session.execute(
                select(_C.partnership_id)
                .where(_C.owner_id.in_(ids), open_)
                .order_by(_C.due_at)
                .limit(1)
            ).scalar_one_or_none()
            chosen = {p.id: p for p in partnerships}.get(soonest or -1, partnerships[0])
        mine = [_C.partnership_id == chosen.id, _C.owner_id.in_(ids), open_]
        owed = [_C.partnership_id == chosen.id, _C.recipient_id.in_(ids), open_]
        counts = session.execute(
            select(
                _sum(and_(*mine)).label("mine"),
                _sum(and_(*owed)).label("owed"),
            ).where(_C.partnership_id == chosen.id)
        ).one()
        open_rows = (
            session.execute(
                select(Commitment).where(*mine).order_by(_C.due_at, _C.ref).limit(open_shown)
            )
            .scalars()
            .all()
        )
        owed_rows = (
            session.execute(
                select(Commitment).where(*owed).order_by(_C.due_at, _C.ref).limit(owed_shown)
            )
            .scalars()
            .all()
        )
        views = views_of(session, [*open_rows, *owed_rows])
    charter = current_charter(engine, partnership_id=chosen.id)
    return HomeData(
        user_id=user_id,
        tz=tz,
        partnerships=partnerships,
        selected=chosen,
        open_items=views[: len(open_rows)],
        open_total=int(counts.mine or 0),
        owed=views[len(open_rows) :],
        owed_total=int(counts.owed or 0),
        ratios=person_ratios(engine, person_ids=ids, partnership_id=chosen.id, now=now),
        calendar=calendar(charter.settings, chosen.tz, began[chosen.id], now=now),
        now=now,
    )


__all__ = [
    "Ahead",
    "Calendar",
    "Figures",
    "HomeData",
    "Item",
    "Line",
    "Owner",
    "PersonRatios",
    "Tally",
    "ahead",
    "calendar",
    "figures",
    "home_data",
    "local_midnight",
    "person_ratios",
    "sparkline",
    "week_starts",
]
