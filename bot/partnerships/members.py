"""Partnership members: who is in the channel, their organisation, and who is an admin.

No Slack here: what Slack knows (who is in a channel, what a workspace is called, a user's
profile) comes in through a `Directory` (`bot.slack_client.SlackDirectory` in production).
Members come and go with the channel (`member_joined_channel`, `member_left_channel`, a periodic
refresh); a member who leaves is kept, inactive, so their history and organisation survive a
return. A member's organisation defaults to their Slack workspace's name and is set only on
first insert; after that only an admin changes it (`set_organisation`).

Between Slack Connect partners, each Slack workspace governs its own people: admins are made,
and organisations changed, only by admins from the same workspace as the person concerned
(while a workspace has no admin in the partnership, any of its members may make the first).
The workspace is Slack's, so nobody can claim another organisation's people by renaming.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from types import EllipsisType
from typing import Protocol

from sqlalchemy import Engine, case, func, select, update

from bot.commitments.service import PartnershipRef, PersonRef, partnership_ref, person_ref
from bot.partnerships.people import Profile, UnknownPerson, person_for
from bot.policy.visibility import member_partnerships, sees_partnership
from bot.refusal import Refusal
from storage.db import transaction, upsert_insert
from storage.models import Commitment, Member, Partnership, Person

logger = logging.getLogger(__name__)

MAX_ORGANISATION = 100


class DirectoryUnavailable(Exception):
    """Slack could not answer (the message says why); nothing was changed."""


class Directory(Protocol):
    """What Slack knows about people and channels, as plain values."""

    def channel_members(self, channel_id: str) -> list[str]:
        """The user ids in the channel (all pages); DirectoryUnavailable if Slack won't say."""
        ...

    def team_name(self, team_id: str) -> str:
        """The workspace's name; its id when Slack won't say."""
        ...

    def profile(self, user_id: str) -> Profile:
        """The user's profile; UnknownPerson for bots, deactivated and unknown users."""
        ...


@dataclass(frozen=True)
class Refreshed:
    partnership: PartnershipRef
    active: int
    deactivated: int


@dataclass(frozen=True)
class MemberView:
    person: PersonRef
    organisation: str
    is_admin: bool
    active: bool
    coffee_opt_out: bool
    coffee_paused_until: datetime | None


# --- following the channel ------------------------------------------------------------------


def resolve(
    engine: Engine, directory: Directory, *, user_id: str, now: datetime
) -> PersonRef | None:
    """A human in Slack (cached profile, else the directory's); None for bots and deactivated
    users."""
    try:
        return person_for(engine, user_id=user_id, now=now, fetch=directory.profile)
    except UnknownPerson:
        return None


def join(
    engine: Engine,
    directory: Directory,
    *,
    partnership: PartnershipRef,
    person: PersonRef,
    now: datetime,
) -> MemberView:
    """Add (or reactivate) a member; a new one's organisation is their workspace's name."""
    return upsert_member(
        engine,
        partnership_id=partnership.id,
        person=person,
        organisation=directory.team_name(person.team_id),
        now=now,
    )


def admit_if_present(
    engine: Engine,
    directory: Directory,
    *,
    partnership: PartnershipRef,
    user_id: str,
    now: datetime,
) -> MemberView | None:
    """Add this person as a member if the channel has them (a join Saydo missed, or a channel
    it has only just met), so what they may see follows the channel at once; None if it
    doesn't have them."""
    if user_id not in directory.channel_members(partnership.channel_id):
        return None
    person = resolve(engine, directory, user_id=user_id, now=now)
    if person is None:
        return None
    return join(engine, directory, partnership=partnership, person=person, now=now)


def refresh_members(
    engine: Engine, directory: Directory, *, partnership: PartnershipRef, now: datetime
) -> Refreshed:
    """Bring the partnership's members in line with the channel: every human member is active,
    everyone else inactive. If Slack can't answer, the refresh stops before anyone is
    deactivated (DirectoryUnavailable)."""
    present: set[int] = set()
    for user_id in dict.fromkeys(directory.channel_members(partnership.channel_id)):
        person = resolve(engine, directory, user_id=user_id, now=now)
        if person is not None:
            join(engine, directory, partnership=partnership, person=person, now=now)
            present.add(person.id)
    gone = [
        m for m in list_members(engine, partnership_id=partnership.id) if m.person.id not in present
    ]
    for left in gone:
        deactivate_member(engine, partnership_id=partnership.id, person_id=left.person.id)
    return Refreshed(partnership, active=len(present), deactivated=len(gone))


