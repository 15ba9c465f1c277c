"""Objectives and their measurements: SMART checks, append-only values and status.

An objective has a measure (a number with a unit), a baseline value and date, a target value
and date, an owning organisation and a cadence. Its status compares the latest value with the
straight line from baseline to target on the day that value was measured:

- achieved: the latest value reaches the target (at or above it when higher is better);
- missed: the target date has passed without that;
- on track: the value trails the line by at most the charter's tolerance, a percentage of the
  planned change |target - baseline| (so 10% on a 20 -> 10 days objective allows 1 day);
- at risk: it trails by more; no value yet: nothing measured since it was set.

Only active members of the partnership see or change its objectives (`is_partner`, the one
membership check, also used by `bot.costs`). No Slack here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlalchemy import Engine, func, select

from bot.commitments.service import PartnershipRef, PersonRef, partnership_ref
from bot.outbox.sending import Planned, enqueue
from bot.policy.charter_settings import settings_in
from bot.policy.visibility import sees_partnership
from bot.refusal import FormRefusal
from storage.db import transaction
from storage.models import Member, Objective, ObjectiveMeasurement, Partnership, Person

ACHIEVED_ANNOUNCEMENT = "objective_achieved"
CHART = "objective_chart"
MAX_CHARTS = 5  # uploads for one `/saydo objectives`
CADENCES = {
    "weekly": relativedelta(weeks=1),
    "monthly": relativedelta(months=1),
    "quarterly": relativedelta(months=3),
}
DEFAULT_CADENCE = "monthly"
MAX_TITLE = 200
MAX_MEASURE = 100
MAX_GOOD = 2000
MAX_EVIDENCE = 2000
MAX_DIGITS = 15  # significant digits a value may have; kept exactly (Decimal, stored as text)

# Form fields, named for the problems `check_objective` reports.
TITLE, GOOD, MEASURE, DIRECTION = "title", "good_looks_like", "measure", "direction"
BASELINE_VALUE, BASELINE_DATE = "baseline_value", "baseline_date"
TARGET_VALUE, TARGET_DATE = "target_value", "target_date"
OWNER, CADENCE = "owner", "cadence"
HIGHER, LOWER = "higher", "lower"

NOT_A_PARTNER = "Objectives are shared with the partnership's members only, and you aren't one."
_REF = re.compile(r"^(?:[Oo]|#)?(\d{1,6})$")
_NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")


class Status(StrEnum):
    NO_VALUE = "no value yet"
    ON_TRACK = "on track"
    AT_RISK = "at risk"
    MISSED = "missed"
    ACHIEVED = "achieved"


@dataclass(frozen=True)
class Draft:
    """An objective as typed into the form (values still text, dates picked or None)."""

    title: str
    good_looks_like: str
    measure: str
    direction: str  # HIGHER or LOWER
    baseline_value: str
    baseline_date: date | None
    target_value: str
    target_date: date | None
    owner_organisation: str
    cadence: str = DEFAULT_CADENCE


@dataclass(frozen=True)
class MeasurementView:
    value: Decimal
    measured_on: date
    recorded_by: str  # the person's name
    recorded_by_user_id: str
    recorded_at: datetime
    evidence: str | None


@dataclass(frozen=True)
class ObjectiveView:
    id: int
    partnership: PartnershipRef
    number: int
    title: str
    good_looks_like: str
    measure: str
    higher_is_better: bool
    baseline_value: Decimal
    baseline_date: date
    target_value: Decimal
    target_date: date
    owner_organisation: str
    cadence: str
    measurements: tuple[MeasurementView, ...]  # oldest first
    status: Status
    tolerance_percent: int
    at_risk_in_a_row: int  # trailing measurements that were each at risk when recorded
    achieved_on: date | None  # the day a value first reached the target
    # How many values came before the trailing run of values that were at risk or missed when
    # recorded (all of them when the latest was neither): where its current trouble began.
    off_course_from: int

    @property
    def for_review(self) -> bool:
        """At risk for two measurements in a row, or missed: on the next review's agenda."""
        return self.status == Status.MISSED or (
            self.status == Status.AT_RISK and self.at_risk_in_a_row >= 2
        )

    @property
    def agenda_episode(self) -> int | None:
        """While it is on the review's agenda, a name for this stretch there that stays the
        same until it leaves the agenda (a value back on track or the target reached); None
        otherwise. At risk twice, then missed with no value on track between: one stretch."""
        return self.off_course_from if self.for_review else None

    def newly_at_risk(self, start: date, end: date) -> bool:
        """Whether it went from not at risk to at risk with a value measured in [start, end)."""
        latest = self.latest
        return (
            self.status == Status.AT_RISK
            and self.at_risk_in_a_row == 1
            and latest is not None
            and start <= latest.measured_on < end
        )

    @property
    def ref(self) -> str:
        return f"O{self.number}"

    @property
    def latest(self) -> MeasurementView | None:
        return self.measurements[-1] if self.measurements else None

    def next_due(self, today: date) -> date | None:
        """The next cadence day on or after `today` (None once the target date has passed)."""
        return next((d for d in value_days(self) if d >= today), None)


