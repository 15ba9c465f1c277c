"""The Relationship Charter: each partnership's versioned settings, agreed in the open.

A partnership has the defaults below until its first charter version is adopted; every
adopted version is kept (`charter_version`), and the current one is the highest version.

- `/saydo setup` is the founding act: it adopts a version agreed by the person who submits it.
- After that, anyone proposes a change (`charter_proposal`); it is adopted once at least one
  member of every organisation taking part has agreed (`charter_agreement`), or when an admin
  adopts it. A proposal based on an older version than the current one is superseded.
- Adopting a version that changes working days, hours, nudge times or holiday calendars replans
  the partnership's open commitments in the same transaction; nudges already sent are not
  planned again.

No Slack here: handlers pass plain values in and send messages after the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.relativedelta import relativedelta
from sqlalchemy import Engine, func, select, update

from bot.commitments.lifecycle import Status
from bot.commitments.nudge_planning import replan
from bot.commitments.service import PersonRef
from bot.policy.charter_settings import (
    BY_ORGANISATION,
    BY_PERSON,
    CharterSettings,
    check_currency,
)
from bot.refusal import Refusal
from storage.db import transaction
from storage.models import (
    CharterAgreement,
    CharterProposal,
    CharterVersion,
    Commitment,
    CommitmentEvent,
    Member,
    Partnership,
    Person,
)

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_TEXT = 3000  # purpose, behaviours, escalation: one Slack section each
MAX_NAME = 80
OPEN, ADOPTED, SUPERSEDED, WITHDRAWN = "open", "adopted", "superseded", "withdrawn"


@dataclass(frozen=True)
class Charter:
    version: int  # 0: the defaults, nothing adopted yet
    purpose: str
    behaviours: str
    escalation: str
    settings: CharterSettings
    agreed_by: str
    adopted_at: datetime | None = None
    change_summary: str = ""

    @property
    def draft(self) -> Draft:
        return Draft(self.purpose, self.behaviours, self.escalation, self.settings)


@dataclass(frozen=True)
class Draft:
    """A charter's content, as proposed or adopted."""

    purpose: str
    behaviours: str
    escalation: str
    settings: CharterSettings


DEFAULT_CHARTER = Charter(0, "", "", "", CharterSettings(), "")


@dataclass(frozen=True)
class Agreement:
    name: str
    organisation: str
    at: datetime


@dataclass(frozen=True)
class ProposalView:
    id: int
    partnership_id: int
    channel_id: str | None
    message_ts: str | None
    base_version: int
    proposed_by: str
    draft: Draft
    changes: tuple[str, ...]  # against the version it was based on
    state: str
    agreements: tuple[Agreement, ...]
    organisations: tuple[str, ...]  # the organisations taking part (whose agreement counts)
    adopted_version: int | None
    created_at: datetime

    @property
    def waiting_for(self) -> tuple[str, ...]:
        agreed = {a.organisation.casefold() for a in self.agreements}
        return tuple(o for o in self.organisations if o.casefold() not in agreed)


@dataclass(frozen=True)
class Outcome:
    """What a proposal, an agreement or an adoption led to."""

    proposal: ProposalView
    adopted: Charter | None = None
    superseded: tuple[ProposalView, ...] = ()  # other proposals this adoption overtook
    already_agreed: bool = False


# --- reading --------------------------------------------------------------------------------


def current_charter(engine: Engine, *, partnership_id: int) -> Charter:
    """The partnership's adopted charter with the highest version, or the defaults."""
    with transaction(engine) as session:
        return _current(session, partnership_id)


def history(engine: Engine, *, partnership_id: int) -> list[Charter]:
    """Every adopted version, newest first."""
    with transaction(engine) as session:
        rows = session.execute(
            select(CharterVersion)
            .where(CharterVersion.partnership_id == partnership_id)
            .order_by(CharterVersion.version.desc())
        ).scalars()
        return [_charter(row) for row in rows]


def get_proposal(engine: Engine, *, proposal_id: int) -> ProposalView:
    with transaction(engine) as session:
        row = session.get(CharterProposal, proposal_id)
        if row is None:
            raise Refusal("I can't find that charter proposal any more.")
        return _proposal_view(session, row, _organisations(session, row.partnership_id))