def refresh_all_members(
    engine: Engine, directory_for: Callable[[str], Directory | None], *, now: datetime
) -> list[Refreshed]:
    """The periodic sweep: every partnership in turn, each channel read through the directory
    `directory_for` gives for it (in OAuth mode, an installation that is in the channel; None:
    none is, and its members wait); one failing channel doesn't stop it."""
    done: list[Refreshed] = []
    for partnership in all_partnerships(engine):
        directory = directory_for(partnership.channel_id)
        if directory is None:
            logger.info("No installation reaches %s; its members wait", partnership.channel_id)
            continue
        try:
            done.append(refresh_members(engine, directory, partnership=partnership, now=now))
        except DirectoryUnavailable as error:
            logger.warning("Could not refresh the members of %s: %s", partnership.channel_id, error)
    return done


# --- changes ------------------------------------------------------------------------------


def upsert_member(
    engine: Engine, *, partnership_id: int, person: PersonRef, organisation: str, now: datetime
) -> MemberView:
    """Insert an active member, or reactivate one who had left. The organisation is only set
    on insert, so an organisation an admin chose is never overwritten; a stand-in (their
    workspace's raw id, when Slack didn't name it) is replaced as soon as the name is known."""
    organisation = _clean_organisation(organisation) or person.team_id
    insert = upsert_insert(engine.dialect.name)
    statement = insert(Member).values(
        partnership_id=partnership_id,
        person_id=person.id,
        organisation=organisation[:MAX_ORGANISATION],
        is_admin=False,
        active=True,
        coffee_opt_out=False,
        joined_at=now,
    )
    statement = statement.on_conflict_do_update(
        index_elements=["partnership_id", "person_id"],
        set_={
            "active": True,
            "organisation": case(
                (Member.organisation == person.team_id, organisation[:MAX_ORGANISATION]),
                else_=Member.organisation,
            ),
        },
    ).returning(Member)
    with transaction(engine) as session:
        row = session.execute(statement).scalar_one()
        return _view(row, person)


def deactivate_member(engine: Engine, *, partnership_id: int, person_id: int) -> None:
    """They left the channel: kept, but no longer counted (a no-op for a stranger)."""
    with transaction(engine) as session:
        session.execute(
            update(Member)
            .where(Member.partnership_id == partnership_id, Member.person_id == person_id)
            .values(active=False)
        )


def make_admin(
    engine: Engine, *, partnership_id: int, actor_person_id: int, person_id: int
) -> MemberView:
    """Make an active member an admin. Only an admin from the member's own workspace may, except
    while that workspace has no active admin here (then any active member from it may: whoever
    runs setup, or the first to ask)."""
    with transaction(engine) as session:
        _lock_partnership(session, partnership_id)  # two first admins at once queue up
        row, person = _member_row(session, partnership_id, person_id)
        if row is None or not row.active:
            raise Refusal(_not_a_member(person))
        actor = _active_member(session, partnership_id, actor_person_id)
        if actor is None:
            raise Refusal("Only members of this partnership's channel can choose admins.")
        if actor[1].team_id != person.team_id:
            raise Refusal(
                f"{person.name} is from another organisation's Slack workspace: each "
                "organisation chooses its own admins, so please ask one of theirs."
            )
        admins = _admin_names(session, partnership_id, team_id=person.team_id)
        if admins and not actor[0].is_admin:
            raise Refusal(
                f"Only an admin from your organisation can add admins; ask {_either(admins)}."
            )
        row.is_admin = True
        session.flush()
        return _view(row, person)


