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

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select

from bot import reports as report_data
from bot import reviews
from bot.charter import nudge_policy_in, review_date_after, settings_in
from bot.costs.service import partnership_ledger
from bot.nudge_policy import in_working_hours, next_working_instant
from bot.objectives import blocks, charts
from bot.objectives.service import (
    ACHIEVED_ANNOUNCEMENT,
    CHART,
    MAX_CHARTS,
    Status,
    get_objective,
    is_partner,
    value_days,
)
from bot.outbox import STILL_USEFUL, Item, Later, Planned, Send, Skip, State, Upload, enqueue
from bot.text import escape_mrkdwn
from storage.db import transaction
from storage.models import CostProject, Member, Objective, Partnership, Person

REMINDER = "objective_reminder"
PACK_CHART = "pack_chart"
PLAN_AHEAD = timedelta(days=7)
PACK_CHART_DELAY = timedelta(minutes=1)  # right after the evidence pack's first post
SPEND = "spend"
RATIO = "ratio"
QUARTER_WEEKS = 13


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


def render(engine: Engine, item: Item, now: datetime) -> Send | Skip | Later:
    """The reminder as it should read now, or why it should not (or not yet) be sent."""
    _, objective_id, person_id, day_text = item.slot_key.split(":")
    day = date.fromisoformat(day_text)
    objective = get_objective(engine, objective_id=int(objective_id), now=now)
    if objective is None:
        return Skip(State.CANCELLED, "the objective no longer exists")
    if objective.status == Status.ACHIEVED:
        return Skip(State.CANCELLED, f"{objective.ref} is achieved")
    earlier = [d for d in value_days(objective) if d < day]
    since = earlier[-1] if earlier else objective.baseline_date
    if objective.latest is not None and objective.latest.measured_on > since:
        return Skip(State.CANCELLED, f"{objective.ref} already has a value for this period")
    partnership_id = objective.partnership.id
    with transaction(engine) as session:
        person = session.get(Person, int(person_id))
        organisation = session.execute(
            select(Member.organisation).where(
                Member.partnership_id == partnership_id,
                Member.person_id == int(person_id),
                Member.active.is_(True),
            )
        ).scalar_one_or_none()
        if (
            person is None
            or organisation is None
            or organisation.casefold() != objective.owner_organisation.casefold()
        ):
            return Skip(State.CANCELLED, "no longer one of the objective's owners")
        policy = nudge_policy_in(
            session,
            partnership_id=partnership_id,
            person_id=person.id,
            years=(now.year, now.year + 1),
        )
    if person.away_until and person.away_until > now:
        return Later(next_working_instant(person.away_until, tz=person.tz), "owner is away")
    if not in_working_hours(now, tz=person.tz, policy=policy):
        return Later(
            next_working_instant(now, tz=person.tz, policy=policy),
            "outside the owner's working hours",
        )
    return Send(
        person.user_id,
        blocks.reminder(objective, due=day),
        f"{objective.ref} value reminder for {day.isoformat()}",
    )


def render_achieved(engine: Engine, item: Item, now: datetime) -> Send | Skip:
    """The one announcement in the channel that an objective reached its target."""
    objective = get_objective(engine, objective_id=int(item.slot_key.split(":")[1]), now=now)
    if objective is None:
        return Skip(State.CANCELLED, "the objective no longer exists")
    return Send(item.channel, blocks.achieved(objective), f"{objective.ref} achieved")


def render_chart(engine: Engine, item: Item, now: datetime) -> Send | Skip:
    """An objective's chart for a member who asked for it, drawn from the values as they are."""
    _, objective_id, person_id, _ = item.slot_key.split(":")
    objective = get_objective(engine, objective_id=int(objective_id), now=now)
    if objective is None:
        return Skip(State.CANCELLED, "the objective no longer exists")
    with transaction(engine) as session:
        member = is_partner(
            session, partnership_id=objective.partnership.id, person_id=int(person_id)
        )
    if not member:
        return Skip(State.CANCELLED, "no longer a member of the partnership")
    chart = charts.objective_chart(objective)
    upload = Upload(chart.filename, charts.render_png(chart), chart.title, chart.alt_text)
    comment = {"text": f"{objective.ref}: {objective.status.value}."}
    return Send(item.channel, comment, f"{objective.ref} chart", upload=upload)


