"""What the outbox sends for each kind of slot: the domain says whether a slot is still worth
sending and what it is about; the message builders in `bot.blocks` say how it reads.

Each renderer takes the outbox item and the sweep's `now` and answers Send (the message as it
should read now), Skip (no longer useful) or Later (not yet: outside working hours, away).
They sit above both the domain and `bot.blocks`, so the domain never imports message builders.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine

from bot.blocks import coffee as coffee_messages
from bot.blocks import commitments as commitment_messages
from bot.blocks import nudges as nudge_messages
from bot.blocks import reports as report_blocks
from bot.blocks import reviews as review_messages
from bot.charter.service import current_charter, review_date_after, weekly_instant
from bot.coffee import service as coffee
from bot.commitments.lifecycle import Status
from bot.commitments.nudge_planning import NUDGE
from bot.commitments.service import CHANNEL_MESSAGE, get_commitment
from bot.outbox.sending import Item, Later, Renderer, Send, Skip, State
from bot.policy.charter_settings import nudge_policy_in
from bot.policy.working_hours import in_working_hours, next_working_instant
from bot.reports import reviews, summaries
from storage.db import transaction
from storage.models import Partnership


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


RENDERERS: dict[str, Renderer] = {
    NUDGE: nudge,
    CHANNEL_MESSAGE: channel_message,
    reviews.REVIEW: review_reminder,
    summaries.SUMMARY: weekly_summary,
    coffee.INTRO: coffee_intro,
    coffee.FOLLOW_UP: coffee_follow_up,
    coffee.PRIVATE_NOTE: coffee_private_note,
}
