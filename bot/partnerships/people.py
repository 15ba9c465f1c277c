"""People's time zones and locales, from Slack's `users.info`, cached with an expiry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from bot.commitments.service import PersonRef, find_person, save_person

PROFILE_TTL = timedelta(hours=24)
DEFAULT_TZ = "Europe/London"


@dataclass(frozen=True)
class Profile:
    """What Saydo keeps of a Slack user; `team_id` is their own workspace."""

    team_id: str
    user_id: str
    name: str
    tz: str
    locale: str | None
    is_bot: bool = False


class UnknownPerson(LookupError):
    """Slack does not know this user (or they are a bot, or deactivated)."""


ProfileFetcher = Callable[[str], Profile]


def person_for(engine: Engine, *, user_id: str, now: datetime, fetch: ProfileFetcher) -> PersonRef:
    """The person, from the cache if fetched within `PROFILE_TTL`, else fetched and saved."""
    cached = find_person(engine, user_id=user_id, fresh_since=now - PROFILE_TTL)
    if cached is not None:
        return cached
    profile = fetch(user_id)
    return save_person(
        engine,
        team_id=profile.team_id,
        user_id=profile.user_id,
        name=profile.name,
        tz=profile.tz,
        locale=profile.locale,
        now=now,
    )


def profile_from_users_info(user: dict) -> Profile:
    """Map a `users.info` user object to a Profile; refuse bots and deactivated users."""
    if user.get("is_bot") or user.get("deleted"):
        raise UnknownPerson(user.get("id", "?"))
    profile = user.get("profile") or {}
    name = (
        profile.get("display_name")
        or profile.get("real_name")
        or user.get("real_name")
        or user.get("name")
        or user["id"]
    )
    return Profile(
        team_id=user.get("team_id") or profile.get("team") or "",
        user_id=user["id"],
        name=name,
        tz=user.get("tz") or DEFAULT_TZ,
        locale=user.get("locale"),
    )