def plan_pack_charts(engine: Engine, *, now: datetime) -> int:
    """With the evidence pack's first post (14 days before a review), one chart upload per
    objective (the first few) and one of spend against budget, each planned once:
    `pack_chart:<partnership id>:<review date>:<O1|spend>`."""
    first = reviews.OFFSETS[0]
    planned = []
    with transaction(engine) as session:
        for p in session.execute(select(Partnership)).scalars().all():
            settings = settings_in(session, p.id)
            today = now.astimezone(ZoneInfo(p.tz)).date()
            review = review_date_after(settings, began=reviews.began(p, p.created_at), after=today)
            at = reviews.reminder_at(settings, p.tz, review, first) + PACK_CHART_DELAY
            if not now - STILL_USEFUL <= at <= now + PLAN_AHEAD:
                continue
            numbers = session.execute(
                select(Objective.number)
                .where(Objective.partnership_id == p.id)
                .order_by(Objective.number)
                .limit(MAX_CHARTS)
            ).scalars()
            names = [RATIO, *(f"O{n}" for n in numbers)]
            if session.execute(
                select(CostProject.id).where(CostProject.partnership_id == p.id)
            ).first():
                names.append(SPEND)
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


def render_pack_chart(engine: Engine, item: Item, now: datetime) -> Send | Skip:
    """One chart of the evidence pack, drawn from the data as it is, into the channel."""
    _, partnership_id, review, name = item.slot_key.split(":")
    if name == RATIO:
        chart = pack_ratio_chart(engine, int(partnership_id), date.fromisoformat(review), now)
        if chart is None:
            return Skip(State.CANCELLED, "the partnership no longer exists")
    elif name == SPEND:
        ledger = partnership_ledger(engine, partnership_id=int(partnership_id), now=now)
        chart = charts.spend_chart(ledger)
        if chart is None:
            return Skip(State.CANCELLED, "no projects any more")
    else:
        with transaction(engine) as session:
            row = session.execute(
                select(Objective.id).where(
                    Objective.partnership_id == int(partnership_id),
                    Objective.number == int(name.removeprefix("O")),
                )
            ).scalar_one_or_none()
        objective = get_objective(engine, objective_id=row, now=now) if row else None
        if objective is None:
            return Skip(State.CANCELLED, f"{name} no longer exists")
        chart = charts.objective_chart(objective)
    upload = Upload(chart.filename, charts.render_png(chart), chart.title, chart.alt_text)
    comment = {"text": f"Evidence pack for the review on {review}: {escape_mrkdwn(chart.title)}"}
    return Send(item.channel, comment, f"pack chart {name} for {review}", upload=upload)


def pack_ratio_chart(engine: Engine, partnership_id: int, review: date, now: datetime):
    """The say/do ratio per organisation for each of the 13 weeks before the review."""
    with report_data.reading(engine) as connection:
        header = report_data.header(connection, partnership_id)
        if header is None:
            return None
        tz = header.partnership.tz
        end = datetime.combine(review, time(0), ZoneInfo(tz)).astimezone(UTC)
        bounds = report_data.week_starts(end, tz, weeks=QUARTER_WEEKS)
        counted = report_data.tallies(
            connection, partnership_id=partnership_id, bounds=bounds, now=now
        )
    weeks = [b.astimezone(ZoneInfo(tz)).date() for b in bounds[:-1]]
    ratios = {str(org): [t.ratio for t in series] for org, series in counted.series.items()}
    return charts.ratio_chart(weeks, ratios, target=header.settings.kept_target)


RENDERERS = {
    REMINDER: render,
    ACHIEVED_ANNOUNCEMENT: render_achieved,
    CHART: render_chart,
    PACK_CHART: render_pack_chart,
}
