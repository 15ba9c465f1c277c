"""Say/do figures for any period, computed in SQL: the weekly summary, `/saydo stats`, the Home
tab and the quarterly review all read them from here.

The rules are `bot.commitments.lifecycle`'s, applied to the denormalised `commitment` columns (the
mapping is in its docstring): a commitment belongs to [start, end) by `judged_due_at`; proposed and
declined never count; withdrawn by the due date is listed, not counted. Every function runs a fixed
number of queries (aggregates with GROUP BY, served by `ix_commitment_partnership_judged_due`,
`ix_commitment_partnership_status_due` and the owner/recipient indexes) whatever the number of
commitments.

The report aggregates (`tallies`, `ahead`) classify each row once, with one CASE giving its
outcome code, group by owner, bucket (week or quarter) and code, and only then join the few
groups to people and organisations and pivot them into counts: one pass over the period's rows
for the figures and their whole trend, or for a quarter and the one before. Their statements
are built once and run with bound parameters.

A person's organisation is their member row's organisation in that partnership; without one,
their Slack workspace (team) id.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache, partial
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.sql import ColumnElement

from bot.charter.service import DEFAULT_CHARTER, coffee_round_at, current_charter, review_date_after
from bot.commitments.lifecycle import Status
from bot.commitments.service import CommitmentView, PartnershipRef, partnership_ref, views_of
from bot.policy.charter_settings import CharterSettings
from bot.policy.visibility import commitment_visible_to, member_partnerships
from storage.db import transaction
from storage.models import (
    CharterVersion,
    Commitment,
    Member,
    Partnership,
    Person,
    UTCDateTime,
)

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
    people: tuple[Line, ...]  # empty unless worked out by person
    withdrawn: tuple[Item, ...]  # withdrawn by their due date: listed, not counted (capped);
    # empty unless worked out by person (titles are shown only then)
    trend_starts: tuple[datetime, ...] = ()


@dataclass(frozen=True)
class Ahead:
    """What is open and past its date now (needs a new date), and what falls due next."""

    overdue: tuple[Line, ...]  # per organisation: tally.missed = open past their date
    overdue_people: tuple[Line, ...]  # empty unless worked out by person, as are the items
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
#
# The report statements are built once (per database dialect and shape) with bound parameters,
# so a report only binds values and runs them: :pid the partnership, :now the reporting
# instant, :b0 … :bN the period or week boundaries, :until the end of "the week ahead".

_C = Commitment.__table__.c
_PID = bindparam("pid", type_=Integer())
_NOW = bindparam("now", type_=UTCDateTime())
_UNTIL = bindparam("until", type_=UTCDateTime())
_UPPER = bindparam("upper", type_=UTCDateTime())  # max(now, until)
_ORG = func.coalesce(Member.organisation, Person.team_id).label("org")

# What `bot.commitments.lifecycle` makes of a counted row at :now, as one code per row (NULL: not
# counted). Kept early is kept, counted apart so the early deliveries come from the same pass.
_KEPT, _EARLY, _LATE, _MISSED, _WITHDRAWN, _PENDING = range(6)
_OUTCOMES = ("kept", "early", "late", "missed", "withdrawn", "pending")


def _at(moment: datetime) -> ColumnElement:
    return literal(moment, UTCDateTime())


def _sum(condition: ColumnElement) -> ColumnElement:
    return func.sum(case((condition, 1), else_=0))


def _code(n: int) -> ColumnElement:
    return literal_column(str(n), Integer())


def _early(dialect: str) -> ColumnElement:
    """Delivered at least EARLY before the judged due date, on either database."""
    if dialect == "sqlite":
        gap = func.julianday(_C.judged_due_at) - func.julianday(_C.delivered_at)
        return gap >= EARLY.total_seconds() / 86400
    return (_C.judged_due_at - _C.delivered_at) >= literal_column(
        f"interval '{int(EARLY.total_seconds())} seconds'"
    )


def _outcome_sums(now: datetime, dialect: str) -> list[ColumnElement]:
    """kept, late, missed, withdrawn, pending, early: the `bot.commitments.lifecycle` column
    mapping, as one sum per outcome (`person_ratios`)."""
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


def _outcome(dialect: str) -> ColumnElement:
    """The outcome code of a row at :now: the same mapping as `_outcome_sums`, one CASE."""
    return case(
        {
            Status.DELIVERED.value: case(
                (
                    _C.delivered_at <= _C.judged_due_at,
                    case((_early(dialect), _code(_EARLY)), else_=_code(_KEPT)),
                ),
                (_C.delivered_at > _C.judged_due_at, _code(_LATE)),
            ),
            Status.OPEN.value: case(
                (_C.judged_due_at < _NOW, _code(_MISSED)), else_=_code(_PENDING)
            ),
            Status.WITHDRAWN.value: case(
                (_C.withdrawn_at > _C.judged_due_at, _code(_MISSED)),
                (_C.withdrawn_at <= _C.judged_due_at, _code(_WITHDRAWN)),
            ),
        },
        value=_C.status,
    )


def _tally(row) -> Tally:
    return Tally(
        int(row.kept or 0),
        int(row.late or 0),
        int(row.missed or 0),
        int(row.withdrawn or 0),
        int(row.pending or 0),
        int(row.early or 0),
    )


def _bounds(buckets: int) -> list[ColumnElement]:
    return [bindparam(f"b{i}", type_=UTCDateTime()) for i in range(buckets + 1)]


def _bucket(bounds: Sequence[ColumnElement], lo: int, hi: int) -> ColumnElement:
    """Which [b_i, b_i+1) of [b_lo, b_hi) a row falls in: a binary search, log2 tests a row."""
    if hi - lo == 1:
        return _code(lo)
    mid = (lo + hi) // 2
    return case(
        (_C.judged_due_at < bounds[mid], _bucket(bounds, lo, mid)),
        else_=_bucket(bounds, mid, hi),
    )


def _owned(statement, owner_id: ColumnElement):
    """Join the owner's person row and (outer) member row of :pid."""
    return statement.join(Person, Person.id == owner_id).outerjoin(
        Member, and_(Member.person_id == Person.id, Member.partnership_id == _PID)
    )