def _current(session, partnership_id: int) -> Charter:
    row = session.execute(
        select(CharterVersion)
        .where(CharterVersion.partnership_id == partnership_id)
        .order_by(CharterVersion.version.desc())
        .limit(1)
    ).scalar_one_or_none()
    return DEFAULT_CHARTER if row is None else _charter(row)


def _charter(row: CharterVersion) -> Charter:
    return Charter(
        row.version,
        row.purpose,
        row.behaviours,
        row.escalation,
        CharterSettings.from_json(row.settings),
        row.agreed_by,
        row.adopted_at,
        row.change_summary,
    )


# --- what changed, in words -----------------------------------------------------------------


def _clock(t: time) -> str:
    return f"{t:%H:%M}"


def _days(days: Sequence[int]) -> str:
    names = [WEEKDAYS[d] for d in sorted(days)]
    if list(sorted(days)) == [0, 1, 2, 3, 4]:
        return "Monday to Friday"
    return ", ".join(names) if names else "none"


def _calendars(calendars: dict[str, str]) -> str:
    if not calendars:
        return "none"
    return "; ".join(f"{org}: {country}" for org, country in sorted(calendars.items()))


def describe_settings(settings: CharterSettings) -> list[tuple[str, str]]:
    """Each setting as (label, value), in the words a partner would use."""
    every = settings.coffee_cadence_weeks
    first = settings.first_review_date
    return [
        (
            "Coffee",
            f"every {every} week{'s' if every != 1 else ''}, "
            f"{WEEKDAYS[settings.coffee_weekday]} at {_clock(settings.coffee_time)}",
        ),
        (
            "First review",
            first.strftime("%a %-d %b %Y")
            if first
            else f"{settings.review_cadence_months} months after the partnership began",
        ),
        ("Reviews", f"every {settings.review_cadence_months} months"),
        (
            "Weekly summary",
            f"{WEEKDAYS[settings.summary_weekday]} at {_clock(settings.summary_time)}",
        ),
        ("Kept-rate target", f"{round(settings.kept_target * 100)}%"),
        (
            "Summary shows",
            "each person and organisation"
            if settings.summary_visibility == BY_PERSON
            else "organisations only",
        ),
        ("Working days", _days(settings.working_days)),
        ("Working hours", f"{_clock(settings.day_start)} to {_clock(settings.day_end)}"),
        ("Public holidays", _calendars(settings.holiday_calendars)),
        ("Course-correction coffee", "on" if settings.course_correction else "off"),
        ("Objective and budget tolerance", f"{settings.objective_tolerance_percent}%"),
        ("Currency", settings.currency),
    ]


_TEXTS = (
    ("purpose", "Purpose and shared objectives"),
    ("behaviours", "Behaviours"),
    ("escalation", "Escalation playbook"),
)


def describe_changes(old: Draft, new: Draft) -> list[str]:
    """What changed from `old` to `new`, one line per field, in human words."""
    changes = []
    for attr, label in _TEXTS:
        before, after = getattr(old, attr).strip(), getattr(new, attr).strip()
        if before != after:
            changes.append(
                f"{label} {'rewritten' if before and after else 'set' if after else 'cleared'}"
            )
    old_settings, new_settings = (
        dict(describe_settings(old.settings)),
        describe_settings(new.settings),
    )
    for label, value in new_settings:
        if old_settings.get(label) != value:
            changes.append(f"{label}: {old_settings.get(label)} → {value}")
    if new.settings.nudge_time != old.settings.nudge_time:
        changes.append(
            f"Nudge time: {_clock(old.settings.nudge_time)} → {_clock(new.settings.nudge_time)}"
        )
    return changes


# --- founding and changing the charter ------------------------------------------------------


