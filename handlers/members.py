"""Members of partnership channels: joins and leaves, the periodic refresh, `/saydo org` and
`/saydo admin`.

A member's organisation defaults to the name of their own Slack workspace (`team.info` for
their team id), so partners in a Slack Connect channel fall into their own organisation
without anyone setting it. Workspace names are cached for the life of the process.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from slack_bolt import App, BoltContext, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine

from bot.blocks import members as replies
from bot.commitments import (
    CommitmentError,
    PartnershipRef,
    PersonRef,
    ensure_partnership,
    rename_partnership,
)
from bot.commitments import find_person as _find_person
from bot.members import (
    MemberView,
    all_partnerships,
    deactivate_member,
    find_partnership,
    knows_member,
    list_members,
    make_admin,
    member,
    organisations,
    set_organisation,
    upsert_member,
)
from bot.outbox import Route, Router
from bot.people import UnknownPerson, person_for
from handlers import common
from handlers.saydo_command import subcommand

logger = logging.getLogger(__name__)

REFRESH_SECONDS = 6 * 60 * 60
_MENTION = re.compile(r"^<@(?P<user>[UW][A-Z0-9]+)(?:\|[^>]*)?>(?:\s+(?P<rest>.*))?$", re.DOTALL)
_LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)

_team_names: dict[str, str] = {}
_team_names_lock = threading.Lock()


@dataclass(frozen=True)
class Refreshed:
    partnership: PartnershipRef
    active: int
    deactivated: int


# --- organisations from Slack --------------------------------------------------------------


def team_name(client: WebClient, team_id: str) -> str:
    """The workspace's name (cached per process); its id when Slack won't say."""
    if not team_id:
        return "Unknown organisation"
    with _team_names_lock:
        if team_id in _team_names:
            return _team_names[team_id]
    try:
        name = (client.team_info(team=team_id).get("team") or {}).get("name") or ""
    except SlackApiError as error:
        logger.warning("team.info failed for %s: %s", team_id, error.response.get("error"))
        return team_id  # not cached: asked again next time
    name = " ".join(name.split()) or team_id
    with _team_names_lock:
        _team_names[team_id] = name
    return name


def _resolve(engine: Engine, client: WebClient, user_id: str) -> PersonRef | None:
    """A human in Slack (cached profile or `users.info`); None for bots and deactivated users."""
    try:
        fetch = common.fetcher(client)
        return person_for(engine, user_id=user_id, now=common.utcnow(), fetch=fetch)
    except UnknownPerson:
        return None


def join(
    engine: Engine, client: WebClient, partnership: PartnershipRef, person: PersonRef
) -> MemberView:
    return upsert_member(
        engine,
        partnership_id=partnership.id,
        person=person,
        organisation=team_name(client, person.team_id),
        now=common.utcnow(),
    )


def refresh_members(engine: Engine, client: WebClient, *, partnership: PartnershipRef) -> Refreshed:
    """Bring the partnership's members in line with the channel: every human member in
    `conversations.members` (all pages) is active, everyone else is inactive.

    A Slack error other than "no such user" stops the refresh before anyone is deactivated.
    """
    user_ids: list[str] = []
    cursor: str | None = None
    while True:
        response = client.conversations_members(
            channel=partnership.channel_id, cursor=cursor, limit=200
        )
        user_ids += response.get("members") or []
        cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            break
    present: set[int] = set()
    for user_id in dict.fromkeys(user_ids):
        person = _resolve(engine, client, user_id)
        if person is not None:
            join(engine, client, partnership, person)
            present.add(person.id)
    gone = [
        m for m in list_members(engine, partnership_id=partnership.id) if m.person.id not in present
    ]
    for left in gone:
        deactivate_member(engine, partnership_id=partnership.id, person_id=left.person.id)
    return Refreshed(partnership, active=len(present), deactivated=len(gone))


def refresh_all_members(
    engine: Engine, client: WebClient, *, router: Router | None = None
) -> list[Refreshed]:
    """The periodic sweep: every partnership in turn; one failing channel doesn't stop it.
    In OAuth mode (`router`) each channel is read through an installation that reaches it."""
    done: list[Refreshed] = []
    for partnership in all_partnerships(engine):
        route = router(partnership.channel_id) if router is not None else Route(None, client)
        if route is None:
            logger.info("No installation reaches %s; its members wait", partnership.channel_id)
            continue
        try:
            done.append(refresh_members(engine, route.client, partnership=partnership))
        except SlackApiError as error:
            logger.warning(
                "Could not refresh the members of %s: %s",
                partnership.channel_id,
                error.response.get("error"),
            )
    return done


def _partnership_for_channel(
    engine: Engine, client: WebClient, team_id: str, channel_id: str
) -> PartnershipRef:
    """The channel's partnership, created (named after the channel) if it isn't one yet."""
    existing = find_partnership(engine, team_id=team_id, channel_id=channel_id)
    if existing is not None:
        return existing
    name = _channel_name(client, channel_id)
    return ensure_partnership(engine, team_id=team_id, channel_id=channel_id, name=name)


def _channel_name(client: WebClient, channel_id: str) -> str | None:
    try:
        return (client.conversations_info(channel=channel_id).get("channel") or {}).get("name")
    except SlackApiError as error:
        logger.warning(
            "conversations.info failed for %s: %s", channel_id, error.response.get("error")
        )
        return None


def partnership_in(
    context: BoltContext, client: WebClient, channel_id: str, channel_name: str | None
) -> PartnershipRef:
    """The channel's partnership (see `common.partnership`). On its first use it is named
    after the channel (asking Slack when the request doesn't say, as a mention doesn't) and
    its members are read at once, so they belong before the six-hourly refresh."""
    if channel_id.startswith("D"):
        return common.partnership(context, channel_id)  # refuses, politely
    engine = common.engine_of(context)
    existing = find_partnership(engine, team_id=common.workspace_id(context), channel_id=channel_id)
    if existing is not None:
        return existing
    partnership = common.partnership(
        context, channel_id, channel_name or _channel_name(client, channel_id)
    )
    try:
        refresh_members(engine, client, partnership=partnership)
    except SlackApiError as error:
        logger.warning(
            "Could not read the members of %s: %s", channel_id, error.response.get("error")
        )
    return partnership


def admit_if_present(
    engine: Engine, client: WebClient, *, partnership: PartnershipRef, user_id: str
) -> None:
    """Add this person as a member if the channel has them (a join Saydo missed, or a channel
    it has only just met), so what they may see follows the channel at once."""
    cursor: str | None = None
    while True:
        response = client.conversations_members(
            channel=partnership.channel_id, cursor=cursor, limit=200
        )
        if user_id in (response.get("members") or []):
            person = _resolve(engine, client, user_id)
            if person is not None:
                join(engine, client, partnership, person)
            return
        cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            return


def members_follow_the_channel(
    body: dict, context: BoltContext, client: WebClient, next
) -> BoltResponse | None:
    """Middleware: before a command, shortcut or button from a partnership's channel by
    someone Saydo doesn't know as its member, check the channel (`admit_if_present`), first
    thing in the request's work, after the acknowledgement. Events are left to their own
    listeners (a leave must not re-add the leaver)."""
    channel_id, user_id = context.channel_id or "", context.user_id
    if body.get("type") != "event_callback" and user_id and channel_id[:1] in ("C", "G"):
        common.before_work(
            context, functools.partial(_admit_unknown, context, client, channel_id, user_id)
        )
    return next()


def _admit_unknown(context: BoltContext, client: WebClient, channel_id: str, user_id: str) -> None:
    engine = common.engine_of(context)
    partnership = find_partnership(
        engine, team_id=common.workspace_id(context), channel_id=channel_id
    )
    if partnership is None or knows_member(engine, partnership_id=partnership.id, user_id=user_id):
        return
    try:
        admit_if_present(engine, client, partnership=partnership, user_id=user_id)
    except SlackApiError as error:
        logger.warning(
            "Could not check the members of %s: %s", channel_id, error.response.get("error")
        )


# --- events --------------------------------------------------------------------------------


def handle_member_joined(event: dict, client: WebClient, context: BoltContext) -> None:
    engine, channel, user_id = common.engine_of(context), event["channel"], event["user"]
    try:
        partnership = _partnership_for_channel(
            engine, client, common.workspace_id(context), channel
        )
        if user_id == context.bot_user_id:  # Saydo was invited: learn who is already here
            refresh_members(engine, client, partnership=partnership)
            return
        person = _resolve(engine, client, user_id)
        if person is not None:  # bots and deactivated users are not members
            join(engine, client, partnership, person)
    except SlackApiError as error:
        logger.warning("Could not add %s to %s: %s", user_id, channel, error.response.get("error"))


def handle_member_left(event: dict, context: BoltContext) -> None:
    engine = common.engine_of(context)
    partnership = find_partnership(
        engine, team_id=common.workspace_id(context), channel_id=event["channel"]
    )
    person = _find_person(engine, user_id=event["user"], fresh_since=_LONG_AGO)
    if partnership is not None and person is not None:
        deactivate_member(engine, partnership_id=partnership.id, person_id=person.id)


def handle_channel_rename(event: dict, context: BoltContext) -> None:
    channel = event.get("channel") or {}
    if channel.get("id") and channel.get("name"):
        rename_partnership(
            common.engine_of(context),
            team_id=common.workspace_id(context),
            channel_id=channel["id"],
            name=channel["name"],
        )


# --- /saydo org and /saydo admin -----------------------------------------------------------


def _here(context: BoltContext, command: dict) -> PartnershipRef:
    if command["channel_id"].startswith("D"):
        raise CommitmentError(
            "Members and admins belong to a partnership channel: use this in the channel."
        )
    return common.partnership(context, command["channel_id"], command.get("channel_name"))


def _mentioned(text: str, usage: str) -> tuple[str, str]:
    match = _MENTION.match(text.strip())
    if not match:
        raise CommitmentError(
            f"I couldn't tell who that is: pick them from Slack's @-menu. {usage}"
        )
    return match["user"], (match["rest"] or "").strip()


def _member_here(
    context: BoltContext, client: WebClient, partnership: PartnershipRef, person: PersonRef
) -> MemberView | None:
    """Their membership; when unknown, the channel's members are refreshed once first (Saydo
    may have been installed after they joined)."""
    engine = common.engine_of(context)
    found = member(engine, partnership_id=partnership.id, person_id=person.id)
    if found is None or not found.active:
        try:
            refresh_members(engine, client, partnership=partnership)
        except SlackApiError as error:
            logger.warning("Member refresh failed: %s", error.response.get("error"))
        found = member(engine, partnership_id=partnership.id, person_id=person.id)
    return found


@subcommand("org")
def _org(context: BoltContext, client: WebClient, command: dict, text: str) -> dict:
    """`org` lists organisations; `org @someone` says theirs; `org @someone Name` sets it."""
    engine = common.engine_of(context)
    partnership = _here(context, command)
    if not text.strip():
        return replies.organisations_here(organisations(engine, partnership_id=partnership.id))
    user_id, organisation = _mentioned(text, replies.ORG_USAGE)
    organisation = organisation.strip().strip("\"'“”‘’").strip()
    target = common.person(context, client, user_id)
    actor = common.person(context, client, command["user_id"])
    found = _member_here(context, client, partnership, target)
    if found is None:
        raise CommitmentError(
            f"<@{user_id}> isn't a member of this channel. Invite them to the channel first."
        )
    if not organisation:
        return replies.organisation_of(user_id, found.organisation)
    changed = set_organisation(
        engine,
        partnership_id=partnership.id,
        actor_person_id=actor.id,
        person_id=target.id,
        organisation=organisation,
    )
    return replies.organisation_set(user_id, changed.organisation)


@subcommand("admin")
def _admin(context: BoltContext, client: WebClient, command: dict, text: str) -> dict:
    """`admin` lists the admins; `admin @someone` makes them one."""
    engine = common.engine_of(context)
    partnership = _here(context, command)
    if not text.strip():
        current = [
            m.person.user_id
            for m in list_members(engine, partnership_id=partnership.id)
            if m.is_admin
        ]
        return replies.admins_here(current)
    user_id, extra = _mentioned(text, replies.ADMIN_USAGE)
    if extra:
        raise CommitmentError(f"One person at a time, please. {replies.ADMIN_USAGE}")
    target = common.person(context, client, user_id)
    actor = common.person(context, client, command["user_id"])
    if _member_here(context, client, partnership, target) is None:
        raise CommitmentError(
            f"<@{user_id}> isn't a member of this channel. Invite them to the channel first."
        )
    make_admin(engine, partnership_id=partnership.id, actor_person_id=actor.id, person_id=target.id)
    return replies.admin_made(user_id)


def register(app: App) -> None:
    app.middleware(members_follow_the_channel)
    app.event("member_joined_channel")(handle_member_joined)
    app.event("member_left_channel")(handle_member_left)
    app.event("channel_rename")(handle_channel_rename)