_OWNER_KEYS = (Person.id, Person.user_id, Person.name, _ORG)


@lru_cache(maxsize=64)
def _tally_statement(dialect: str, buckets: int, by_person: bool, renegotiated: bool):
    """Outcome counts of :pid's rows in [b0, bN), per bucket [b_i, b_i+1) and per organisation
    (or per person: id, user id, name, organisation).

    The rows are grouped by owner, bucket and outcome code (one CASE a row, small integer keys),
    then the few groups are joined to their owners and pivoted into one column per outcome."""
    bounds = _bounds(buckets)
    bucket = _bucket(bounds, 0, buckets).label("bucket")
    outcome = _outcome(dialect).label("outcome")
    columns = [_C.owner_id, bucket, outcome, func.count().label("n")]
    if renegotiated:
        columns.append(func.count(case((_C.renegotiated, 1))).label("renegotiated"))
    grouped = (
        select(*columns)
        .where(
            _C.partnership_id == _PID,
            _C.judged_due_at >= bounds[0],
            _C.judged_due_at < bounds[-1],
            _C.status.not_in((Status.PROPOSED.value, Status.DECLINED.value)),
        )
        .group_by(_C.owner_id, literal_column("bucket"), literal_column("outcome"))
        .subquery("g")
    )
    g = grouped.c
    counts = [
        cast(func.sum(case((g.outcome == _code(code), g.n), else_=_code(0))), Integer()).label(name)
        for code, name in enumerate(_OUTCOMES)
    ]
    if renegotiated:
        counts.append(cast(func.sum(g.renegotiated), Integer()).label("renegotiated"))
    keys = _OWNER_KEYS if by_person else (_ORG,)
    return _owned(select(*keys, g.bucket, *counts).select_from(grouped), g.owner_id).group_by(
        *keys, g.bucket
    )


@dataclass(frozen=True)
class Tallies:
    """Outcome counts per bucket [b_i, b_i+1) of `bounds`, per organisation (or per `Owner`)."""

    bounds: tuple[datetime, ...]
    series: dict[str | Owner, tuple[Tally, ...]]
    renegotiated: tuple[int, ...]  # per bucket, when asked for


EMPTY = Tally()


