"""The weekly summary: planned through the outbox, rendered at send time from current data.

The "summaries" sweep enqueues, for every partnership, a slot `summary:<partnership id>:<local
date>` at the charter's `summary_weekday` and `summary_time` in the partnership's time zone
(inserting an existing slot key is a no-op, so planning is idempotent). The renderer builds the
summary of the week just ended (the seven local days before the summary day) when the slot is
sent, and cancels a slot the charter no longer calls for (its day or time changed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select

from bot.charter.service import weekly_instant
from bot.commitments.service import PartnershipRef
from bot.objectives.service import ObjectiveView, partnership_objectives
from bot.outbox.sending import STILL_USEFUL, Planned, enqueue
from bot.policy.charter_settings import BY_PERSON, CharterSettings
from bot.reports import figures as reports
from storage.db import transaction
from storage.models import CharterVersion, Partnership

SUMMARY = "summary"
PLAN_AHEAD = timedelta(days=7)


@dataclass(frozen=True)
class Weekly:
    partnership: PartnershipRef
    settings: CharterSettings
    figures: reports.Figures
    ahead: reports.Ahead
    calendar: reports.Calendar
    week_start_local: datetime
    week_end_local: datetime
    objectives: tuple[ObjectiveView, ...] = ()


def slot_key(partnership_id: int, local_day) -> str:
    return f"{SUMMARY}:{partnership_id}:{local_day.isoformat()}"


def summary_instants(settings: CharterSettings, tz: str, *, start: datetime, end: datetime):
    """The summary instants in [start, end)."""
    at = weekly_instant(settings.summary_weekday, settings.summary_time, tz, on_or_after=start)
    while at < end:
        yield at
        at = weekly_instant(
            settings.summary_weekday,
            settings.summary_time,
            tz,
            on_or_after=at + timedelta(minutes=1),
        )


def plan(engine: Engine, *, now: datetime) -> int:
    """Enqueue every partnership's summaries from a day ago (still worth sending) to a week
    ahead. Two reads and one insert whatever the number of partnerships."""
    latest = (
        select(CharterVersion.partnership_id, func.max(CharterVersion.version).label("version"))
        .group_by(CharterVersion.partnership_id)
        .subquery()
    )
    with transaction(engine) as session:
        partnerships = session.execute(select(Partnership)).scalars().all()
        charters = {
            row.partnership_id: CharterSettings.from_json(row.settings)
            for row in session.execute(
                select(CharterVersion).join(
                    latest,
                    (latest.c.partnership_id == CharterVersion.partnership_id)
                    & (latest.c.version == CharterVersion.version),
                )
            ).scalars()
        }
        planned = [
            Planned(
                slot_key=slot_key(p.id, at.astimezone(ZoneInfo(p.tz)).date()),
                kind=SUMMARY,
                channel=p.channel_id,
                due_at=at,
            )
            for p in partnerships
            for at in summary_instants(
                charters.get(p.id, CharterSettings()),
                p.tz,
                start=now - STILL_USEFUL,
                end=now + PLAN_AHEAD,
            )
        ]
        enqueue(session, planned, now=now)
    return len(planned)


def weekly(engine: Engine, *, partnership_id: int, at: datetime, now: datetime) -> Weekly | None:
    """The summary due at `at`: the seven local days before `at`'s local day, as of `now`.

    Read in one transaction: the partnership and its charter, the figures with their eight-week
    trend, and what is overdue or due in the week ahead. People and titles are read only when
    the charter's visibility is "by person"."""
    with reports.reading(engine) as connection:
        header = reports.header(connection, partnership_id)
        if header is None:
            return None
        ref, settings = header.partnership, header.settings
        by_person = settings.summary_visibility == BY_PERSON
        week_end = reports.local_midnight(at.astimezone(ZoneInfo(ref.tz)).date(), ref.tz)
        trend = reports.week_starts(week_end, ref.tz)
        week_start = trend[-2]
        figures = reports.figures(
            connection,
            partnership_id=partnership_id,
            start=week_start,
            end=week_end,
            now=now,
            trend=trend,
            by_person=by_person,
        )
        ahead = reports.ahead(
            connection,
            partnership_id=partnership_id,
            now=now,
            until=now + PLAN_AHEAD,
            by_person=by_person,
        )
    zone = ZoneInfo(ref.tz)
    return Weekly(
        partnership=ref,
        settings=settings,
        figures=figures,
        ahead=ahead,
        calendar=reports.calendar(settings, ref.tz, header.began, now=now),
        week_start_local=week_start.astimezone(zone),
        week_end_local=week_end.astimezone(zone),
        objectives=tuple(partnership_objectives(engine, partnership_id=partnership_id, now=now)),
    )