def set_organisation(
    engine: Engine,
    *,
    partnership_id: int,
    actor_person_id: int,
    person_id: int,
    organisation: str,
) -> MemberView:
    """An admin sets which organisation a member belongs to (1 to 100 characters)."""
    cleaned = _clean_organisation(organisation)
    if not cleaned:
        raise Refusal("Please give the organisation's name, e.g. `Northshire NHS Trust`.")
    if len(cleaned) > MAX_ORGANISATION:
        raise Refusal(
            f"Please keep the organisation's name under {MAX_ORGANISATION} characters; "
            f"that one has {len(cleaned)}."
        )
    with transaction(engine) as session:
        row, person = _member_row(session, partnership_id, person_id)
        if row is None:
            raise Refusal(_not_a_member(person))
        actor = _active_member(session, partnership_id, actor_person_id)
        if actor is None or not actor[0].is_admin or actor[1].team_id != person.team_id:
            admins = _admin_names(session, partnership_id, team_id=person.team_id)
            ask = f"ask {_either(admins)}" if admins else "they can choose one with `/saydo admin`"
            raise Refusal(
                f"Only an admin from {person.name}'s own organisation can change their "
                f"organisation; {ask}."
            )
        row.organisation = cleaned
        session.flush()
        return _view(row, person)


def set_coffee(
    engine: Engine,
    *,
    partnership_id: int,
    person_id: int,
    opt_out: bool | None = None,
    paused_until: datetime | EllipsisType | None = ...,
) -> MemberView:
    """Coffee preferences: `opt_out` None leaves it; `paused_until` ... leaves it, None clears."""
    if isinstance(paused_until, datetime) and paused_until.tzinfo is None:
        raise ValueError("paused_until must be timezone-aware")
    with transaction(engine) as session:
        row, person = _member_row(session, partnership_id, person_id)
        if row is None:
            raise Refusal(_not_a_member(person))
        if opt_out is not None:
            row.coffee_opt_out = opt_out
        if paused_until is not ...:
            row.coffee_paused_until = paused_until
        session.flush()
        return _view(row, person)


# --- reading ------------------------------------------------------------------------------


def list_members(
    engine: Engine, *, partnership_id: int, active_only: bool = True
) -> list[MemberView]:
    """Members by name (one query)."""
    query = (
        select(Member, Person)
        .join(Person, Person.id == Member.person_id)
        .where(Member.partnership_id == partnership_id)
        .order_by(func.lower(Person.name), Person.id)
    )
    if active_only:
        query = query.where(Member.active.is_(True))
    with transaction(engine) as session:
        return [_view(m, person_ref(p)) for m, p in session.execute(query).all()]


def member(engine: Engine, *, partnership_id: int, person_id: int) -> MemberView | None:
    with transaction(engine) as session:
        row, person = _member_row(session, partnership_id, person_id)
        return _view(row, person) if row is not None else None


def organisations(engine: Engine, *, partnership_id: int) -> list[str]:
    """The distinct organisations of active members, sorted."""
    with transaction(engine) as session:
        names = session.execute(
            select(Member.organisation)
            .where(Member.partnership_id == partnership_id, Member.active.is_(True))
            .distinct()
        ).scalars()
        return sorted(names, key=lambda name: (name.casefold(), name))


def knows_member(engine: Engine, *, partnership_id: int, user_id: str) -> bool:
    """Whether this Slack user is an active member here (so may see its data)."""
    with transaction(engine) as session:
        return sees_partnership(session, partnership_id=partnership_id, user_id=user_id)


def is_admin(engine: Engine, *, partnership_id: int, person_id: int) -> bool:
    """An active member who is an admin."""
    with transaction(engine) as session:
        return _is_admin(session, partnership_id, person_id)


def admins(engine: Engine, *, partnership_id: int) -> list[MemberView]:
    return [m for m in list_members(engine, partnership_id=partnership_id) if m.is_admin]


def shared_channels(engine: Engine, user_id: str, commitment_id: int | None) -> list[str]:
    """The partnership channels this Slack user is a current member of, the one of
    `commitment_id`'s partnership first: where Saydo can tell them something privately (an
    ephemeral message) when it cannot send them a DM."""
    with transaction(engine) as session:
        first = session.get(Commitment, commitment_id) if commitment_id is not None else None
        rows = session.execute(
            select(Partnership.id, Partnership.channel_id)
            .where(Partnership.id.in_(member_partnerships(user_id)))
            .order_by(Partnership.id)
        ).all()
    home = first.partnership_id if first is not None else None
    return [channel for _id, channel in sorted(rows, key=lambda row: row[0] != home)]