def tallies(
    bind: Engine | Connection,
    *,
    partnership_id: int,
    bounds: Sequence[datetime],
    now: datetime,
    by_person: bool = False,
    renegotiated: bool = False,
) -> Tallies:
    """One query: the partnership's counted rows in [bounds[0], bounds[-1]) at `now`, per
    bucket, by organisation (or by person), optionally with renegotiated counts per bucket."""
    buckets = len(bounds) - 1
    params = {"pid": partnership_id, "now": now}
    params.update((f"b{i}", b) for i, b in enumerate(bounds))
    with reading(bind) as connection:
        statement = _tally_statement(connection.dialect.name, buckets, by_person, renegotiated)
        rows = connection.execute(statement, params).all()
    keys = 4 if by_person else 1
    series: dict = {}
    renegotiated_counts = [0] * buckets
    for row in rows:
        key = row[:keys] if by_person else row[0]
        bucket = row[keys]
        kept, early, late, missed, withdrawn, pending = row[keys + 1 : keys + 7]
        weeks = series.get(key)
        if weeks is None:
            weeks = series[key] = [EMPTY] * buckets
        weeks[bucket] = Tally(kept + early, late, missed, withdrawn, pending, early)
        if renegotiated:
            renegotiated_counts[bucket] += row[keys + 7]
    if by_person:
        series = {Owner(*key): tuple(weeks) for key, weeks in series.items()}
    else:
        series = {key: tuple(weeks) for key, weeks in series.items()}
    return Tallies(tuple(bounds), series, tuple(renegotiated_counts))


_WITHDRAWN_ITEMS = (
    _owned(
        select(_C.ref, _C.title, _C.judged_due_at, *_OWNER_KEYS).select_from(Commitment.__table__),
        _C.owner_id,
    )
    .where(
        _C.partnership_id == _PID,
        _C.judged_due_at >= bindparam("b0", type_=UTCDateTime()),
        _C.judged_due_at < bindparam("b1", type_=UTCDateTime()),
        _C.status == Status.WITHDRAWN.value,
        _C.withdrawn_at <= _C.judged_due_at,
    )
    .order_by(_C.judged_due_at, _C.ref)
    .limit(LISTED)
)


# --- queries -------------------------------------------------------------------------------


@contextmanager
def reading(bind: Engine | Connection) -> Iterator[Connection]:
    """A Core connection for read-only aggregates (no ORM objects to build), one transaction
    so every query of a report sees the same data. Given a connection, it is used as it is:
    a report built from several parts reads them all in its one transaction."""
    if isinstance(bind, Connection):
        yield bind
        return
    with bind.connect() as connection, connection.begin():
        yield connection


def _item(row) -> Item:
    ref, title, due_at, person_id, user_id, name, org = row[-7:]
    return Item(ref, title, Owner(person_id, user_id, name, org), due_at)


def figures(
    bind: Engine | Connection,
    *,
    partnership_id: int,
    start: datetime,
    end: datetime,
    now: datetime,
    trend: Sequence[datetime] = (),
    by_person: bool = True,
) -> Figures:
    """The partnership's figures for [start, end) at `now`, by organisation and by person.

    `trend` (optional) is a list of boundaries b0 < b1 < ... < bn; each line then carries one
    Tally per [b_i, b_i+1) (see `week_starts`). With `by_person` false only the organisations
    and everyone together are worked out (no `people` lines, no withdrawn titles): what a
    summary shows when the charter names nobody. At most three queries whatever the number of
    rows; one when the period is the trend's last week and nobody is named.
    """
    weeks = max(0, len(trend) - 1)
    with reading(bind) as connection:
        counts = partial(
            tallies, connection, partnership_id=partnership_id, now=now, by_person=by_person
        )
        if weeks and (trend[-2], trend[-1]) == (start, end):
            by_week = counts(bounds=trend).series
            period = {key: series[-1] for key, series in by_week.items()}
        else:
            period = {key: series[0] for key, series in counts(bounds=(start, end)).series.items()}
            by_week = counts(bounds=trend).series if weeks else {}
        withdrawn: tuple[Item, ...] = ()
        if by_person:
            rows = connection.execute(
                _WITHDRAWN_ITEMS, {"pid": partnership_id, "b0": start, "b1": end}
            ).all()
            withdrawn = tuple(_item(r) for r in rows)

    blank = (EMPTY,) * weeks

    def line(key, label: str, owner: Owner | None = None) -> Line:
        return Line(label, period.get(key, EMPTY), by_week.get(key, blank), owner)

    keys = list(period) + [key for key in by_week if key not in period]
    if by_person:
        people = tuple(
            sorted(
                (line(owner, owner.name, owner) for owner in keys),
                key=lambda p: (p.owner.organisation.lower(), p.label.lower()),
            )
        )
        members: dict[str, list[Line]] = defaultdict(list)
        for person in people:
            members[person.owner.organisation].append(person)
        organisations = tuple(
            _combine(org, members[org], weeks) for org in sorted(members, key=str.lower)
        )
    else:
        people = ()
        organisations = tuple(line(org, org) for org in sorted(keys, key=str.lower))
    return Figures(
        partnership_id=partnership_id,
        start=start,
        end=end,
        now=now,
        total=_combine("Everyone", organisations, weeks),
        organisations=organisations,
        people=people,
        withdrawn=withdrawn,
        trend_starts=tuple(trend[:-1]),
    )


