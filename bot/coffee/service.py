"""Cup-of-coffee check-ins: regular informal pairings, and the private course correction.

Every `coffee_cadence_weeks`, on the charter's weekday and time in the partnership's time zone
(`bot.charter.service.coffee_round_at`, counted from the week the partnership began), the sweep
pairs the members who are available that day (not opted out, paused, away, or on a public holiday of
their organisation's `holiday_calendars`) with `bot.coffee.pairing.pair_round`, across organisations
where it can and a trio when the number is odd, using every earlier pairing of the partnership as
history. The round and its pairings are created in one transaction under a unique round key (the
local date), so two replicas sweeping at once create it once; the intro to each group DM and its
follow-up a week later go through the outbox (`users:U1,U2` channels).

Course correction (the charter's escalation playbook, `course_correction`, on by default): at
the weekly coffee instant, any member whose say/do ratio over the last four weeks is below the
charter's `kept_target`, or who missed two or more commitments in that time, is offered an extra
coffee with a member of a partner organisation (an admin where there is one): a group DM for the
two of them without numbers, and a private DM to each, the numbers only to the member. At most
once every four weeks per member; never in the channel.

The same playbook covers objectives: at the weekly coffee instant, an objective on the next
review's agenda (at risk for two values in a row, or missed) gets one extra coffee per stretch
on the agenda (`ObjectiveView.agenda_episode`, in the round key `objective:<id>:<stretch>`),
between someone of the owning organisation (whoever recorded its latest value, else an admin)
and a member of a partner organisation: a group DM for the two of them, never the channel.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select, update

from bot.charter.service import coffee_round_at, current_charter, weekly_instant
from bot.coffee.pairing import pair_round
from bot.commitments.lifecycle import Status
from bot.commitments.service import PartnershipRef, PersonRef
from bot.objectives.service import ObjectiveView, partnership_objectives
from bot.outbox.sending import GROUP_DM_PREFIX, Planned, enqueue
from bot.partnerships.members import MemberView, list_members
from bot.policy.charter_settings import CharterSettings, on_holiday
from bot.refusal import Refusal
from bot.reports import figures as reports
from storage.db import transaction, upsert_insert
from storage.models import CoffeePairing, CoffeeRound, Commitment, Member, Partnership, Person

INTRO = "coffee_intro"
FOLLOW_UP = "coffee_follow_up"
PRIVATE_NOTE = "coffee_private"  # a course correction's private word to one person
REGULAR = "regular"
CORRECTION = "correction"
OBJECTIVE_CORRECTION = "objective_correction"  # a course correction about an objective

FOLLOW_UP_AFTER = timedelta(days=7)
LATE_WINDOW = timedelta(hours=24)  # a round missed for longer (Saydo down) waits for the next
CORRECTION_WINDOW = timedelta(weeks=4)
CORRECTION_MISSED = 2
RECENT_DELIVERY = timedelta(days=30)


class Answer(StrEnum):
    MET = "met"
    NOT_YET = "not_yet"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Participant:
    """What `pair_round` needs of a member."""

    id: int
    organisation: str


@dataclass(frozen=True)
class Pal:
    person: PersonRef
    organisation: str


@dataclass(frozen=True)
class PairingView:
    id: int
    round_key: str
    kind: str
    scheduled_for: datetime
    partnership: PartnershipRef
    pals: tuple[Pal, ...]
    conversation_id: str | None
    outcome: Answer | None
    answered_by_id: int | None
    answered_at: datetime | None

    def others(self, person_id: int) -> tuple[Pal, ...]:
        return tuple(p for p in self.pals if p.person.id != person_id)

    @property
    def users_channel(self) -> str:
        return GROUP_DM_PREFIX + ",".join(p.person.user_id for p in self.pals)


@dataclass(frozen=True)
class Tally:
    """Judged commitments over a period (the `bot.commitments.lifecycle` rules)."""

    kept: int
    late: int
    missed: int

    @property
    def judged(self) -> int:
        return self.kept + self.late + self.missed

    @property
    def ratio(self) -> float | None:
        return self.kept / self.judged if self.judged else None


@dataclass(frozen=True)
class Starters:
    """What an intro can suggest talking about."""

    purpose: str
    delivered: tuple[str, str] | None  # (who, what) recently delivered in the partnership


@dataclass(frozen=True)
class MyCoffee:
    """`/saydo coffee` for one partnership."""

    partnership: PartnershipRef
    pairing: PairingView | None  # this round's, if the latest round paired me
    next_round: datetime
    opted_out: bool
    paused_until: datetime | None


# --- who is available ---------------------------------------------------------------------


def left_out(member: MemberView, *, at: datetime, settings: CharterSettings) -> str | None:
    """Why the member sits this round out (they are told nothing), or None."""
    if member.coffee_opt_out:
        return "opted out"
    if member.coffee_paused_until and member.coffee_paused_until > at:
        return "paused"
    if member.person.away_until and member.person.away_until > at:
        return "away"
    if on_holiday(settings, member.organisation, at.astimezone(ZoneInfo(member.person.tz)).date()):
        return "public holiday"
    return None


# --- the sweep ----------------------------------------------------------------------------


def plan(engine: Engine, *, now: datetime) -> list[str]:
    """Create every round that is due and not yet created; the keys of those created."""
    with transaction(engine) as session:
        partnerships = session.execute(select(Partnership).order_by(Partnership.id)).scalars()
        rows = [(_ref(p), p.created_at) for p in partnerships]
    created: list[str] = []
    for partnership, began_at in rows:
        settings = current_charter(engine, partnership_id=partnership.id).settings
        if settings.course_correction:
            created += plan_corrections(engine, partnership, settings, now=now)
            created += plan_objective_corrections(engine, partnership, settings, now=now)
        key = plan_regular(engine, partnership, settings, began_at=began_at, now=now)
        if key:
            created.append(key)
    return created


def round_instant(
    settings: CharterSettings, tz: str, *, began_at: datetime, now: datetime
) -> datetime | None:
    """The regular round due at `now` (within LATE_WINDOW of its instant), if any."""
    began = began_at.astimezone(ZoneInfo(tz)).date()
    at = coffee_round_at(settings, tz, began=began, on_or_after=max(began_at, now - LATE_WINDOW))
    return at if at <= now else None


def next_round(
    settings: CharterSettings, tz: str, *, began_at: datetime, now: datetime
) -> datetime:
    began = began_at.astimezone(ZoneInfo(tz)).date()
    return coffee_round_at(settings, tz, began=began, on_or_after=max(began_at, now))


def plan_regular(
    engine: Engine,
    partnership: PartnershipRef,
    settings: CharterSettings,
    *,
    began_at: datetime,
    now: datetime,
) -> str | None:
    at = round_instant(settings, partnership.tz, began_at=began_at, now=now)
    if at is None:
        return None
    key = at.astimezone(ZoneInfo(partnership.tz)).date().isoformat()
    if _round_exists(engine, partnership.id, key):
        return None
    members = {m.person.id: m for m in list_members(engine, partnership_id=partnership.id)}
    available = [m for m in members.values() if left_out(m, at=at, settings=settings) is None]
    with transaction(engine) as session:
        history = _history(session, partnership.id)
    groups = pair_round(
        [Participant(m.person.id, m.organisation) for m in available],
        history=history,
        seed=zlib.crc32(f"{partnership.id}:{key}".encode()),
    )
    people = [tuple(members[pid].person for pid in group) for group in groups]
    return key if _create_round(engine, partnership, key, REGULAR, at, people, now=now) else None


def correction_instant(settings: CharterSettings, tz: str, *, now: datetime) -> datetime | None:
    """The weekly coffee instant due at `now` (within LATE_WINDOW of it), when course
    corrections are checked; None between them."""
    at = weekly_instant(
        settings.coffee_weekday, settings.coffee_time, tz, on_or_after=now - LATE_WINDOW
    )
    return at if at <= now else None


def plan_corrections(
    engine: Engine, partnership: PartnershipRef, settings: CharterSettings, *, now: datetime
) -> list[str]:
    """At the weekly coffee instant: an extra, private coffee for members who are struggling."""
    at = correction_instant(settings, partnership.tz, now=now)
    if at is None:
        return []
    tallies = say_do_by_member(
        engine, partnership_id=partnership.id, start=at - CORRECTION_WINDOW, now=at
    )
    struggling = {
        pid: t
        for pid, t in tallies.items()
        if t.missed >= CORRECTION_MISSED or (t.ratio is not None and t.ratio < settings.kept_target)
    }
    if not struggling:
        return []
    members = list_members(engine, partnership_id=partnership.id)
    available = [m for m in members if left_out(m, at=at, settings=settings) is None]
    with transaction(engine) as session:
        history = _history(session, partnership.id)
    year, week, _ = at.astimezone(ZoneInfo(partnership.tz)).isocalendar()
    created = []
    for member in available:
        tally = struggling.get(member.person.id)
        if tally is None or _corrected_since(engine, partnership.id, member.person.id, at):
            continue
        partner = _correction_partner(member, available, history)
        if partner is None:
            continue
        key = f"{CORRECTION}:{member.person.id}:{year}-W{week:02d}"
        notes = {member.person.id: tally}
        if _create_round(
            engine,
            partnership,
            key,
            CORRECTION,
            at,
            [(member.person, partner.person)],
            now=now,
            notes=notes,
        ):
            created.append(key)
    return created


def plan_objective_corrections(
    engine: Engine, partnership: PartnershipRef, settings: CharterSettings, *, now: datetime
) -> list[str]:
    """At the weekly coffee instant: an extra, private coffee for each objective on the review's
    agenda, once per stretch there, between its owning organisation and a partner."""
    at = correction_instant(settings, partnership.tz, now=now)
    if at is None:
        return []
    troubled = [
        o
        for o in partnership_objectives(engine, partnership_id=partnership.id, now=at)
        if o.for_review
    ]
    if not troubled:
        return []
    members = list_members(engine, partnership_id=partnership.id)
    available = [m for m in members if left_out(m, at=at, settings=settings) is None]
    with transaction(engine) as session:
        history = _history(session, partnership.id)
    created = []
    for objective in troubled:
        key = objective_round_key(objective)
        if _round_exists(engine, partnership.id, key):
            continue
        owner = _objective_owner(objective, available)
        partner = _correction_partner(owner, available, history) if owner else None
        if partner is None:  # nobody free on one side this week: asked again next week
            continue
        pair = (owner.person, partner.person)
        if _create_round(engine, partnership, key, OBJECTIVE_CORRECTION, at, [pair], now=now):
            created.append(key)
    return created


def objective_round_key(objective: ObjectiveView) -> str:
    """`objective:<id>:<stretch on the agenda>`: one course correction per stretch."""
    return f"objective:{objective.id}:{objective.agenda_episode}"


def correction_objective(pairing: PairingView) -> int:
    """The objective an objective course correction is about (its id, from the round key)."""
    return int(pairing.round_key.split(":")[1])


def _objective_owner(objective: ObjectiveView, candidates: list[MemberView]) -> MemberView | None:
    """Who speaks for the owning organisation: whoever recorded its latest value, else an
    admin, else any of its members (the same one each week)."""
    owning = objective.owner_organisation.casefold()
    owners = [c for c in candidates if c.organisation.casefold() == owning]
    latest = objective.latest.recorded_by_user_id if objective.latest else None
    return min(
        owners,
        key=lambda c: (c.person.user_id != latest, not c.is_admin, c.person.id),
        default=None,
    )


def _correction_partner(
    member: MemberView, candidates: list[MemberView], history: dict[frozenset, int]
) -> MemberView | None:
    others = [c for c in candidates if c.organisation != member.organisation]
    if not others:
        return None
    return min(
        others,
        key=lambda c: (
            not c.is_admin,
            history.get(frozenset({member.person.id, c.person.id}), 0),
            c.person.id,
        ),
    )


def _create_round(
    engine: Engine,
    partnership: PartnershipRef,
    key: str,
    kind: str,
    at: datetime,
    groups: Iterable[tuple[PersonRef, ...]],
    *,
    now: datetime,
    notes: dict[int, Tally] | None = None,
) -> bool:
    """The round, its pairings and their messages in one transaction; False if it exists."""
    insert = upsert_insert(engine.dialect.name)
    with transaction(engine) as session:
        round_id = session.execute(
            insert(CoffeeRound)
            .values(
                partnership_id=partnership.id,
                round_key=key,
                kind=kind,
                scheduled_for=at,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["partnership_id", "round_key"])
            .returning(CoffeeRound.id)
        ).scalar_one_or_none()
        if round_id is None:
            return False
        planned: list[Planned] = []
        for group in groups:
            people = sorted(group, key=lambda p: p.id)
            pairing = CoffeePairing(
                round_id=round_id, member_ids=",".join(str(p.id) for p in people)
            )
            session.add(pairing)
            session.flush()
            users = GROUP_DM_PREFIX + ",".join(p.user_id for p in people)
            planned += [
                Planned(f"{INTRO}:{pairing.id}", INTRO, users, at),
                Planned(f"{FOLLOW_UP}:{pairing.id}", FOLLOW_UP, users, at + FOLLOW_UP_AFTER),
            ]
            for person in people if notes else ():
                planned.append(
                    Planned(
                        f"{PRIVATE_NOTE}:{pairing.id}:{person.id}", PRIVATE_NOTE, person.user_id, at
                    )
                )
        enqueue(session, planned, now=now)
        return True


def _round_exists(engine: Engine, partnership_id: int, key: str) -> bool:
    with transaction(engine) as session:
        return (
            session.execute(
                select(CoffeeRound.id).where(
                    CoffeeRound.partnership_id == partnership_id, CoffeeRound.round_key == key
                )
            ).first()
            is not None
        )


def _corrected_since(engine: Engine, partnership_id: int, person_id: int, at: datetime) -> bool:
    """Whether the member had a course correction within the four weeks before `at`."""
    with transaction(engine) as session:
        return (
            session.execute(
                select(CoffeeRound.id).where(
                    CoffeeRound.partnership_id == partnership_id,
                    CoffeeRound.kind == CORRECTION,
                    CoffeeRound.round_key.like(f"{CORRECTION}:{person_id}:%"),
                    CoffeeRound.scheduled_for > at - CORRECTION_WINDOW,
                )
            ).first()
            is not None
        )


def _history(session, partnership_id: int) -> dict[frozenset, int]:
    """How often each two people of the partnership have been paired before."""
    counts: dict[frozenset, int] = {}
    rows = session.execute(
        select(CoffeePairing.member_ids)
        .join(CoffeeRound, CoffeeRound.id == CoffeePairing.round_id)
        .where(CoffeeRound.partnership_id == partnership_id)
    ).scalars()
    for member_ids in rows:
        ids = [int(i) for i in member_ids.split(",") if i]
        for n, a in enumerate(ids):
            for b in ids[n + 1 :]:
                pair = frozenset({a, b})
                counts[pair] = counts.get(pair, 0) + 1
    return counts


def say_do_by_member(
    engine: Engine, *, partnership_id: int, start: datetime, now: datetime
) -> dict[int, Tally]:
    """Each owner's kept/late/missed over judged due dates in [start, now): the reports' one
    query (`bot.reports.figures.tallies`), by person id."""
    counts = reports.tallies(
        engine, partnership_id=partnership_id, bounds=(start, now), now=now, by_person=True
    )
    return {
        owner.person_id: Tally(weeks[0].kept, weeks[0].late, weeks[0].missed)
        for owner, weeks in counts.series.items()
    }


# --- reading and answering ----------------------------------------------------------------


def get_pairing(engine: Engine, *, pairing_id: int) -> PairingView:
    with transaction(engine) as session:
        return _pairing_view(session, pairing_id)


def _pairing_view(session, pairing_id: int) -> PairingView:
    row = session.get(CoffeePairing, pairing_id)
    if row is None:
        raise Refusal("I can't find that coffee pairing any more.")
    round_ = session.get(CoffeeRound, row.round_id)
    partnership = session.get(Partnership, round_.partnership_id)
    ids = [int(i) for i in row.member_ids.split(",") if i]
    people = {p.id: p for p in session.execute(select(Person).where(Person.id.in_(ids))).scalars()}
    orgs = dict(
        session.execute(
            select(Member.person_id, Member.organisation).where(
                Member.partnership_id == partnership.id, Member.person_id.in_(ids)
            )
        ).all()
    )
    pals = tuple(
        Pal(_person(people[i]), orgs.get(i) or people[i].team_id) for i in ids if i in people
    )
    return PairingView(
        id=row.id,
        round_key=round_.round_key,
        kind=round_.kind,
        scheduled_for=round_.scheduled_for,
        partnership=_ref(partnership),
        pals=pals,
        conversation_id=row.conversation_id,
        outcome=Answer(row.outcome) if row.outcome else None,
        answered_by_id=row.answered_by_id,
        answered_at=row.answered_at,
    )


def record_answer(
    engine: Engine, *, pairing_id: int, person_id: int, answer: Answer, now: datetime
) -> PairingView:
    """We met / Not yet / Skip this round, for this pairing only, by one of its people."""
    with transaction(engine) as session:
        view = _pairing_view(session, pairing_id)
        if person_id not in {p.person.id for p in view.pals}:
            raise Refusal("Only the people introduced in this check-in can answer it.")
        session.execute(
            update(CoffeePairing)
            .where(CoffeePairing.id == pairing_id)
            .values(outcome=answer.value, answered_by_id=person_id, answered_at=now)
        )
        return _pairing_view(session, pairing_id)


def conversation_recorder(engine: Engine, pairing_id: int):
    """What to do once an intro is sent: keep the group DM's id for the follow-up."""

    def record(conversation_id: str) -> None:
        with transaction(engine) as session:
            session.execute(
                update(CoffeePairing)
                .where(CoffeePairing.id == pairing_id, CoffeePairing.conversation_id.is_(None))
                .values(conversation_id=conversation_id)
            )

    return record


