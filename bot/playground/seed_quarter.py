""" "Seed a quarter": thirteen weeks of joint working, played through Saydo's own doors.

From the playground's current time, the partners log commitments in the channel (`/commit`
from the council, `@saydo I'll …` from the partner organisations), then deliver them on time,
early, late or not at all, renegotiate some before they fall due and withdraw one, answer
their coffee intros and log lessons, while the clock moves on and the sweeps send nudges,
coffee rounds, weekly summaries and review reminders. Owners act by typing Saydo's commands in
their direct message with it; recipients confirm deliveries with the **Received** button.

Played with the council's single token (the default) or, once installations are chosen, in
OAuth mode with every organisation installed, each person acting through their own
workspace's installation.

The script is fixed (a seeded random choice), so every seeded quarter tells the same story:
the council keeps most of its word, the trust nearly all of it, the supplier slips and then
recovers after a course-correction coffee.

Alongside: three objectives (one achieved, one on track, one at risk) whose owners record
monthly values with `/saydo measure`, and a cost ledger for home care brokerage whose pilot
drifts over budget as the supplier records its spend with `@saydo cost …` (Slack Connect shares
no slash commands with partners). The objectives and the
ledger are set up through the domain (their forms are modals), everything after that through
Saydo's commands; the review's evidence pack then brings their charts to the channel.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.blocks import coffee as coffee_blocks
from bot.blocks import ids
from bot.commitments.service import person_ref
from bot.costs.service import LedgerDraft, save_ledger
from bot.objectives.service import Draft, create_objective
from bot.playground import render
from bot.playground import workspace as cast
from bot.playground.playground import Playground, PlaygroundError
from bot.playground.standin import dm_id
from storage import clock
from storage.db import transaction
from storage.models import Commitment, Partnership, Person

WEEKS = 13
LONDON = ZoneInfo("Europe/London")
SEED = 2026

# (owner handle, what, working days to the due date, recipient handle or None)
PLAN = (
    ("alice", "circulate the discharge pathway map for comments", 4, "chloe"),
    ("priya", "share the referral portal prototype", 3, "ben"),
    ("chloe", "send the weekly delayed-discharge figures", 2, None),
    ("ben", "book the care-home provider forum venue", 5, None),
    ("sam", "agree the portal's sprint goals with the council", 2, "alice"),
    ("dan", "set up the shared bed-vacancy dashboard", 6, "ben"),
    ("alice", "confirm winter-pressures funding for the pilot", 7, None),
    ("priya", "fix the duplicate-referral bug in the portal", 3, "chloe"),
    ("chloe", "nominate two ward staff for user research", 2, "sam"),
    ("ben", "send the draft data-sharing agreement", 4, "dan"),
    ("sam", "send the sprint demo recording", 1, None),
    ("dan", "validate the October discharge data", 3, None),
    ("alice", "brief the cabinet member on the pilot", 5, None),
    ("priya", "publish the accessibility audit", 6, "alice"),
    ("chloe", "update the escalation contacts list", 2, None),
    ("ben", "agree the provider payment schedule", 5, "sam"),
    ("sam", "run the ward-staff usability sessions", 4, "chloe"),
    ("dan", "share the readmissions analysis", 5, "alice"),
    ("alice", "sign off the DPIA", 3, "priya"),
    ("priya", "send the invoice breakdown for the quarter", 2, "ben"),
    ("chloe", "circulate the provider forum notes", 2, None),
    ("ben", "publish the updated referral form", 3, None),
    ("sam", "deliver the portal release notes", 2, None),
    ("dan", "automate the weekly figures extract", 7, "chloe"),
    ("alice", "set the agenda for the quarterly review", 4, None),
    ("priya", "hand over the portal runbook", 5, "dan"),
)
# How each organisation's commitments tend to turn out: (kept early, kept, renegotiated,
# late, missed, withdrawn) weights.
FATES = ("early", "kept", "renegotiated", "late", "missed", "withdrawn")
HABITS = {
    cast.COUNCIL.team_id: (2, 6, 1, 1, 0.5, 0.3),
    cast.TRUST.team_id: (3, 7, 1, 0.5, 0.2, 0),
    cast.SUPPLIER.team_id: (1, 4, 1, 2.5, 1.5, 0.3),
}
LESSONS = (
    (3, "alice", "Agreeing the due date in the meeting, not afterwards, halves the chasing"),
    (7, "ben", "Shared dashboards beat emailed spreadsheets: one version of the figures"),
    (11, "alice", "Renegotiating early kept trust; missing silently cost it"),
)
# (owner organisation, who records, title, measure, better, baseline, target, weeks to the
# target date, values measured every four weeks): achieved, on track, at risk. The council's
# people type `/saydo measure` with the figures the partners send them.
OBJECTIVES = (
    (cast.TRUST, "ben", "Faster hospital discharge", "days from referral to discharge",
     "lower", "12", "8", 10, ("10.5", "8")),
    (cast.SUPPLIER, "alice", "Referrals through the portal", "% of referrals", "higher", "20",
     "80", 26, ("30", "38", "47")),
    (cast.COUNCIL, "ben", "Provider payments on time", "% paid within 30 days", "higher", "60",
     "95", 16, ("62", "70", "79")),
)  # fmt: skip
AREA = "Home care brokerage"
BASELINES = (
    (cast.COUNCIL, "240,000", "Brokerage team (6 FTE) and spot-purchase premiums, 2025-26"),
    (cast.TRUST, "160,000", "Discharge coordinators' time spent brokering, 2025-26 audit"),
)
MARKET_PRICE = "350,000"
# (project, budget for the quarter, spend the supplier records every four weeks, mentioning
# Saydo): the pilot drifts over.
PROJECTS = (
    ("Brokerage pilot", "60,000", ("28,000", "26,000", "14,000")),
    ("Referral portal", "40,000", ("12,000", "12,500", "13,000")),
)
ADMINS = ("alice", "chloe", "priya")


@dataclass(order=True)
class _Step:
    at: datetime
    order: int
    act: Callable[[], None]


def seed_quarter(playground: Playground, progress: Callable[[int], None] = lambda _: None) -> str:
    """Play the quarter, telling `progress` each week played so far (up to `WEEKS`); returns
    one line saying what happened."""
    without = [o.name for o in cast.ORGANISATIONS if not playground.has_saydo(_someone_of(o))]
    if without:
        raise PlaygroundError(
            f"{' and '.join(without)} ha{'ve' if len(without) > 1 else 's'} not installed "
            "Saydo, and in the quarter's script everyone also acts in their direct message with "
            "Saydo: tick both organisations to seed a quarter."
        )
    started = clock.now()
    script = _Script(playground, started)
    steps = script.steps()
    for step in steps:
        if step.at > clock.now():
            playground.advance(step.at)
            progress(min(WEEKS, (clock.now() - started) // timedelta(weeks=1)))
        step.act()
    end = started + timedelta(weeks=WEEKS)
    if end > clock.now():
        playground.advance(end)
    progress(WEEKS)
    return (
        f"Seeded a quarter: {len(PLAN)} commitments, {len(LESSONS)} lessons, coffees and "
        f"summaries over {WEEKS} weeks, {len(OBJECTIVES)} objectives and a cost ledger, up to "
        f"{clock.now():%a %d %b %Y}."
    )


class _Script:
    def __init__(self, playground: Playground, started: datetime) -> None:
        self.playground = playground
        self.random = random.Random(SEED)
        self.first_day = _next_monday(started.astimezone(LONDON).date())
        self.handles = {m.name: m for m in cast.MEMBERS}
        self.refs: dict[int, int] = {}  # plan index -> commitment number
        self.coffees_answered: set[str] = set()  # ts of the coffee intros answered
        self._order = 0

    def steps(self) -> list[_Step]:
        steps: list[_Step] = []
        weeks_of_plan = _spread(len(PLAN), WEEKS - 2)
        for index, (owner, what, days, recipient) in enumerate(PLAN):
            logged_on = _working_day(self.first_day + timedelta(weeks=weeks_of_plan[index]), index)
            logged_at = _at(logged_on, time(10 + index % 6, 15))
            due_on = _add_working_days(logged_on, days)
            steps.append(self._step(logged_at, self._log(index, owner, what, due_on, recipient)))
            steps += self._fate(index, owner, due_on, recipient, after=logged_at)
        for week in range(WEEKS):
            friday = self.first_day + timedelta(weeks=week, days=4)
            steps.append(self._step(_at(friday, time(14, 0)), self._answer_coffees))
        for week, handle, text in LESSONS:
            day = self.first_day + timedelta(weeks=week, days=3)
            steps.append(self._step(_at(day, time(16, 30)), self._lesson(handle, text)))
        steps.append(self._step(_at(self.first_day, time(9, 5)), self._set_up_measures))
        for number, objective in enumerate(OBJECTIVES, start=1):
            handle, values = objective[1], objective[8]
            for month, value in enumerate(values, start=1):
                day = self.first_day + timedelta(weeks=4 * month, days=1)
                command = f"measure O{number} {value} evidence: monthly report, month {month}"
                steps.append(self._step(_at(day, time(11, 0)), self._in_channel(handle, command)))
        for project, _, spends in PROJECTS:
            for month, amount in enumerate(spends, start=1):
                day = self.first_day + timedelta(weeks=4 * month, days=2)
                text = f"@saydo cost {project} {amount} for month {month} evidence: invoice {month}"
                steps.append(self._step(_at(day, time(11, 30)), self._mention("priya", text)))
        return sorted(steps)

    def _set_up_measures(self) -> None:
        """Admins, the three objectives and the ledger, as partners would set them up."""
        for handle in ADMINS:
            self.playground.type(
                cast.MEMBERS[0].user_id, cast.CHANNEL_ID, f"/saydo admin @{handle}"
            )
        engine, now = self.playground.engine, clock.now()
        with transaction(engine) as session:
            people = {p.user_id: person_ref(p) for p in session.execute(select(Person)).scalars()}
            partnership_id = session.execute(
                select(Partnership.id).where(Partnership.channel_id == cast.CHANNEL_ID)
            ).scalar_one()
        alice = people[self.handles["alice"].user_id]
        for org, _, title, measure, better, baseline, target, weeks, _ in OBJECTIVES:
            create_objective(
                engine,
                partnership_id=partnership_id,
                creator=alice,
                draft=Draft(
                    title,
                    "",
                    measure,
                    better,
                    baseline,
                    self.first_day - timedelta(days=28),
                    target,
                    self.first_day + timedelta(weeks=weeks),
                    org.name,
                ),
                now=now,
            )
        for org, cost, note in BASELINES:
            draft = LedgerDraft(AREA, org.name, cost, note, market=MARKET_PRICE)
            save_ledger(engine, partnership_id=partnership_id, actor=alice, draft=draft, now=now)
        for project, budget, _ in PROJECTS:
            draft = LedgerDraft(
                AREA, project=project, supplier=cast.SUPPLIER.name, budget=budget,
                start=self.first_day, end=self.first_day + timedelta(weeks=WEEKS) - timedelta(1),
            )  # fmt: skip
            save_ledger(engine, partnership_id=partnership_id, actor=alice, draft=draft, now=now)

    def _in_channel(self, handle: str, command: str) -> Callable[[], None]:
        def say() -> None:
            self.playground.type(self.handles[handle].user_id, cast.CHANNEL_ID, f"/saydo {command}")

        return say

    def _mention(self, handle: str, text: str) -> Callable[[], None]:
        def say() -> None:
            self.playground.type(self.handles[handle].user_id, cast.CHANNEL_ID, text)

        return say

    def _step(self, at: datetime, act: Callable[[], None]) -> _Step:
        self._order += 1
        return _Step(at, self._order, act)

    # -- what people do ----------------------------------------------------------------------

    def _log(
        self, index: int, owner: str, what: str, due_on: date, recipient: str | None
    ) -> Callable[[], None]:
        def log() -> None:
            member = self.handles[owner]
            for_whom = f" for @{recipient}" if recipient else ""
            if member.team_id == cast.COUNCIL.team_id:
                text = f"/commit {what} by {due_on.isoformat()}{for_whom}"
            else:
                text = f"@saydo I'll {what} by {due_on.isoformat()}{for_whom}"
            self.playground.type(member.user_id, cast.CHANNEL_ID, text)
            self.refs[index] = _latest_ref(self.playground)

        return log

    def _fate(
        self, index: int, owner: str, due_on: date, recipient: str | None, *, after: datetime
    ) -> list[_Step]:
        """What becomes of a commitment, every step at least an hour after it was logged."""
        return [
            dataclasses.replace(step, at=max(step.at, after + timedelta(hours=1)))
            for step in self._fate_steps(index, owner, due_on, recipient)
        ]

    def _fate_steps(
        self, index: int, owner: str, due_on: date, recipient: str | None
    ) -> list[_Step]:
        member = self.handles[owner]
        fate = self.random.choices(FATES, weights=HABITS[member.team_id])[0]
        steps: list[_Step] = []
        if fate == "early":
            done_at = _at(due_on - timedelta(days=2), time(11, 0))
        elif fate == "kept":
            done_at = _at(due_on, time(15, 30))
        elif fate == "late":
            done_at = _at(due_on + timedelta(days=self.random.randint(2, 6)), time(11, 0))
        elif fate == "renegotiated":
            new_date = _add_working_days(due_on, 3)
            steps.append(
                self._step(
                    _at(due_on - timedelta(days=1), time(9, 30)),
                    self._say(
                        owner,
                        index,
                        f"move {{ref}} {new_date.isoformat()} because the data arrived late",
                    ),
                )
            )
            done_at = _at(new_date, time(12, 0))
        elif fate == "withdrawn":
            steps.append(
                self._step(
                    _at(due_on - timedelta(days=2), time(9, 0)),
                    self._say(owner, index, "drop {ref} because the pilot scope changed"),
                )
            )
            return steps
        else:  # missed: nothing happens, and the nudges keep coming
            return steps
        evidence = f"evidence: https://docs.example.org/{owner}/{index + 1}"
        steps.append(self._step(done_at, self._done(owner, index, evidence)))
        if recipient:
            steps.append(self._step(done_at + timedelta(hours=3), self._received(recipient)))
        return steps

    def _say(self, owner: str, index: int, command: str) -> Callable[[], None]:
        """`/saydo <command>` in the owner's DM, `{ref}` being the commitment's number."""

        def say() -> None:
            user_id = self.handles[owner].user_id
            text = "/saydo " + command.format(ref=self.refs[index])
            self.playground.type(user_id, dm_id(user_id), text)

        return say

    def _done(self, owner: str, index: int, evidence: str) -> Callable[[], None]:
        def done() -> None:
            user_id = self.handles[owner].user_id
            self.playground.type(user_id, dm_id(user_id), f"/done {self.refs[index]} {evidence}")

        return done

    def _received(self, recipient: str) -> Callable[[], None]:
        def received() -> None:
            user_id = self.handles[recipient].user_id
            _click_latest(self.playground, user_id, dm_id(user_id), ids.RECEIVED)

        return received

    def _answer_coffees(self) -> None:
        """One person in most pairings says they met; some pairings never get round to it."""
        for member in cast.MEMBERS:
            for conversation in self.playground.slack.conversations_of(member.user_id):
                if conversation["kind"] != "mpim" or conversation["members"][0] != member.user_id:
                    continue
                if self.random.random() >= 0.75:
                    continue
                answered = _click_latest(
                    self.playground,
                    member.user_id,
                    conversation["id"],
                    coffee_blocks.MET,
                    unless=self.coffees_answered,
                )
                if answered:
                    self.coffees_answered.add(answered)

    def _lesson(self, handle: str, text: str) -> Callable[[], None]:
        def lesson() -> None:
            user_id = self.handles[handle].user_id
            self.playground.type(user_id, cast.CHANNEL_ID, f"/saydo lesson {text}")

        return lesson


def _click_latest(
    playground: Playground,
    user_id: str,
    conversation: str,
    action_id: str,
    *,
    unless: set[str] | None = None,
) -> str | None:
    """Click the newest button with `action_id` in a conversation, unless its message's ts is
    in `unless`; returns the ts of the message clicked, if any."""
    for message in reversed(playground.slack.conversation(conversation, viewer=user_id)):
        for index, block in enumerate(message.get("blocks") or []):
            for element in block.get("elements") or []:
                if element.get("action_id") != action_id:
                    continue
                if unless is not None and message["ts"] in unless:
                    return None
                playground.click(
                    user_id,
                    conversation=conversation,
                    message_ts=message["ts"],
                    block_id=render.block_id_of(block, index),
                    action_id=action_id,
                    value=element.get("value"),
                )
                return message["ts"]
    return None


def _someone_of(organisation: cast.Organisation) -> str:
    return next(m.user_id for m in cast.MEMBERS if m.team_id == organisation.team_id)


def _latest_ref(playground: Playground) -> int:
    with transaction(playground.engine) as session:
        return session.execute(select(Commitment.ref).order_by(Commitment.id.desc())).scalar()


def _spread(count: int, weeks: int) -> list[int]:
    """Week numbers (from 0) spreading `count` items evenly over `weeks` weeks."""
    return [index * weeks // count for index in range(count)]


def _next_monday(day: date) -> date:
    return day + timedelta(days=(7 - day.weekday()) % 7 or 7)


def _working_day(monday: date, index: int) -> date:
    return monday + timedelta(days=index % 3)


def _add_working_days(day: date, days: int) -> date:
    while days > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day if day.weekday() < 5 else day + timedelta(days=7 - day.weekday())


def _at(day: date, at: time) -> datetime:
    return datetime.combine(day, at, LONDON).astimezone(ZoneInfo("UTC"))