def _total(tallies: Iterable[Tally]) -> Tally:
    """The sum of `tallies` (as `sum(tallies, Tally())`, without a Tally per step)."""
    kept = late = missed = withdrawn = pending = early = 0
    for t in tallies:
        kept += t.kept
        late += t.late
        missed += t.missed
        withdrawn += t.withdrawn
        pending += t.pending
        early += t.early
    return Tally(kept, late, missed, withdrawn, pending, early)


def _combine(label: str, lines: Sequence[Line], weeks: int) -> Line:
    tally = _total(line.tally for line in lines)
    trend = tuple(_total(line.trend[i] for line in lines) for i in range(weeks))
    return Line(label, tally, trend)


_OPEN_AHEAD = (
    select(
        _C.owner_id,
        func.count().label("n"),
        func.count(case((_C.due_at < _NOW, 1))).label("overdue"),
    )
    .where(_C.partnership_id == _PID, _C.status == Status.OPEN.value, _C.due_at < _UPPER)
    .group_by(_C.owner_id)
    .subquery("a")
)
_AHEAD_BY_ORG = _owned(
    select(
        _ORG,
        cast(func.sum(_OPEN_AHEAD.c.overdue), Integer()).label("overdue"),
        cast(func.sum(_OPEN_AHEAD.c.n - _OPEN_AHEAD.c.overdue), Integer()).label("soon"),
    ).select_from(_OPEN_AHEAD),
    _OPEN_AHEAD.c.owner_id,
).group_by(_ORG)
_AHEAD_BY_PERSON = _owned(
    select(
        *_OWNER_KEYS,
        _OPEN_AHEAD.c.overdue,
        (_OPEN_AHEAD.c.n - _OPEN_AHEAD.c.overdue).label("soon"),
    ).select_from(_OPEN_AHEAD),
    _OPEN_AHEAD.c.owner_id,
)


def _ahead_items(overdue: int, *conditions: ColumnElement):
    return (
        _owned(
            select(
                _code(overdue).label("overdue"), _C.ref, _C.title, _C.due_at, *_OWNER_KEYS
            ).select_from(Commitment.__table__),
            _C.owner_id,
        )
        .where(_C.partnership_id == _PID, _C.status == Status.OPEN.value, *conditions)
        .order_by(_C.due_at, _C.ref)
        .limit(LISTED)
        .subquery()
    )


# The first few overdue and the first few due soon, in one statement.
_AHEAD_ITEMS = union_all(
    select(_ahead_items(1, _C.due_at < _NOW)),
    select(_ahead_items(0, _C.due_at >= _NOW, _C.due_at < _UNTIL)),
)