# --- arithmetic -------------------------------------------------------------------------------


def parse_value(text: str) -> Decimal:
    """A measurement typed by a person: `12`, `-3.5`, `1,200`, `85%`; ValueError otherwise."""
    cleaned = (text or "").strip().removesuffix("%").strip()
    if not _NUMBER.match(cleaned):
        raise ValueError(f"`{text.strip()}` isn't a number")
    value = Decimal(cleaned.replace(",", ""))
    if len(value.as_tuple().digits) > MAX_DIGITS:
        raise ValueError(f"please use at most {MAX_DIGITS} digits")
    return value


def expected_on(
    *, baseline: Decimal, baseline_date: date, target: Decimal, target_date: date, day: date
) -> Decimal:
    """The straight line from baseline to target, on `day` (flat outside the two dates)."""
    if day <= baseline_date:
        return baseline
    if day >= target_date:
        return target
    elapsed = Decimal((day - baseline_date).days)
    span = Decimal((target_date - baseline_date).days)
    return baseline + (target - baseline) * elapsed / span


def status_of(
    *,
    higher_is_better: bool,
    baseline: Decimal,
    baseline_date: date,
    target: Decimal,
    target_date: date,
    latest: Decimal | None,
    latest_on: date | None,
    today: date,
    tolerance_percent: int,
) -> Status:
    """The objective's status today, from its latest value (see the module docstring)."""
    better = 1 if higher_is_better else -1
    if latest is not None and (latest - target) * better >= 0:
        return Status.ACHIEVED
    if today > target_date:
        return Status.MISSED
    if latest is None or latest_on is None:
        return Status.NO_VALUE
    line = expected_on(
        baseline=baseline,
        baseline_date=baseline_date,
        target=target,
        target_date=target_date,
        day=latest_on,
    )
    shortfall = (line - latest) * better
    allowed = abs(target - baseline) * Decimal(tolerance_percent) / Decimal(100)
    return Status.ON_TRACK if shortfall <= allowed else Status.AT_RISK


def value_days(objective: ObjectiveView | Objective) -> list[date]:
    """The days a new value is due: every cadence after the baseline date, and the target
    date itself."""
    step = CADENCES.get(objective.cadence, CADENCES[DEFAULT_CADENCE])
    days, n = [], 1
    while (day := objective.baseline_date + step * n) < objective.target_date:
        days.append(day)
        n += 1
    return [*days, objective.target_date]


# --- checking a draft -------------------------------------------------------------------------


