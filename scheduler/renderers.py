"""What the outbox sends for each kind of slot: the domain says whether a slot is still worth
sending and what it is about; the message builders in `bot.blocks` say how it reads.

Each renderer takes the outbox item and the sweep's `now` and answers Send (the message as it
should read now), Skip (no longer useful) or Later (not yet: outside working hours, away).
They sit above both the domain and `bot.blocks`, so the domain never imports message builders.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import Engine, select

from bot.blocks import charts
from bot.blocks import coffee as coffee_messages
from bot.blocks import commitments as commitment_messages
from bot.blocks import costs as cost_messages
from bot.blocks import nudges as nudge_messages
from bot.blocks import objectives as objective_messages
from bot.blocks import reports as report_blocks
from bot.blocks import reviews as review_messages
from bot.charter.service import current_charter, review_date_after, weekly_instant
from bot.coffee import service as coffee
from bot.commitments.lifecycle import Status
from bot.commitments.nudge_planning import NUDGE
from bot.commitments.service import CHANNEL_MESSAGE, get_commitment
from bot.costs.service import OVER_BUDGET, ledger_for_sending, partnership_ledger
from bot.objectives import service as objective_service
from bot.objectives import sweeps as objective_sweeps
from bot.objectives.service import Status as ObjectiveStatus
from bot.objectives.service import get_objective, value_days
from bot.outbox.sending import Item, Later, Renderer, Send, Skip, State, Upload
from bot.policy.charter_settings import nudge_policy_in
from bot.policy.visibility import sees_partnership
from bot.policy.working_hours import in_working_hours, next_working_instant
from bot.reports import reviews, summaries
from bot.text import escape_mrkdwn
from storage.db import transaction
from storage.models import Member, Objective, Partnership, Person


def nudge(engine: Engine, item: Item, now: datetime) -> Send | Skip | Later:
    """The nudge as it should read now, or why it should not (or not yet) be sent."""
    commitment = get_commitment(engine, commitment_id=item.commitment_id)
    if commitment.status != Status.OPEN:
        return Skip(State.CANCELLED, f"#{commitment.ref} is {commitment.status.value}")
    owner = commitment.owner
    if owner.away_until and owner.away_until > now:
        return Later(next_working_instant(owner.away_until, tz=owner.tz), "owner is away")
    with transaction(engine) as session:
        policy = nudge_policy_in(
            session,
            partnership_id=commitment.partnership.id,
            person_id=owner.id,
            years=(now.year, now.year + 1),
        )
    if not in_working_hours(now, tz=owner.tz, policy=policy):
        return Later(
            next_working_instant(now, tz=owner.tz, policy=policy),
            "outside the owner's working hours",
        )
    slot = item.slot_key.rsplit(":", 1)[-1]
    message = nudge_messages.nudge(commitment, slot=slot, now=now)
    return Send(owner.user_id, message, f"#{commitment.ref} {slot} nudge")


def weekly_summary(engine: Engine, item: Item, now: datetime) -> Send | Skip:
    """The summary as it reads now, or a cancellation if the charter moved it."""
    _, partnership_id, _ = item.slot_key.split(":", 2)
    summary = summaries.weekly(engine, partnership_id=int(partnership_id), at=item.due_at, now=now)
    if summary is None:
        return Skip(State.CANCELLED, "the partnership no longer exists")
    settings, tz = summary.settings, summary.partnership.tz
    expected = weekly_instant(
        settings.summary_weekday,
        settings.summary_time,
        tz,
        on_or_after=item.due_at - timedelta(minutes=1),
    )
    if expected != item.due_at:
        return Skip(State.CANCELLED, "the charter moved the weekly summary")
    message = report_blocks.weekly_summary(summary)
    return Send(item.channel, message, f"weekly summary for {summary.partnership.name}")


def review_reminder(engine: Engine, item: Item, now: datetime) -> Send | Skip | Later:
    """The reminder as it should read now, or why it should not be sent."""
    partnership_id, review_date, offset = reviews.parse_slot_key(item.slot_key)
    with transaction(engine) as session:
        row = session.get(Partnership, partnership_id)
        if row is None:
            return Skip(State.CANCELLED, "the partnership no longer exists")
        start = reviews.began(row, row.created_at)
    settings = current_charter(engine, partnership_id=partnership_id).settings
    day_before = review_date - timedelta(days=1)
    if review_date_after(settings, began=start, after=day_before) != review_date:
        return Skip(State.CANCELLED, f"{review_date} is no longer a review date in the charter")
    pack = reviews.evidence_pack(
        engine, partnership_id=partnership_id, review_date=review_date, now=now
    )
    message = review_messages.reminder(pack, days_before=offset)
    return Send(item.channel, message, f"review {review_date} reminder ({offset} days before)")


def coffee_intro(engine: Engine, item: Item, now: datetime) -> Send | Skip | Later:
    pairing = coffee.get_pairing(engine, pairing_id=int(item.slot_key.split(":")[1]))
    if pairing.kind == coffee.CORRECTION:
        message = coffee_messages.correction_intro(pairing)
    elif pairing.kind == coffee.OBJECTIVE_CORRECTION:
        objective_id = coffee.correction_objective(pairing)
        objective = get_objective(engine, objective_id=objective_id, now=now)
        if objective is None:
            return Skip(State.CANCELLED, "the objective no longer exists")
        message = coffee_messages.objective_correction_intro(pairing, objective)
    else:
        message = coffee_messages.intro(
            pairing, coffee.starters(engine, partnership_id=pairing.partnership.id, now=now)
        )
    names = " & ".join(p.person.name for p in pairing.pals)
    return Send(
        item.channel,
        message,
        f"coffee intro: {names}",
        on_sent=coffee.conversation_recorder(engine, pairing.id),
    )


def coffee_follow_up(engine: Engine, item: Item, now: datetime) -> Send | Skip | Later:
    pairing = coffee.get_pairing(engine, pairing_id=int(item.slot_key.split(":")[1]))
    if pairing.outcome is not None:
        return Skip(State.CANCELLED, f"already answered: {pairing.outcome.value}")
    channel = pairing.conversation_id or item.channel
    return Send(channel, coffee_messages.follow_up(pairing), f"coffee follow-up #{pairing.id}")


def coffee_private_note(engine: Engine, item: Item, now: datetime) -> Send | Skip | Later:
    """A course correction's word to one of the two: the member sees their own numbers."""
    _, pairing_id, person_id = item.slot_key.split(":")
    pairing = coffee.get_pairing(engine, pairing_id=int(pairing_id))
    me = next(p for p in pairing.pals if p.person.id == int(person_id))
    other = pairing.others(me.person.id)[0]
    if me.person.id == coffee.correction_subject(pairing):
        tally = coffee.say_do_by_member(
            engine,
            partnership_id=pairing.partnership.id,
            start=pairing.scheduled_for - coffee.CORRECTION_WINDOW,
            now=pairing.scheduled_for,
        ).get(me.person.id, coffee.Tally(0, 0, 0))
        message = coffee_messages.correction_for_member(pairing, other, tally)
    else:
        message = coffee_messages.correction_for_partner(pairing, other)
    return Send(me.person.user_id, message, f"coffee correction note #{pairing.id}")