def ahead(
    bind: Engine | Connection,
    *,
    partnership_id: int,
    now: datetime,
    until: datetime,
    by_person: bool = True,
) -> Ahead:
    """Open commitments past their date in force at `now` (they need a new date), and open
    commitments falling due in [now, until). With `by_person` false, only the counts per
    organisation (no people, no titles): one query; else two, whatever the number of rows."""
    params = {"pid": partnership_id, "now": now, "until": until, "upper": max(now, until)}
    with reading(bind) as connection:
        rows = connection.execute(_AHEAD_BY_PERSON if by_person else _AHEAD_BY_ORG, params).all()
        items = connection.execute(_AHEAD_ITEMS, params).all() if by_person else []

    def by_org(lines: Iterable[Line]) -> tuple[Line, ...]:
        groups: dict[str, Tally] = defaultdict(Tally)
        for line in lines:
            groups[line.label] += line.tally
        return tuple(Line(org, groups[org]) for org in sorted(groups, key=str.lower))

    if by_person:
        owners = [(Owner(*r[:4]), r.overdue, r.soon) for r in rows]
        people_overdue = tuple(Line(o.name, Tally(missed=int(n)), (), o) for o, n, _ in owners if n)
        people_soon = [Line(o.name, Tally(pending=int(n)), (), o) for o, _, n in owners if n]
        overdue = by_org(Line(p.owner.organisation, p.tally) for p in people_overdue)
        due_soon = by_org(Line(p.owner.organisation, p.tally) for p in people_soon)
    else:
        people_overdue = ()
        overdue = by_org(Line(r.org, Tally(missed=r.overdue)) for r in rows if r.overdue)
        due_soon = by_org(Line(r.org, Tally(pending=r.soon)) for r in rows if r.soon)
    items = sorted(items, key=lambda r: (r.due_at, r.ref))
    return Ahead(
        overdue=overdue,
        overdue_people=tuple(sorted(people_overdue, key=lambda line: line.label.lower())),
        overdue_items=tuple(_item(r) for r in items if r.overdue),
        overdue_total=sum(line.tally.missed for line in overdue),
        due_soon=due_soon,
        due_soon_items=tuple(_item(r) for r in items if not r.overdue),
        due_soon_total=sum(line.tally.pending for line in due_soon),
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
    with reading(engine) as connection:
        rows = connection.execute(query.group_by(recent)).all()
    by_recent = {row.recent: _tally(row) for row in rows}
    last_30 = by_recent.get(1, Tally())
    return PersonRatios(last_30=last_30, last_90=last_30 + by_recent.get(0, Tally()))


# --- a partnership and its charter, in one read -------------------------------------------


@dataclass(frozen=True)
class Header:
    """What every report of a partnership starts from."""

    partnership: PartnershipRef
    began: datetime  # the partnership's created_at
    charter_version: int  # 0: no version adopted, the defaults apply
    settings: CharterSettings


_LATEST = (
    select(func.max(CharterVersion.version))
    .where(CharterVersion.partnership_id == _PID)
    .scalar_subquery()
)
_HEADER = (
    select(
        Partnership.id,
        Partnership.team_id,
        Partnership.channel_id,
        Partnership.name,
        Partnership.tz,
        Partnership.created_at,
        CharterVersion.version,
        CharterVersion.settings,
    )
    .outerjoin(
        CharterVersion,
        and_(CharterVersion.partnership_id == Partnership.id, CharterVersion.version == _LATEST),
    )
    .where(Partnership.id == _PID)
)


def header(bind: Engine | Connection, partnership_id: int) -> Header | None:
    """The partnership and its current charter (`bot.charter.service.current_charter`'s settings):
    one query; None if the partnership does not exist."""
    with reading(bind) as connection:
        row = connection.execute(_HEADER, {"pid": partnership_id}).one_or_none()
    if row is None:
        return None
    settings = DEFAULT_CHARTER.settings
    if row.version is not None:
        settings = CharterSettings.from_json(row.settings)
    return Header(
        PartnershipRef(row.id, row.team_id, row.channel_id, row.name, row.tz),
        row.created_at,
        row.version or 0,
        settings,
    )


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
    with transaction(engine) as session:
        people = session.execute(select(Person).where(Person.user_id == user_id)).scalars().all()
        ids = [p.id for p in people] or [-1]
        tz = people[0].tz if people else "UTC"
        involved = (
            member_partnerships(user_id)
            .union(
                select(_C.partnership_id).where(or_(_C.owner_id.in_(ids), _C.recipient_id.in_(ids)))
            )
            .subquery()
        )
        rows = (
            session.execute(
                select(Partnership)
                .where(Partnership.id.in_(select(involved.c.partnership_id)))
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
        seen = commitment_visible_to(user_id)
        mine = [_C.partnership_id == chosen.id, _C.owner_id.in_(ids), open_, seen]
        owed = [_C.partnership_id == chosen.id, _C.recipient_id.in_(ids), open_, seen]
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
    "EMPTY",
    "Ahead",
    "Calendar",
    "Figures",
    "Header",
    "HomeData",
    "Item",
    "Line",
    "Owner",
    "PersonRatios",
    "Tallies",
    "Tally",
    "ahead",
    "calendar",
    "figures",
    "header",
    "home_data",
    "local_midnight",
    "person_ratios",
    "reading",
    "sparkline",
    "tallies",
    "week_starts",
]