def starters(engine: Engine, *, partnership_id: int, now: datetime) -> Starters:
    """The charter's purpose and the latest delivery in the partnership (last 30 days)."""
    purpose = current_charter(engine, partnership_id=partnership_id).purpose.strip()
    with transaction(engine) as session:
        found = session.execute(
            select(Person.name, Commitment.title)
            .join(Person, Person.id == Commitment.owner_id)
            .where(
                Commitment.partnership_id == partnership_id,
                Commitment.status == Status.DELIVERED.value,
                Commitment.delivered_at > now - RECENT_DELIVERY,
                Commitment.delivered_at <= now,
            )
            .order_by(Commitment.delivered_at.desc(), Commitment.id.desc())
            .limit(1)
        ).first()
    return Starters(purpose=purpose, delivered=(found[0], found[1]) if found else None)


def my_coffee(
    engine: Engine, *, person_id: int, now: datetime, channel_id: str | None = None
) -> list[MyCoffee]:
    """My coffee in each partnership I belong to (or only the one in `channel_id`)."""
    query = (
        select(Member, Partnership)
        .join(Partnership, Partnership.id == Member.partnership_id)
        .where(Member.person_id == person_id, Member.active.is_(True))
        .order_by(Partnership.name, Partnership.id)
    )
    if channel_id is not None:
        query = query.where(Partnership.channel_id == channel_id)
    with transaction(engine) as session:
        rows = session.execute(query).all()
    # Charters first: a nested transaction would wait on SQLite's write lock.
    charters = {p.id: current_charter(engine, partnership_id=p.id).settings for _, p in rows}
    result = []
    with transaction(engine) as session:
        for member, partnership in rows:
            settings = charters[partnership.id]
            pairing_id = session.execute(
                select(CoffeePairing.id, CoffeePairing.member_ids)
                .join(CoffeeRound, CoffeeRound.id == CoffeePairing.round_id)
                .where(
                    CoffeeRound.partnership_id == partnership.id,
                    CoffeeRound.kind == REGULAR,
                    CoffeeRound.scheduled_for > now - FOLLOW_UP_AFTER * 2,
                    CoffeeRound.scheduled_for <= now,
                )
                .order_by(CoffeeRound.scheduled_for.desc())
            ).all()
            mine = next((i for i, ids in pairing_id if str(person_id) in ids.split(",")), None)
            result.append(
                MyCoffee(
                    partnership=_ref(partnership),
                    pairing=_pairing_view(session, mine) if mine else None,
                    next_round=next_round(
                        settings, partnership.tz, began_at=partnership.created_at, now=now
                    ),
                    opted_out=member.coffee_opt_out,
                    paused_until=(
                        member.coffee_paused_until
                        if member.coffee_paused_until and member.coffee_paused_until > now
                        else None
                    ),
                )
            )
    return result


def memberships(engine: Engine, *, person_id: int, channel_id: str | None = None) -> list[int]:
    """The partnerships (ids) I am an active member of, or only the one in `channel_id`."""
    query = (
        select(Member.partnership_id)
        .join(Partnership, Partnership.id == Member.partnership_id)
        .where(Member.person_id == person_id, Member.active.is_(True))
    )
    if channel_id is not None:
        query = query.where(Partnership.channel_id == channel_id)
    with transaction(engine) as session:
        return list(session.execute(query).scalars())


def correction_subject(pairing: PairingView) -> int:
    """The member a correction round is for (`correction:<person_id>:<week>`)."""
    return int(pairing.round_key.split(":")[1])


# --- small helpers ------------------------------------------------------------------------


def _ref(p: Partnership) -> PartnershipRef:
    return PartnershipRef(p.id, p.team_id, p.channel_id, p.name, p.tz)


def _person(p: Person) -> PersonRef:
    return PersonRef(p.id, p.team_id, p.user_id, p.name, p.tz, p.locale, p.away_until)


def local_date(at: datetime, tz: str) -> date:
    return at.astimezone(ZoneInfo(tz)).date()


__all__ = ["UTC"]