def all_partnerships(engine: Engine) -> list[PartnershipRef]:
    """Every partnership, for the periodic member refresh."""
    with transaction(engine) as session:
        rows = session.execute(select(Partnership).order_by(Partnership.id)).scalars()
        return [PartnershipRef(p.id, p.team_id, p.channel_id, p.name, p.tz) for p in rows]


def find_partnership(engine: Engine, *, team_id: str, channel_id: str) -> PartnershipRef | None:
    """The channel's partnership if it already is one (never creates it)."""
    with transaction(engine) as session:
        p = session.execute(
            select(Partnership).where(
                Partnership.team_id == team_id, Partnership.channel_id == channel_id
            )
        ).scalar_one_or_none()
        return PartnershipRef(p.id, p.team_id, p.channel_id, p.name, p.tz) if p else None


# --- internals ----------------------------------------------------------------------------


def _clean_organisation(text: str) -> str:
    return " ".join((text or "").split())


def _is_admin(session, partnership_id: int, person_id: int) -> bool:
    return bool(
        session.execute(
            select(Member.id).where(
                Member.partnership_id == partnership_id,
                Member.person_id == person_id,
                Member.is_admin.is_(True),
                Member.active.is_(True),
            )
        ).first()
    )


def _admin_names(session, partnership_id: int, *, team_id: str) -> list[str]:
    """The active admins here from this Slack workspace."""
    return list(
        session.execute(
            select(Person.name)
            .join(Member, Member.person_id == Person.id)
            .where(
                Member.partnership_id == partnership_id,
                Member.is_admin.is_(True),
                Member.active.is_(True),
                Person.team_id == team_id,
            )
            .order_by(func.lower(Person.name))
        ).scalars()
    )


def _active_member(session, partnership_id: int, person_id: int) -> tuple[Member, Person] | None:
    """The person's active membership here, with their person row (None if not a member)."""
    return session.execute(
        select(Member, Person)
        .join(Person, Person.id == Member.person_id)
        .where(
            Member.partnership_id == partnership_id,
            Member.person_id == person_id,
            Member.active.is_(True),
        )
    ).one_or_none()


def _either(names: list[str]) -> str:
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " or " + names[-1]


def _lock_partnership(session, partnership_id: int) -> None:
    found = session.execute(
        select(Partnership.id).where(Partnership.id == partnership_id).with_for_update()
    ).first()
    if found is None:
        raise Refusal("I can't find that partnership any more.")


def _member_row(session, partnership_id: int, person_id: int) -> tuple[Member | None, PersonRef]:
    person = session.get(Person, person_id)
    if person is None:
        raise Refusal("I don't know that person yet.")
    row = session.execute(
        select(Member).where(Member.partnership_id == partnership_id, Member.person_id == person_id)
    ).scalar_one_or_none()
    return row, person_ref(person)


def _not_a_member(person: PersonRef) -> str:
    return (
        f"{person.name} isn't a member of this partnership's channel. "
        "Invite them to the channel first."
    )


def _view(row: Member, person: PersonRef) -> MemberView:
    return MemberView(
        person=person,
        organisation=row.organisation,
        is_admin=row.is_admin,
        active=row.active,
        coffee_opt_out=row.coffee_opt_out,
        coffee_paused_until=row.coffee_paused_until,
    )


def partnerships_of(engine: Engine, *, team_id: str, user_id: str) -> list[PartnershipRef]:
    """The workspace's partnerships this person is an active member of, by name."""
    with transaction(engine) as session:
        rows = session.execute(
            select(Partnership)
            .join(Member, Member.partnership_id == Partnership.id)
            .join(Person, Person.id == Member.person_id)
            .where(Partnership.team_id == team_id, Person.user_id == user_id, Member.active)
            .order_by(Partnership.name, Partnership.id)
        ).scalars()
        return [partnership_ref(p) for p in rows]