def check_objective(draft: Draft, *, organisations: Iterable[str]) -> dict:
    """The draft's values as stored, or FormRefusal with every problem by field (SMART: a
    measure, numeric baseline and target, a target date after the baseline date, an owner)."""
    problems: dict[str, str] = {}
    title = " ".join(draft.title.split())
    if not title:
        problems[TITLE] = "Please name the objective."
    elif len(title) > MAX_TITLE:
        problems[TITLE] = f"Please keep it under {MAX_TITLE} characters."
    good = draft.good_looks_like.strip()
    if len(good) > MAX_GOOD:
        problems[GOOD] = f"Please keep it under {MAX_GOOD} characters."
    measure = " ".join(draft.measure.split())
    if not measure:
        problems[MEASURE] = (
            'What is measured, with its unit, e.g. "days from referral to discharge".'
        )
    elif len(measure) > MAX_MEASURE:
        problems[MEASURE] = f"Please keep it under {MAX_MEASURE} characters."
    if draft.direction not in (HIGHER, LOWER):
        problems[DIRECTION] = "Is a higher or a lower value better?"
    values = {}
    for field, text, what in (
        (BASELINE_VALUE, draft.baseline_value, "baseline"),
        (TARGET_VALUE, draft.target_value, "target"),
    ):
        try:
            values[field] = parse_value(text)
        except ValueError as error:
            problems[field] = f"The {what} must be a number: {error}."
    if draft.baseline_date is None:
        problems[BASELINE_DATE] = "When was the baseline measured?"
    if draft.target_date is None:
        problems[TARGET_DATE] = "By when should the target be reached?"
    elif draft.baseline_date is not None and draft.target_date <= draft.baseline_date:
        problems[TARGET_DATE] = "The target date must be after the baseline date."
    if len(values) == 2 and values[BASELINE_VALUE] == values[TARGET_VALUE]:
        problems[TARGET_VALUE] = "The target must differ from the baseline."
    elif len(values) == 2 and draft.direction in (HIGHER, LOWER):
        rising = values[TARGET_VALUE] > values[BASELINE_VALUE]
        if rising != (draft.direction == HIGHER):
            problems[TARGET_VALUE] = (
                f"A {draft.direction} value is better, so the target should be "
                f"{'above' if draft.direction == HIGHER else 'below'} the baseline."
            )
    known = {o.casefold(): o for o in organisations}
    owner = known.get(" ".join(draft.owner_organisation.split()).casefold())
    if owner is None:
        problems[OWNER] = "Please choose the organisation that owns it."
    if draft.cadence not in CADENCES:
        problems[CADENCE] = "Please choose how often it is measured."
    if problems:
        raise FormRefusal("Please fix: " + " ".join(problems.values()), problems)
    return {
        "title": title,
        "good_looks_like": good,
        "measure": measure,
        "higher_is_better": draft.direction == HIGHER,
        "baseline_value": values[BASELINE_VALUE],
        "baseline_date": draft.baseline_date,
        "target_value": values[TARGET_VALUE],
        "target_date": draft.target_date,
        "owner_organisation": owner,
        "cadence": draft.cadence,
    }


def parse_ref(text: str) -> int:
    """`O3`, `#3` or `3` -> 3; ValueError otherwise."""
    match = _REF.match(text.strip())
    if not match:
        raise ValueError(text)
    return int(match[1])


# --- privacy ----------------------------------------------------------------------------------


def _require_partner(session, partnership_id: int, person: PersonRef) -> None:
    if not sees_partnership(session, partnership_id=partnership_id, user_id=person.user_id):
        raise FormRefusal(NOT_A_PARTNER)


# --- changes ----------------------------------------------------------------------------------


def organisations_of(session, partnership_id: int) -> list[str]:
    return sorted(
        session.execute(
            select(Member.organisation)
            .where(Member.partnership_id == partnership_id, Member.active.is_(True))
            .distinct()
        ).scalars(),
        key=str.casefold,
    )


def create_objective(
    engine: Engine, *, partnership_id: int, creator: PersonRef, draft: Draft, now: datetime
) -> ObjectiveView:
    """Check the draft and save it as the partnership's next objective (O1, O2...)."""
    with transaction(engine) as session:
        _require_partner(session, partnership_id, creator)
        values = check_objective(draft, organisations=organisations_of(session, partnership_id))
        _lock(session, partnership_id)
        number = (
            session.execute(
                select(func.max(Objective.number)).where(Objective.partnership_id == partnership_id)
            ).scalar()
            or 0
        ) + 1
        row = Objective(
            partnership_id=partnership_id,
            number=number,
            created_by_id=creator.id,
            created_at=now,
            **values,
        )
        session.add(row)
        session.flush()
        return views_in(session, [row], now=now)[0]