def channel_message(engine: Engine, item: Item, _now: datetime) -> Send | Skip:
    """The commitment's "Logged #N" message in its channel as it stands now (`chat.update`), so
    a retried or repeated update says the same thing."""
    commitment = get_commitment(engine, commitment_id=item.commitment_id)
    if commitment.channel_message_ts is None:
        return Skip(State.CANCELLED, f"#{commitment.ref} has no channel message")
    return Send(
        item.channel,
        commitment_messages.logged_as_it_stands(commitment),
        f"#{commitment.ref} channel message now {commitment.status.value}",
        replaces_ts=commitment.channel_message_ts,
    )


def objective_reminder(engine: Engine, item: Item, now: datetime) -> Send | Skip | Later:
    """The reminder as it should read now, or why it should not (or not yet) be sent."""
    _, objective_id, person_id, day_text = item.slot_key.split(":")
    day = date.fromisoformat(day_text)
    objective = get_objective(engine, objective_id=int(objective_id), now=now)
    if objective is None:
        return Skip(State.CANCELLED, "the objective no longer exists")
    if objective.status == ObjectiveStatus.ACHIEVED:
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
        objective_messages.reminder(objective, due=day),
        f"{objective.ref} value reminder for {day.isoformat()}",
    )


def objective_achieved(engine: Engine, item: Item, now: datetime) -> Send | Skip:
    """The one announcement in the channel that an objective reached its target."""
    objective = get_objective(engine, objective_id=int(item.slot_key.split(":")[1]), now=now)
    if objective is None:
        return Skip(State.CANCELLED, "the objective no longer exists")
    return Send(item.channel, objective_messages.achieved(objective), f"{objective.ref} achieved")


