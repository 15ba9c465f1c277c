"""Quarterly reviews: reminders with an evidence pack, the review record, and lessons learned.

Reminders go through the outbox. The `reviews` sweep plans, for each partnership, the next review
date its charter sets (`bot.charter.service.review_date_after`, counted from the partnership's
`created_at` date) and enqueues three slots, `review:<partnership>:<date>:14`, `:2` and `:0`, at the
charter's summary time in the partnership's time zone, 14 days, 2 days and 0 days before the review.
Slot keys make planning idempotent; the message is rendered at send time, so it reflects the
database as it is then (and a slot whose date the charter no longer sets is cancelled).

The evidence pack covers the quarter: the three months before the review date, as [review date - 3
months, review date) in local days of the partnership's time zone, and the quarter before it for
comparison. Its figures are SQL aggregates following the mapping in `bot.commitments.lifecycle`, so
it takes the same number of queries however many commitments there are."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import combinations
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlalchemy import Engine, Integer, and_, bindparam, func, or_, select, update

from bot.charter.service import current_charter, review_date_after
from bot.commitments.lifecycle import Status
from bot.commitments.service import PartnershipRef, PersonRef, partnership_ref, person_ref
from bot.costs.service import Ledger, partnership_ledger
from bot.objectives.service import MAX_CHARTS, ObjectiveView, partnership_objectives
from bot.outbox.sending import STILL_USEFUL, Planned, enqueue
from bot.policy.charter_settings import CharterSettings, settings_in
from bot.refusal import Refusal
from bot.reports import figures as reports
from bot.reports.figures import Tally
from storage.db import transaction
from storage.models import (
    CharterProposal,
    CharterVersion,
    CoffeePairing,
    CoffeeRound,
    Commitment,
    CostProject,
    Lesson,
    Member,
    Objective,
    Partnership,
    Person,
    ReviewRecord,
    UTCDateTime,
)

REVIEW = "review"  # the outbox kind
OFFSETS = (14, 2, 0)  # days before the review date
RECORDABLE_OFFSETS = (2, 0)  # reminders that carry the "Record the review" button
QUARTER = relativedelta(months=3)
PLAN_AHEAD = timedelta(days=7)  # slots are enqueued in the week before they are due
LIST_LIMIT = 8  # items of each list shown in the pack; the rest are in `saydo export`
MAX_LESSON = 1000
MAX_RECORD_FIELD = 3000
LESSONS_SHOWN = 20


# --- planning (the `reviews` sweep) -------------------------------------------------------


def slot_key(partnership_id: int, review_date: date, offset: int) -> str:
    return f"{REVIEW}:{partnership_id}:{review_date.isoformat()}:{offset}"


def parse_slot_key(key: str) -> tuple[int, date, int]:
    _, partnership_id, day, offset = key.split(":")
    return int(partnership_id), date.fromisoformat(day), int(offset)


def reminder_at(settings: CharterSettings, tz: str, review_date: date, offset: int) -> datetime:
    """The charter's summary time, `offset` days before the review, in the partnership's zone."""
    day = review_date - timedelta(days=offset)
    return datetime.combine(day, settings.summary_time, ZoneInfo(tz)).astimezone(UTC)


def began(partnership: Partnership | PartnershipRef, created_at: datetime) -> date:
    return created_at.astimezone(ZoneInfo(partnership.tz)).date()


def plan(engine: Engine, *, now: datetime) -> int:
    """Enqueue the reminder slots of each partnership's next review that fall due within
    `PLAN_AHEAD` (so a charter change moving the date leaves few stale slots, and `saydo
    schedule` shows the coming week's); returns how many were new or already planned. Slots
    already more than `STILL_USEFUL` late are not planned."""
    latest = (
        select(CharterVersion.partnership_id, func.max(CharterVersion.version).label("version"))
        .group_by(CharterVersion.partnership_id)
        .subquery()
    )
    statement = (
        select(Partnership, CharterVersion.settings)
        .outerjoin(latest, latest.c.partnership_id == Partnership.id)
        .outerjoin(
            CharterVersion,
            and_(
                CharterVersion.partnership_id == Partnership.id,
                CharterVersion.version == latest.c.version,
            ),
        )
    )
    planned: list[Planned] = []
    with transaction(engine) as session:
        for partnership, settings_json in session.execute(statement):
            settings = CharterSettings.from_json(settings_json or "{}")
            today = now.astimezone(ZoneInfo(partnership.tz)).date()
            start = began(partnership, partnership.created_at)
            review = review_date_after(settings, began=start, after=today)
            for offset in OFFSETS:
                at = reminder_at(settings, partnership.tz, review, offset)
                if now - STILL_USEFUL <= at <= now + PLAN_AHEAD:
                    planned.append(
                        Planned(
                            slot_key=slot_key(partnership.id, review, offset),
                            kind=REVIEW,
                            channel=partnership.channel_id,
                            due_at=at,
                        )
                    )
        enqueue(session, planned, now=now)
    return len(planned)


# --- the evidence pack --------------------------------------------------------------------


@dataclass(frozen=True)
class OrganisationFigures:
    organisation: str
    current: Tally
    previous: Tally


@dataclass(frozen=True)
class Listed:
    """A commitment in the pack's lists: reference, title and the owner's organisation."""

    ref: int
    title: str
    organisation: str
    due_at: datetime


@dataclass(frozen=True)
class LessonView:
    id: int
    text: str
    person: PersonRef
    organisation: str | None
    created_at: datetime


@dataclass(frozen=True)
class Pack:
    partnership: PartnershipRef
    review_date: date
    start: datetime  # the quarter, [start, end), UTC
    end: datetime
    previous_start: datetime
    target: float
    total: Tally
    previous_total: Tally
    organisations: tuple[OrganisationFigures, ...]
    missed: tuple[Listed, ...]
    missed_count: int
    renegotiated: tuple[Listed, ...]
    renegotiated_count: int
    coffee_rounds: int
    coffees_held: int
    coffees_planned: int
    pairs_met: tuple[tuple[str, str], ...]  # organisation pairs, sorted
    lessons: tuple[LessonView, ...]
    lessons_count: int
    charter_version: int
    open_proposals: tuple[tuple[int, datetime], ...]  # (id, created_at)
    open_proposals_count: int
    objectives: tuple[ObjectiveView, ...] = ()
    costs: Ledger | None = None


def quarter_bounds(review_date: date, tz: str) -> tuple[datetime, datetime, datetime]:
    """(previous quarter start, quarter start, quarter end) as UTC instants: local midnights."""
    zone = ZoneInfo(tz)

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(0), zone).astimezone(UTC)

    return (
        midnight(review_date - 2 * QUARTER),
        midnight(review_date - QUARTER),
        midnight(review_date),
    )


_PID = bindparam("pid", type_=Integer())
_START = bindparam("start", type_=UTCDateTime())
_END = bindparam("end", type_=UTCDateTime())
_NOW = bindparam("now", type_=UTCDateTime())


def _organisation_column():
    """The owner's organisation as `bot.reports.figures` has it: their member row's, else their
    Slack workspace id."""
    return func.coalesce(Member.organisation, Person.team_id)


def _counted():
    """Counted in the quarter [:start, :end), as `bot.reports.figures` counts."""
    return and_(
        Commitment.partnership_id == _PID,
        Commitment.status.not_in((Status.PROPOSED.value, Status.DECLINED.value)),
        Commitment.judged_due_at >= _START,
        Commitment.judged_due_at < _END,
    )


def _listed_statement(condition):
    """The first LIST_LIMIT counted commitments of the quarter meeting `condition`."""
    return (
        select(
            Commitment.ref,
            Commitment.title,
            _organisation_column(),
            Commitment.judged_due_at,
        )
        .join(Person, Person.id == Commitment.owner_id)
        .outerjoin(
            Member,
            and_(
                Member.partnership_id == Commitment.partnership_id,
                Member.person_id == Commitment.owner_id,
            ),
        )
        .where(_counted(), condition)
        .order_by(Commitment.judged_due_at, Commitment.ref)
        .limit(LIST_LIMIT)
    )


# Missed, as `bot.commitments.lifecycle` says: open and past due at :now, or withdrawn after the due
# date.
_MISSED = _listed_statement(
    or_(
        and_(Commitment.status == Status.OPEN.value, Commitment.judged_due_at < _NOW),
        and_(
            Commitment.status == Status.WITHDRAWN.value,
            Commitment.withdrawn_at > Commitment.judged_due_at,
        ),
    )
)
_RENEGOTIATED = _listed_statement(Commitment.renegotiated)
_QUARTER_ROUNDS = and_(
    CoffeeRound.partnership_id == _PID,
    CoffeeRound.scheduled_for >= _START,
    CoffeeRound.scheduled_for < _END,
)
# Every round of the quarter with its pairings (a round without any gives one row of NULLs).
_COFFEE = (
    select(CoffeeRound.id, CoffeePairing.id, CoffeePairing.member_ids, CoffeePairing.outcome)
    .select_from(CoffeeRound)
    .outerjoin(CoffeePairing, CoffeePairing.round_id == CoffeeRound.id)
    .where(_QUARTER_ROUNDS)
)
_ORGANISATIONS = select(Member.person_id, Member.organisation).where(Member.partnership_id == _PID)
_LESSONS = (
    select(
        Lesson.id,
        Lesson.text,
        Lesson.created_at,
        Person.id,
        Person.team_id,
        Person.user_id,
        Person.name,
        Person.tz,
        Person.locale,
        Person.away_until,
        Member.organisation,
        func.count().over().label("total"),
    )
    .join(Person, Person.id == Lesson.person_id)
    .outerjoin(
        Member,
        and_(Member.partnership_id == _PID, Member.person_id == Lesson.person_id),
    )
    .where(Lesson.partnership_id == _PID, Lesson.created_at >= _START, Lesson.created_at < _END)
    .order_by(Lesson.created_at.desc(), Lesson.id.desc())
    .limit(LIST_LIMIT)
)
_OPEN_PROPOSALS = (
    select(
        CharterProposal.id,
        CharterProposal.created_at,
        func.count().over().label("total"),
    )
    .where(CharterProposal.partnership_id == _PID, CharterProposal.state == "open")
    .order_by(CharterProposal.created_at, CharterProposal.id)
    .limit(LIST_LIMIT)
)


def evidence_pack(engine: Engine, *, partnership_id: int, review_date: date, now: datetime) -> Pack:
    """The figures and lists for the review on `review_date`, as they stand at `now`.

    One transaction; the quarter and the one before are counted in one pass over their rows
    (`bot.reports.figures.tallies`), by organisation, with the renegotiated count. The missed and
    renegotiated lists are read only when those counts are not zero, and the member
    organisations only when a coffee was held."""
    with reports.reading(engine) as connection:
        header = reports.header(connection, partnership_id)
        if header is None:
            raise Refusal("That partnership no longer exists.")
        partnership = header.partnership
        previous_start, start, end = quarter_bounds(review_date, partnership.tz)
        quarters = reports.tallies(
            connection,
            partnership_id=partnership_id,
            bounds=(previous_start, start, end),
            now=now,
            renegotiated=True,
        )
        params = {"pid": partnership_id, "start": start, "end": end, "now": now}
        before = {org: series[0] for org, series in quarters.series.items()}
        now_by_org = {org: series[1] for org, series in quarters.series.items()}
        total = sum(now_by_org.values(), Tally())
        renegotiated_count = quarters.renegotiated[1]

        def listed(statement, count: int) -> list[Listed]:
            if not count:
                return []
            return [Listed(*r) for r in connection.execute(statement, params)]

        missed = listed(_MISSED, total.missed)
        renegotiated = listed(_RENEGOTIATED, renegotiated_count)

        coffee_rows = connection.execute(_COFFEE, params).all()
        coffee = [(r.member_ids, r.outcome) for r in coffee_rows if r[1] is not None]
        rounds = len({r[0] for r in coffee_rows})
        organisations: dict[int, str] = {}
        if any(outcome == "met" for _, outcome in coffee):
            organisations = dict(connection.execute(_ORGANISATIONS, params).all())

        lesson_rows = connection.execute(_LESSONS, params).all()
        lessons = [LessonView(r[0], r[1], PersonRef(*r[3:10]), r[10], r[2]) for r in lesson_rows]
        open_rows = connection.execute(_OPEN_PROPOSALS, params).all()

    names = sorted(quarters.series, key=str.lower)
    met_pairs: set[tuple[str, str]] = set()
    held = 0
    for member_ids, outcome in coffee:
        if outcome != "met":
            continue
        held += 1
        orgs = {organisations.get(int(i)) for i in member_ids.split(",") if i.strip().isdigit()}
        orgs.discard(None)
        met_pairs.update(combinations(sorted(orgs), 2))
    return Pack(
        partnership=partnership,
        review_date=review_date,
        start=start,
        end=end,
        previous_start=previous_start,
        target=header.settings.kept_target,
        total=total,
        previous_total=sum(before.values(), Tally()),
        organisations=tuple(
            OrganisationFigures(n, now_by_org.get(n, Tally()), before.get(n, Tally()))
            for n in names
        ),
        missed=tuple(missed),
        missed_count=total.missed,
        renegotiated=tuple(renegotiated),
        renegotiated_count=renegotiated_count,
        coffee_rounds=rounds,
        coffees_held=held,
        coffees_planned=len(coffee),
        pairs_met=tuple(sorted(met_pairs)),
        lessons=tuple(lessons),
        lessons_count=lesson_rows[0].total if lesson_rows else 0,
        charter_version=header.charter_version,
        open_proposals=tuple((r.id, r.created_at) for r in open_rows),
        open_proposals_count=open_rows[0].total if open_rows else 0,
        objectives=tuple(partnership_objectives(engine, partnership_id=partnership_id, now=now)),
        costs=partnership_ledger(engine, partnership_id=partnership_id, now=now),
    )


def _settings(engine: Engine, partnership_id: int) -> CharterSettings:
    return current_charter(engine, partnership_id=partnership_id).settings


# --- the review record ---------------------------------------------------------------------


@dataclass(frozen=True)
class RecordView:
    id: int
    partnership: PartnershipRef
    review_date: date
    recorded_by: PersonRef
    attendees: tuple[str, ...]  # Slack user ids
    outcomes: str
    decisions: str
    charter_changes: str
    proposal_id: int | None
    created_at: datetime


def get_record(engine: Engine, *, partnership_id: int, record_id: int) -> RecordView | None:
    """A review record of this partnership (ids from buttons are never trusted alone)."""
    found = [r for r in records(engine, partnership_id=partnership_id) if r.id == record_id]
    return found[0] if found else None


def link_proposal(engine: Engine, *, record_id: int, proposal_id: int) -> None:
    """The charter proposal that carries out a review's agreed changes."""
    with transaction(engine) as session:
        session.execute(
            update(ReviewRecord).where(ReviewRecord.id == record_id).values(proposal_id=proposal_id)
        )


def review_opens(engine: Engine, *, partnership_id: int, review_date: date, now: datetime) -> None:
    """Refuse to record a review before its date (in the partnership's time zone)."""
    with transaction(engine) as session:
        row = session.get(Partnership, partnership_id)
        if row is None:
            raise Refusal("That partnership no longer exists.")
        today = now.astimezone(ZoneInfo(row.tz)).date()
    if today < review_date:
        raise Refusal(
            f"The review is on {review_date:%a %d %b %Y}; you can record it from that day."
        )


def record_review(
    engine: Engine,
    *,
    partnership_id: int,
    review_date: date,
    recorded_by: PersonRef,
    attendees: Sequence[str],
    outcomes: str,
    decisions: str,
    charter_changes: str,
    now: datetime,
) -> RecordView:
    """Keep what the review decided (one transaction). Raises Refusal for bad input."""
    outcomes, decisions, charter_changes = (
        (t or "").strip() for t in (outcomes, decisions, charter_changes)
    )
    if not outcomes:
        raise Refusal("Please write down the review's outcomes.")
    for label, value in (
        ("outcomes", outcomes),
        ("decisions", decisions),
        ("charter changes", charter_changes),
    ):
        if len(value) > MAX_RECORD_FIELD:
            raise Refusal(
                f"Please keep the {label} under {MAX_RECORD_FIELD} characters; "
                f"you wrote {len(value)}."
            )
    review_opens(engine, partnership_id=partnership_id, review_date=review_date, now=now)
    people = tuple(dict.fromkeys(a for a in attendees if a))
    with transaction(engine) as session:
        row = session.get(Partnership, partnership_id)
        record = ReviewRecord(
            partnership_id=partnership_id,
            review_date=datetime.combine(review_date, time(0), UTC),
            recorded_by_id=recorded_by.id,
            attendees=",".join(people),
            outcomes=outcomes,
            decisions=decisions,
            charter_changes=charter_changes,
            created_at=now,
        )
        session.add(record)
        session.flush()
        partnership = PartnershipRef(row.id, row.team_id, row.channel_id, row.name, row.tz)
        view = RecordView(
            record.id,
            partnership,
            review_date,
            recorded_by,
            people,
            outcomes,
            decisions,
            charter_changes,
            None,
            now,
        )
    return view


def records(engine: Engine, *, partnership_id: int) -> list[RecordView]:
    """The partnership's review records, newest review first."""
    with transaction(engine) as session:
        rows = session.execute(
            select(ReviewRecord, Person, Partnership)
            .join(Person, Person.id == ReviewRecord.recorded_by_id)
            .join(Partnership, Partnership.id == ReviewRecord.partnership_id)
            .where(ReviewRecord.partnership_id == partnership_id)
            .order_by(ReviewRecord.review_date.desc(), ReviewRecord.id.desc())
        ).all()
        return [
            RecordView(
                r.id,
                partnership_ref(p),
                r.review_date.date(),
                person_ref(person),
                tuple(a for a in r.attendees.split(",") if a),
                r.outcomes,
                r.decisions,
                r.charter_changes,
                r.proposal_id,
                r.created_at,
            )
            for r, person, p in rows
        ]


# --- lessons -------------------------------------------------------------------------------


def log_lesson(
    engine: Engine, *, partnership: PartnershipRef, person: PersonRef, text: str, now: datetime
) -> LessonView:
    text = (text or "").strip()
    if not text:
        raise Refusal(
            "What was the lesson? For example: `/saydo lesson share drafts a week earlier`."
        )
    if len(text) > MAX_LESSON:
        raise Refusal(f"Please keep a lesson under {MAX_LESSON} characters; you wrote {len(text)}.")
    with transaction(engine) as session:
        lesson = Lesson(
            partnership_id=partnership.id, person_id=person.id, text=text, created_at=now
        )
        session.add(lesson)
        session.flush()
        organisation = session.execute(
            select(Member.organisation).where(
                Member.partnership_id == partnership.id, Member.person_id == person.id
            )
        ).scalar_one_or_none()
        return LessonView(lesson.id, text, person, organisation, now)


def lessons(engine: Engine, *, partnership_id: int, limit: int = LESSONS_SHOWN):
    """(newest `limit` lessons, how many there are in all)."""
    where = Lesson.partnership_id == partnership_id
    with transaction(engine) as session:
        count = session.execute(select(func.count()).select_from(Lesson).where(where)).scalar_one()
        return _lessons(session, where, partnership_id, limit), count


def _lessons(session, where, partnership_id: int, limit: int) -> list[LessonView]:
    rows = session.execute(
        select(Lesson, Person, Member.organisation)
        .join(Person, Person.id == Lesson.person_id)
        .outerjoin(
            Member,
            and_(Member.partnership_id == partnership_id, Member.person_id == Lesson.person_id),
        )
        .where(where)
        .order_by(Lesson.created_at.desc(), Lesson.id.desc())
        .limit(limit)
    ).all()
    return [LessonView(le.id, le.text, person_ref(p), org, le.created_at) for le, p, org in rows]


# --- exports (`saydo export --what reviews|lessons|coffee`) -----------------------------------

REVIEW_COLUMNS = (
    "workspace_id",
    "channel_id",
    "partnership",
    "review_date",
    "recorded_at",
    "recorded_by_id",
    "recorded_by_name",
    "attendee_ids",
    "outcomes",
    "decisions",
    "charter_changes",
    "charter_proposal_id",
)
LESSON_COLUMNS = (
    "workspace_id",
    "channel_id",
    "partnership",
    "logged_at",
    "person_id",
    "person_name",
    "organisation",
    "lesson",
)
COFFEE_COLUMNS = (
    "workspace_id",
    "channel_id",
    "partnership",
    "round",
    "kind",
    "scheduled_for",
    "member_ids",
    "organisations",
    "outcome",
    "answered_at",
)
_BATCH = 500


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _filtered(statement, channels: Sequence[str], since_column, since: datetime | None):
    if channels:
        statement = statement.where(Partnership.channel_id.in_(list(channels)))
    if since is not None:
        statement = statement.where(since_column >= since)
    return statement.execution_options(yield_per=_BATCH)


def review_rows(
    engine: Engine, *, channels: Sequence[str] = (), since: datetime | None = None
) -> Iterator[dict[str, Any]]:
    statement = _filtered(
        select(ReviewRecord, Partnership, Person)
        .join(Partnership, Partnership.id == ReviewRecord.partnership_id)
        .join(Person, Person.id == ReviewRecord.recorded_by_id)
        .order_by(ReviewRecord.review_date, ReviewRecord.id),
        channels,
        ReviewRecord.created_at,
        since,
    )
    with transaction(engine) as session:
        for record, p, person in session.execute(statement):
            yield {
                "workspace_id": p.team_id,
                "channel_id": p.channel_id,
                "partnership": p.name,
                "review_date": record.review_date.date().isoformat(),
                "recorded_at": _iso(record.created_at),
                "recorded_by_id": person.user_id,
                "recorded_by_name": person.name,
                "attendee_ids": " ".join(a for a in record.attendees.split(",") if a),
                "outcomes": record.outcomes,
                "decisions": record.decisions,
                "charter_changes": record.charter_changes,
                "charter_proposal_id": record.proposal_id,
            }


def lesson_rows(
    engine: Engine, *, channels: Sequence[str] = (), since: datetime | None = None
) -> Iterator[dict[str, Any]]:
    statement = _filtered(
        select(Lesson, Partnership, Person, Member.organisation)
        .join(Partnership, Partnership.id == Lesson.partnership_id)
        .join(Person, Person.id == Lesson.person_id)
        .outerjoin(
            Member,
            and_(
                Member.partnership_id == Lesson.partnership_id, Member.person_id == Lesson.person_id
            ),
        )
        .order_by(Lesson.created_at, Lesson.id),
        channels,
        Lesson.created_at,
        since,
    )
    with transaction(engine) as session:
        for lesson, p, person, organisation in session.execute(statement):
            yield {
                "workspace_id": p.team_id,
                "channel_id": p.channel_id,
                "partnership": p.name,
                "logged_at": _iso(lesson.created_at),
                "person_id": person.user_id,
                "person_name": person.name,
                "organisation": organisation,
                "lesson": lesson.text,
            }


def coffee_rows(
    engine: Engine, *, channels: Sequence[str] = (), since: datetime | None = None
) -> Iterator[dict[str, Any]]:
    """One row per pairing. People and organisations are looked up once (two queries), not
    per row, so the query count stays constant."""
    with transaction(engine) as session:
        users = dict(session.execute(select(Person.id, Person.user_id)).all())
        orgs = {
            (m.partnership_id, m.person_id): m.organisation
            for m in session.execute(
                select(Member.partnership_id, Member.person_id, Member.organisation)
            )
        }
    statement = _filtered(
        select(CoffeePairing, CoffeeRound, Partnership)
        .join(CoffeeRound, CoffeeRound.id == CoffeePairing.round_id)
        .join(Partnership, Partnership.id == CoffeeRound.partnership_id)
        .order_by(CoffeeRound.scheduled_for, CoffeePairing.id),
        channels,
        CoffeeRound.scheduled_for,
        since,
    )
    with transaction(engine) as session:
        for pairing, round_, p in session.execute(statement):
            ids = [int(i) for i in pairing.member_ids.split(",") if i.strip().isdigit()]
            found = sorted({orgs[(p.id, i)] for i in ids if (p.id, i) in orgs})
            yield {
                "workspace_id": p.team_id,
                "channel_id": p.channel_id,
                "partnership": p.name,
                "round": round_.round_key,
                "kind": round_.kind,
                "scheduled_for": _iso(round_.scheduled_for),
                "member_ids": " ".join(users.get(i, str(i)) for i in ids),
                "organisations": " + ".join(found),
                "outcome": pairing.outcome,
                "answered_at": _iso(pairing.answered_at),
            }


EXPORTS = {
    "reviews": (REVIEW_COLUMNS, review_rows),
    "lessons": (LESSON_COLUMNS, lesson_rows),
    "coffee": (COFFEE_COLUMNS, coffee_rows),
}


# --- the evidence pack's charts -----------------------------------------------------------

PACK_CHART = "pack_chart"
PACK_CHART_DELAY = timedelta(minutes=1)  # right after the evidence pack's first post
PACK_RATIO = "ratio"
PACK_SPEND = "spend"
QUARTER_WEEKS = 13


@dataclass(frozen=True)
class WeeklyRatios:
    """Each organisation's say/do ratio for each of the weeks before a review (None: nothing
    was judged that week), and the charter's target: the data of the pack's ratio chart."""

    weeks: list[date]
    ratios: dict[str, list[float | None]]
    target: float


def weekly_ratios(
    engine: Engine, *, partnership_id: int, review_date: date, now: datetime
) -> WeeklyRatios | None:
    """The say/do ratio per organisation for each of the 13 weeks before the review; None when
    the partnership no longer exists."""
    with reports.reading(engine) as connection:
        header = reports.header(connection, partnership_id)
        if header is None:
            return None
        tz = header.partnership.tz
        end = datetime.combine(review_date, time(0), ZoneInfo(tz)).astimezone(UTC)
        bounds = reports.week_starts(end, tz, weeks=QUARTER_WEEKS)
        counted = reports.tallies(connection, partnership_id=partnership_id, bounds=bounds, now=now)
    return WeeklyRatios(
        weeks=[b.astimezone(ZoneInfo(tz)).date() for b in bounds[:-1]],
        ratios={str(org): [t.ratio for t in series] for org, series in counted.series.items()},
        target=header.settings.kept_target,
    )


def plan_pack_charts(engine: Engine, *, now: datetime) -> int:
    """With the evidence pack's first post (14 days before a review), one chart upload per
    objective (the first few) and one of spend against budget, each planned once:
    `pack_chart:<partnership id>:<review date>:<O1|spend>`."""
    first = OFFSETS[0]
    planned = []
    with transaction(engine) as session:
        for p in session.execute(select(Partnership)).scalars().all():
            settings = settings_in(session, p.id)
            today = now.astimezone(ZoneInfo(p.tz)).date()
            review = review_date_after(settings, began=began(p, p.created_at), after=today)
            at = reminder_at(settings, p.tz, review, first) + PACK_CHART_DELAY
            if not now - STILL_USEFUL <= at <= now + PLAN_AHEAD:
                continue
            numbers = session.execute(
                select(Objective.number)
                .where(Objective.partnership_id == p.id)
                .order_by(Objective.number)
                .limit(MAX_CHARTS)
            ).scalars()
            names = [PACK_RATIO, *(f"O{n}" for n in numbers)]
            if session.execute(
                select(CostProject.id).where(CostProject.partnership_id == p.id)
            ).first():
                names.append(PACK_SPEND)
            planned += [
                Planned(
                    slot_key=f"{PACK_CHART}:{p.id}:{review.isoformat()}:{name}",
                    kind=PACK_CHART,
                    channel=p.channel_id,
                    due_at=at,
                )
                for name in names
            ]
        enqueue(session, planned, now=now)
    return len(planned)
