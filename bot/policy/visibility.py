"""Who may see what: the one privacy rule every read path applies.

A person sees a partnership's commitments, coffee pairings, lessons, review records and figures
only while they are an active member of it (Saydo's member table follows the channel's
members). A commitment is also visible to its owner and its recipient wherever they are.
Everything else is as if it did not exist: no title, owner, date or count leaks out.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import Session

from storage.models import Commitment, Member, Person


def _people(user_id: str) -> Select:
    """The person rows of this Slack user (one per workspace Saydo met them in)."""
    return select(Person.id).where(Person.user_id == user_id)


def member_partnerships(user_id: str) -> Select:
    """Ids of the partnerships this Slack user is an active member of."""
    return select(Member.partnership_id).where(
        Member.person_id.in_(_people(user_id)), Member.active.is_(True)
    )


def sees_partnership(session: Session, *, partnership_id: int, user_id: str) -> bool:
    """Whether this Slack user may see the partnership's data (they are an active member)."""
    members = member_partnerships(user_id).where(Member.partnership_id == partnership_id)
    return bool(session.execute(select(members.exists())).scalar())


def commitment_visible_to(user_id: str) -> ColumnElement:
    """True for the commitments this Slack user may see: their partnerships', and their own
    (as owner or recipient)."""
    return or_(
        Commitment.partnership_id.in_(member_partnerships(user_id)),
        Commitment.owner_id.in_(_people(user_id)),
        Commitment.recipient_id.in_(_people(user_id)),
    )