def objective_chart(engine: Engine, item: Item, now: datetime) -> Send | Skip:
    """An objective's chart for a member who asked for it, drawn from the values as they are."""
    _, objective_id, person_id, _ = item.slot_key.split(":")
    objective = get_objective(engine, objective_id=int(objective_id), now=now)
    if objective is None:
        return Skip(State.CANCELLED, "the objective no longer exists")
    with transaction(engine) as session:
        person = session.get(Person, int(person_id))
        member = person is not None and sees_partnership(
            session, partnership_id=objective.partnership.id, user_id=person.user_id
        )
    if not member:
        return Skip(State.CANCELLED, "no longer a member of the partnership")
    chart = charts.objective_chart(objective)
    upload = Upload(chart.filename, charts.render_png(chart), chart.title, chart.alt_text)
    comment = {"text": f"{objective.ref}: {objective.status.value}."}
    return Send(item.channel, comment, f"{objective.ref} chart", upload=upload)


def pack_chart(engine: Engine, item: Item, now: datetime) -> Send | Skip:
    """One chart of the evidence pack, drawn from the data as it is, into the channel."""
    _, partnership_id, review, name = item.slot_key.split(":")
    if name == reviews.PACK_RATIO:
        data = reviews.weekly_ratios(
            engine,
            partnership_id=int(partnership_id),
            review_date=date.fromisoformat(review),
            now=now,
        )
        if data is None:
            return Skip(State.CANCELLED, "the partnership no longer exists")
        chart = charts.ratio_chart(data.weeks, data.ratios, target=data.target)
    elif name == reviews.PACK_SPEND:
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


def cost_over_budget(engine: Engine, item: Item, now: datetime) -> Send | Skip:
    """The private over-budget note, from the ledger as it stands when it is sent."""
    found = ledger_for_sending(engine, project_id=int(item.slot_key.split(":")[1]), now=now)
    if found is None:
        return Skip(State.CANCELLED, "the project no longer exists")
    ledger, project = found
    if not project.over_budget:
        return Skip(State.CANCELLED, f"{project.ref} is back within its budget")
    return Send(
        item.channel, cost_messages.over_budget_note(ledger, project), f"{project.ref} over budget"
    )


RENDERERS: dict[str, Renderer] = {
    NUDGE: nudge,
    CHANNEL_MESSAGE: channel_message,
    reviews.REVIEW: review_reminder,
    summaries.SUMMARY: weekly_summary,
    coffee.INTRO: coffee_intro,
    coffee.FOLLOW_UP: coffee_follow_up,
    coffee.PRIVATE_NOTE: coffee_private_note,
    objective_sweeps.REMINDER: objective_reminder,
    objective_service.ACHIEVED_ANNOUNCEMENT: objective_achieved,
    objective_service.CHART: objective_chart,
    reviews.PACK_CHART: pack_chart,
    OVER_BUDGET: cost_over_budget,
}
