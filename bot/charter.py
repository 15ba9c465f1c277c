"""The Relationship Charter: each partnership's versioned settings, agreed in the open.

A partnership has the defaults below until its first charter version is adopted; every
adopted version is kept (`charter_version`), and the current one is the highest version.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlalchemy import Engine, select

from bot.nudge_policy import NudgePolicy
from storage.db import transaction
from storage.models import CharterVersion

BY_ORGANISATION = "organisation"
BY_PERSON = "person"


@dataclass(frozen=True)
class CharterSettings:
    """The settings part of a charter; every field has the default a new partnership gets."""

    coffee_cadence_weeks: int = 2  # 1 to 8
    coffee_weekday: int = 1  # Monday=0; Tuesday
    coffee_time: time = time(10, 0)  # partnership time zone
    first_review_date: date | None = None  # None: three months after the partnership began
    review_cadence_months: int = 3
    summary_weekday: int = 0  # Monday
    summary_time: time = time(9, 0)  # partnership time zone
    kept_target: float = 0.85
    summary_visibility: str = BY_ORGANISATION  # or BY_PERSON
    working_days: tuple[int, ...] = (0, 1, 2, 3, 4)
    day_start: time = time(9, 0)
    day_end: time = time(17, 30)
    nudge_time: time = time(9, 0)
    overdue_working_days: tuple[int, ...] = (1, 3, 7)
    max_overdue: int = 6
    holiday_calendars: dict[str, str] = field(default_factory=dict)  # organisation -> country
    course_correction: bool = True  # the escalation playbook's private extra coffee

    def nudge_policy(self, holidays: frozenset[date] = frozenset()) -> NudgePolicy:
        return NudgePolicy(
            working_days=frozenset(self.working_days),
            day_start=self.day_start,
            day_end=self.day_end,
            nudge_time=self.nudge_time,
            overdue_working_days=self.overdue_working_days,
            max_overdue=self.max_overdue,
            holidays=holidays,
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), default=str, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> CharterSettings:
        """Settings from stored JSON; unknown keys are ignored, missing ones take defaults."""
        raw = json.loads(text or "{}")
        known = {f.name: f for f in fields(cls)}
        values = {}
        for name, value in raw.items():
            if name not in known:
                continue
            default = getattr(cls(), name)
            if isinstance(default, time):
                value = time.fromisoformat(value)
            elif name == "first_review_date" and value:
                value = date.fromisoformat(value)
            elif isinstance(default, tuple):
                value = tuple(value)
            values[name] = value
        return replace(cls(), **values)


@dataclass(frozen=True)
class Charter:
    version: int  # 0: the defaults, nothing adopted yet
    purpose: str
    behaviours: str
    escalation: str
    settings: CharterSettings
    agreed_by: str


DEFAULT_CHARTER = Charter(0, "", "", "", CharterSettings(), "")


def current_charter(engine: Engine, *, partnership_id: int) -> Charter:
    """The partnership's adopted charter with the highest version, or the defaults."""
    with transaction(engine) as session:
        row = session.execute(
            select(CharterVersion)
            .where(CharterVersion.partnership_id == partnership_id)
            .order_by(CharterVersion.version.desc())
            .limit(1)
        ).scalar_one_or_none()
    if row is None:
        return DEFAULT_CHARTER
    return Charter(
        row.version,
        row.purpose,
        row.behaviours,
        row.escalation,
        CharterSettings.from_json(row.settings),
        row.agreed_by,
    )


# --- the calendar the charter sets ---------------------------------------------------------


def review_date_after(settings: CharterSettings, *, began: date, after: date) -> date:
    """The first quarterly (or cadence) review date on or after `after`.

    Reviews fall on `first_review_date` (default: `review_cadence_months` after the partnership
    began) and every `review_cadence_months` after it.
    """
    months = max(1, settings.review_cadence_months)
    first = settings.first_review_date or began + relativedelta(months=months)
    n = 0
    while (candidate := first + relativedelta(months=months * n)) < after:
        n += 1
    return candidate


def weekly_instant(weekday: int, wall: time, tz: str, *, on_or_after: datetime) -> datetime:
    """The first `weekday` at `wall` local time in `tz`, at or after `on_or_after` (UTC)."""
    zone = ZoneInfo(tz)
    local = on_or_after.astimezone(zone)
    day = local.date() + timedelta(days=(weekday - local.weekday()) % 7)
    candidate = datetime.combine(day, wall, zone)
    if candidate < on_or_after:
        candidate = datetime.combine(day + timedelta(days=7), wall, zone)
    return candidate.astimezone(UTC)


def coffee_round_at(
    settings: CharterSettings, tz: str, *, began: date, on_or_after: datetime
) -> datetime:
    """The next coffee round: the charter's weekday and time, every `coffee_cadence_weeks`
    weeks counted from the week the partnership began."""
    cadence = min(8, max(1, settings.coffee_cadence_weeks))
    at = weekly_instant(settings.coffee_weekday, settings.coffee_time, tz, on_or_after=on_or_after)
    anchor = began - timedelta(days=began.weekday())
    while ((at.astimezone(ZoneInfo(tz)).date() - anchor).days // 7) % cadence:
        at = weekly_instant(
            settings.coffee_weekday, settings.coffee_time, tz, on_or_after=at + timedelta(days=1)
        )
    return at