def check_draft(draft: Draft) -> Draft:
    """The draft with text tidied, or a Refusal naming the first problem."""
    s = draft.settings
    if s.day_start < s.day_end and not s.day_start <= s.nudge_time < s.day_end:
        s = replace(s, nudge_time=s.day_start)  # nudges start with the working day
    problems = []
    if not 1 <= s.coffee_cadence_weeks <= 8:
        problems.append("Coffee rounds can be every 1 to 8 weeks.")
    if not 1 <= s.review_cadence_months <= 12:
        problems.append("Reviews can be every 1 to 12 months.")
    if not 0 < s.kept_target <= 1:
        problems.append("The kept-rate target is a percentage from 1 to 100.")
    if not 0 <= s.objective_tolerance_percent <= 100:
        problems.append("The objective and budget tolerance is a percentage from 0 to 100.")
    try:
        s = replace(s, currency=check_currency(s.currency))
    except ValueError as error:
        problems.append(str(error))
    if s.summary_visibility not in (BY_ORGANISATION, BY_PERSON):
        problems.append("The summary shows organisations only, or each person too.")
    try:
        s.nudge_policy()
    except ValueError:
        problems.append(
            "Working days need at least one day, and the working day must start before it ends."
        )
    for attr, label in _TEXTS:
        if len(getattr(draft, attr)) > MAX_TEXT:
            problems.append(f"{label}: please keep it under {MAX_TEXT} characters.")
    if problems:
        raise Refusal(" ".join(problems))
    return Draft(draft.purpose.strip(), draft.behaviours.strip(), draft.escalation.strip(), s)


def setup(
    engine: Engine,
    *,
    partnership_id: int,
    actor: PersonRef,
    agreed_by: str,
    name: str,
    tz: str,
    draft: Draft,
    now: datetime,
) -> Charter:
    """The founding act: rename the partnership, set its time zone, and adopt `draft` as the
    next version, agreed by `agreed_by` (the person submitting setup, who the caller has made
    an admin). Open proposals based on older versions are superseded."""
    draft = check_draft(draft)
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise Refusal(f"The partnership needs a name of up to {MAX_NAME} characters.")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise Refusal(f"I don't know the time zone `{tz}`.") from None
    with transaction(engine) as session:
        session.execute(
            update(Partnership).where(Partnership.id == partnership_id).values(name=name, tz=tz)
        )
        adopted, _ = _adopt(
            session, partnership_id, draft, agreed_by=agreed_by, now=now, founding=True
        )
        return adopted


def propose(
    engine: Engine,
    *,
    partnership_id: int,
    proposer: PersonRef,
    organisation: str,
    base_version: int,
    draft: Draft,
    organisations: Sequence[str],
    now: datetime,
) -> Outcome:
    """Propose a change to the charter; proposing counts as the proposer's agreement.

    `organisations` are those taking part (from the members table); the proposal is adopted
    at once only if the proposer's is the only one."""
    draft = check_draft(draft)
    with transaction(engine) as session:
        current = _current(session, partnership_id)
        if current.version == 0:
            raise Refusal("This channel has no charter yet: start with `/saydo setup`.")
        if base_version != current.version:
            raise Refusal(
                f"The charter changed to version {current.version} while you were editing. "
                "Please open `/saydo charter` and propose your change again."
            )
        if not describe_changes(current.draft, draft):
            raise Refusal("That is the charter as it stands: change something to propose it.")
        row = CharterProposal(
            partnership_id=partnership_id,
            base_version=current.version,
            proposed_by_id=proposer.id,
            purpose=draft.purpose,
            behaviours=draft.behaviours,
            escalation=draft.escalation,
            settings=draft.settings.to_json(),
            state=OPEN,
            created_at=now,
        )
        session.add(row)
        session.flush()
        session.add(
            CharterAgreement(
                proposal_id=row.id, person_id=proposer.id, organisation=organisation, agreed_at=now
            )
        )
        session.flush()
        return _maybe_adopt(session, row, organisations, now=now)


def agree(
    engine: Engine,
    *,
    proposal_id: int,
    person: PersonRef,
    organisation: str,
    organisations: Sequence[str],
    now: datetime,
) -> Outcome:
    """Record a member's agreement; adopt the proposal once every organisation has agreed."""
    with transaction(engine) as session:
        row = _open_proposal(session, proposal_id)
        if _is_stale(session, row, now):
            return Outcome(_proposal_view(session, row, organisations))
        already = session.execute(
            select(CharterAgreement).where(
                CharterAgreement.proposal_id == row.id, CharterAgreement.person_id == person.id
            )
        ).scalar_one_or_none()
        if already is None:
            session.add(
                CharterAgreement(
                    proposal_id=row.id,
                    person_id=person.id,
                    organisation=organisation,
                    agreed_at=now,
                )
            )
            session.flush()
        outcome = _maybe_adopt(session, row, organisations, now=now)
        return replace(outcome, already_agreed=already is not None)