def record_measurement(
    engine: Engine,
    *,
    objective_id: int,
    actor: PersonRef,
    value: str,
    evidence: str | None,
    now: datetime,
) -> tuple[ObjectiveView, bool]:
    """Append a value measured today (partnership time); returns the objective and whether this
    value achieved it for the first time (then its channel announcement is planned, once)."""
    evidence = (evidence or "").strip() or None
    if evidence and len(evidence) > MAX_EVIDENCE:
        raise FormRefusal(f"Please keep the evidence under {MAX_EVIDENCE} characters.")
    try:
        number = parse_value(value)
    except ValueError as error:
        raise FormRefusal(f"The value must be a number: {error}.") from None
    with transaction(engine) as session:
        row = session.get(Objective, objective_id)
        if row is None:
            raise FormRefusal("I can't find that objective any more.")
        _require_partner(session, row.partnership_id, actor)
        before = views_in(session, [row], now=now)[0]
        partnership = session.get(Partnership, row.partnership_id)
        session.add(
            ObjectiveMeasurement(
                objective_id=row.id,
                value=number,
                measured_on=now.astimezone(ZoneInfo(partnership.tz)).date(),
                recorded_by_id=actor.id,
                recorded_at=now,
                evidence=evidence,
            )
        )
        session.flush()
        after = views_in(session, [row], now=now)[0]
        achieved = after.status == Status.ACHIEVED and before.status != Status.ACHIEVED
        if achieved:
            enqueue(
                session,
                [
                    Planned(
                        slot_key=f"{ACHIEVED_ANNOUNCEMENT}:{row.id}",
                        kind=ACHIEVED_ANNOUNCEMENT,
                        channel=partnership.channel_id,
                        due_at=now,
                    )
                ],
                now=now,
            )
        return after, achieved


# --- reading ----------------------------------------------------------------------------------


def list_objectives(
    engine: Engine, *, partnership_id: int, viewer: PersonRef, now: datetime
) -> list[ObjectiveView]:
    """The partnership's objectives, O1 first, for one of its members."""
    with transaction(engine) as session:
        _require_partner(session, partnership_id, viewer)
        rows = session.execute(
            select(Objective)
            .where(Objective.partnership_id == partnership_id)
            .order_by(Objective.number)
        ).scalars()
        return views_in(session, list(rows), now=now)


def request_charts(engine: Engine, *, partnership_id: int, viewer: PersonRef, now: datetime) -> int:
    """Plan one chart upload per objective (the first few) to the viewer's DM, each an
    outbox message sent once; returns how many."""
    with transaction(engine) as session:
        _require_partner(session, partnership_id, viewer)
        ids = (
            session.execute(
                select(Objective.id)
                .where(Objective.partnership_id == partnership_id)
                .order_by(Objective.number)
                .limit(MAX_CHARTS)
            )
            .scalars()
            .all()
        )
        enqueue(
            session,
            [
                Planned(
                    slot_key=f"{CHART}:{oid}:{viewer.id}:{now:%Y%m%dT%H%M%S%f}",
                    kind=CHART,
                    channel=f"users:{viewer.user_id}",
                    due_at=now,
                )
                for oid in ids
            ],
            now=now,
        )
        return len(ids)


def find_objective(
    engine: Engine, *, partnership_id: int, number: int, viewer: PersonRef, now: datetime
) -> ObjectiveView:
    with transaction(engine) as session:
        _require_partner(session, partnership_id, viewer)
        row = session.execute(
            select(Objective).where(
                Objective.partnership_id == partnership_id, Objective.number == number
            )
        ).scalar_one_or_none()
        if row is None:
            raise FormRefusal(
                f"There is no objective O{number} here. `/saydo objectives` lists them."
            )
        return views_in(session, [row], now=now)[0]


def owner_choices(engine: Engine, *, partnership_id: int, person: PersonRef) -> list[str]:
    """The organisations that may own a new objective, for a member opening the form."""
    with transaction(engine) as session:
        _require_partner(session, partnership_id, person)
        return organisations_of(session, partnership_id)


def objective_for(
    engine: Engine, *, objective_id: int, viewer: PersonRef, now: datetime
) -> ObjectiveView:
    """An objective by id (from a button), for a member of its partnership."""
    found = get_objective(engine, objective_id=objective_id, now=now)
    if found is None:
        raise FormRefusal("I can't find that objective any more.")
    with transaction(engine) as session:
        _require_partner(session, found.partnership.id, viewer)
    return found


def partnership_objectives(
    engine: Engine, *, partnership_id: int, now: datetime
) -> list[ObjectiveView]:
    """Every objective of the partnership, for what Saydo posts in its own channel (the pack,
    the weekly summary): the channel is the partnership, so no viewer is checked."""
    with transaction(engine) as session:
        rows = session.execute(
            select(Objective)
            .where(Objective.partnership_id == partnership_id)
            .order_by(Objective.number)
        ).scalars()
        return views_in(session, list(rows), now=now)


def owned_objectives(
    engine: Engine, *, partnership_id: int, user_id: str, now: datetime
) -> list[ObjectiveView]:
    """The objectives the person's organisation owns in the partnership (their Home tab);
    none if they are not an active member."""
    with transaction(engine) as session:
        organisation = session.execute(
            select(Member.organisation)
            .join(Person, Person.id == Member.person_id)
            .where(
                Member.partnership_id == partnership_id,
                Person.user_id == user_id,
                Member.active.is_(True),
            )
        ).scalar_one_or_none()
        if organisation is None:
            return []
        rows = session.execute(
            select(Objective)
            .where(Objective.partnership_id == partnership_id)
            .order_by(Objective.number)
        ).scalars()
        mine = [r for r in rows if r.owner_organisation.casefold() == organisation.casefold()]
        return views_in(session, mine, now=now)


def get_objective(engine: Engine, *, objective_id: int, now: datetime) -> ObjectiveView | None:
    """An objective by id, for the sweeps (which check who may see it themselves)."""
    with transaction(engine) as session:
        row = session.get(Objective, objective_id)
        if row is None:
            return None
        return views_in(session, [row], now=now)[0]


def _lock(session, partnership_id: int) -> None:
    """Serialise numbering within a partnership (PostgreSQL; SQLite writes are serial)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            select(Partnership.id).where(Partnership.id == partnership_id).with_for_update()
        )


def _row_status(
    row: Objective, tolerance: int, value: Decimal | None, on: date | None, today: date
) -> Status:
    return status_of(
        higher_is_better=row.higher_is_better,
        baseline=row.baseline_value,
        baseline_date=row.baseline_date,
        target=row.target_value,
        target_date=row.target_date,
        latest=value,
        latest_on=on,
        today=today,
        tolerance_percent=tolerance,
    )


def _trailing(history: list[Status], kinds: set[Status]) -> int:
    """How many of the last statuses in a row are among `kinds`."""
    count = 0
    for past in reversed(history):
        if past not in kinds:
            break
        count += 1
    return count


def views_in(session, rows: list[Objective], *, now: datetime) -> list[ObjectiveView]:
    """Views with their measurements and status under each partnership's current charter, in
    a few queries whatever the number of objectives."""
    if not rows:
        return []
    measured: dict[int, list[MeasurementView]] = {row.id: [] for row in rows}
    for m, person in session.execute(
        select(ObjectiveMeasurement, Person)
        .join(Person, Person.id == ObjectiveMeasurement.recorded_by_id)
        .where(ObjectiveMeasurement.objective_id.in_(list(measured)))
        .order_by(ObjectiveMeasurement.recorded_at, ObjectiveMeasurement.id)
    ):
        measured[m.objective_id].append(
            MeasurementView(
                m.value, m.measured_on, person.name, person.user_id, m.recorded_at, m.evidence
            )
        )
    partnerships = {
        p.id: partnership_ref(p)
        for p in session.execute(
            select(Partnership).where(Partnership.id.in_({r.partnership_id for r in rows}))
        ).scalars()
    }
    tolerances = {
        pid: settings_in(session, pid).objective_tolerance_percent for pid in partnerships
    }
    views = []
    for row in rows:
        partnership = partnerships[row.partnership_id]
        tolerance = tolerances[row.partnership_id]
        latest = measured[row.id][-1] if measured[row.id] else None

        history = [
            _row_status(row, tolerance, m.value, m.measured_on, m.measured_on)
            for m in measured[row.id]
        ]
        streak = _trailing(history, {Status.AT_RISK})
        off_course_from = len(history) - _trailing(history, {Status.AT_RISK, Status.MISSED})
        achieved_on = next(
            (
                m.measured_on
                for m, past in zip(measured[row.id], history, strict=True)
                if past == Status.ACHIEVED
            ),
            None,
        )
        views.append(
            ObjectiveView(
                id=row.id,
                partnership=partnership,
                number=row.number,
                title=row.title,
                good_looks_like=row.good_looks_like,
                measure=row.measure,
                higher_is_better=row.higher_is_better,
                baseline_value=row.baseline_value,
                baseline_date=row.baseline_date,
                target_value=row.target_value,
                target_date=row.target_date,
                owner_organisation=row.owner_organisation,
                cadence=row.cadence,
                measurements=tuple(measured[row.id]),
                status=_row_status(
                    row,
                    tolerance,
                    latest.value if latest else None,
                    latest.measured_on if latest else None,
                    now.astimezone(ZoneInfo(partnership.tz)).date(),
                ),
                tolerance_percent=tolerance,
                at_risk_in_a_row=streak,
                achieved_on=achieved_on,
                off_course_from=off_course_from,
            )
        )
    return views