def adopt(
    engine: Engine,
    *,
    proposal_id: int,
    actor: PersonRef,
    organisation: str,
    organisations: Sequence[str],
    now: datetime,
) -> Outcome:
    """An admin adopts the proposal without waiting for every organisation; the admin's own
    agreement is recorded too."""
    with transaction(engine) as session:
        row = _open_proposal(session, proposal_id)
        admin = session.execute(
            select(Member.id).where(
                Member.partnership_id == row.partnership_id,
                Member.person_id == actor.id,
                Member.is_admin.is_(True),
                Member.active.is_(True),
            )
        ).first()
        if admin is None:
            raise Refusal("Only an admin can adopt a change without waiting.")
        if _is_stale(session, row, now):
            return Outcome(_proposal_view(session, row, organisations))
        exists = session.execute(
            select(CharterAgreement.id).where(
                CharterAgreement.proposal_id == row.id, CharterAgreement.person_id == actor.id
            )
        ).first()
        if exists is None:
            session.add(
                CharterAgreement(
                    proposal_id=row.id, person_id=actor.id, organisation=organisation, agreed_at=now
                )
            )
            session.flush()
        return _adopt_proposal(
            session, row, organisations, now=now, note=f"adopted by {actor.name} (admin)"
        )


def record_message(engine: Engine, *, proposal_id: int, channel_id: str, message_ts: str) -> None:
    """Remember where the proposal was posted, so it can be updated as people agree."""
    with transaction(engine) as session:
        session.execute(
            update(CharterProposal)
            .where(CharterProposal.id == proposal_id)
            .values(channel_id=channel_id, message_ts=message_ts)
        )


def _open_proposal(session, proposal_id: int) -> CharterProposal:
    query = select(CharterProposal).where(CharterProposal.id == proposal_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    row = session.execute(query).scalar_one_or_none()
    if row is None:
        raise Refusal("I can't find that charter proposal any more.")
    if row.state == ADOPTED:
        raise Refusal("That proposal has already been adopted.")
    if row.state == WITHDRAWN:
        raise Refusal("That proposal was withdrawn.")
    return row


def _is_stale(session, row: CharterProposal, now: datetime) -> bool:
    """Supersede a proposal based on an older version than the current one."""
    if row.state == SUPERSEDED:
        return True
    if row.base_version < _current(session, row.partnership_id).version:
        row.state, row.decided_at = SUPERSEDED, now
        session.flush()
        return True
    return False


def _maybe_adopt(
    session, row: CharterProposal, organisations: Sequence[str], *, now: datetime
) -> Outcome:
    view = _proposal_view(session, row, organisations)
    if view.waiting_for:
        return Outcome(view)
    return _adopt_proposal(session, row, organisations, now=now)


def _adopt_proposal(
    session, row: CharterProposal, organisations: Sequence[str], *, now: datetime, note: str = ""
) -> Outcome:
    agreed = _agreements(session, row.id)
    agreed_by = ", ".join(f"{a.name} ({a.organisation})" for a in agreed)
    if note:
        agreed_by = f"{agreed_by}; {note}" if agreed_by else note
    adopted, superseded = _adopt(
        session, row.partnership_id, _draft(row), agreed_by=agreed_by, now=now, exclude=row.id
    )
    row.state, row.decided_at = ADOPTED, now
    session.flush()
    views = tuple(_proposal_view(session, p, organisations) for p in superseded)
    return Outcome(_proposal_view(session, row, organisations), adopted, views)


def _adopt(
    session,
    partnership_id: int,
    draft: Draft,
    *,
    agreed_by: str,
    now: datetime,
    founding: bool = False,
    exclude: int | None = None,
):
    """Insert the next version; replan nudges if their policy changed; supersede older
    proposals. Returns (the new charter, the superseded proposal rows)."""
    current = _current(session, partnership_id)
    changes = describe_changes(current.draft, draft)
    if founding:
        lead = "Founding charter, adopted at setup" if current.version == 0 else "Set up again"
        summary = "\n".join([lead, *changes])
    else:
        summary = "\n".join(changes) or "No changes"
    row = CharterVersion(
        partnership_id=partnership_id,
        version=current.version + 1,
        purpose=draft.purpose,
        behaviours=draft.behaviours,
        escalation=draft.escalation,
        settings=draft.settings.to_json(),
        change_summary=summary,
        agreed_by=agreed_by,
        adopted_at=now,
    )
    session.add(row)
    session.flush()
    if _policy_changed(current.settings, draft.settings):
        _replan_partnership(session, partnership_id, version=row.version, now=now)
    stale = list(
        session.execute(
            select(CharterProposal).where(
                CharterProposal.partnership_id == partnership_id,
                CharterProposal.state == OPEN,
                CharterProposal.base_version < row.version,
                CharterProposal.id != (exclude or 0),
            )
        ).scalars()
    )
    for proposal in stale:
        proposal.state, proposal.decided_at = SUPERSEDED, now
    session.flush()
    return _charter(row), stale


_POLICY_FIELDS = (
    "working_days",
    "day_start",
    "day_end",
    "nudge_time",
    "overdue_working_days",
    "max_overdue",
    "holiday_calendars",
)


def _policy_changed(old: CharterSettings, new: CharterSettings) -> bool:
    return any(getattr(old, f) != getattr(new, f) for f in _POLICY_FIELDS)


def _replan_partnership(session, partnership_id: int, *, version: int, now: datetime) -> None:
    """Replan every open commitment's nudges under the new charter, in this transaction."""
    rows = session.execute(
        select(Commitment).where(
            Commitment.partnership_id == partnership_id, Commitment.status == Status.OPEN.value
        )
    ).scalars()
    for row in rows:
        events = session.execute(
            select(func.count())
            .select_from(CommitmentEvent)
            .where(CommitmentEvent.commitment_id == row.id)
        ).scalar_one()
        replan(session, row, generation=f"{events}c{version}", now=now, keep_sent=True)


def _draft(row: CharterProposal) -> Draft:
    return Draft(
        row.purpose, row.behaviours, row.escalation, CharterSettings.from_json(row.settings)
    )


def _agreements(session, proposal_id: int) -> list[Agreement]:
    rows = session.execute(
        select(CharterAgreement, Person.name)
        .join(Person, Person.id == CharterAgreement.person_id)
        .where(CharterAgreement.proposal_id == proposal_id)
        .order_by(CharterAgreement.agreed_at, CharterAgreement.id)
    ).all()
    return [Agreement(name, a.organisation, a.agreed_at) for a, name in rows]


def _organisations(session, partnership_id: int) -> list[str]:
    """The organisations of the partnership's active members (for re-rendering a proposal)."""
    return list(
        session.execute(
            select(Member.organisation)
            .where(Member.partnership_id == partnership_id, Member.active.is_(True))
            .distinct()
            .order_by(Member.organisation)
        ).scalars()
    )


def _proposal_view(session, row: CharterProposal, organisations: Sequence[str]) -> ProposalView:
    base = session.execute(
        select(CharterVersion).where(
            CharterVersion.partnership_id == row.partnership_id,
            CharterVersion.version == row.base_version,
        )
    ).scalar_one_or_none()
    base_draft = _charter(base).draft if base else DEFAULT_CHARTER.draft
    draft = _draft(row)
    # Only a proposal based on the current version is adopted, as the next version.
    adopted_version = row.base_version + 1 if row.state == ADOPTED else None
    proposer = session.get(Person, row.proposed_by_id)
    agreements = _agreements(session, row.id)
    orgs = list(dict.fromkeys(organisations))
    for agreement in agreements:  # an organisation that agreed is taking part
        if agreement.organisation.casefold() not in {o.casefold() for o in orgs}:
            orgs.append(agreement.organisation)
    return ProposalView(
        id=row.id,
        partnership_id=row.partnership_id,
        channel_id=row.channel_id,
        message_ts=row.message_ts,
        base_version=row.base_version,
        proposed_by=proposer.name if proposer else "someone",
        draft=draft,
        changes=tuple(describe_changes(base_draft, draft)),
        state=row.state,
        agreements=tuple(agreements),
        organisations=tuple(orgs),
        adopted_version=adopted_version,
        created_at=row.created_at,
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
