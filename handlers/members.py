"""Members of partnership channels: joins and leaves, the periodic refresh, `/saydo org` and
`/saydo admin`.

A member's organisation defaults to the name of their own Slack workspace (`team.info` for
their team id), so partners in a Slack Connect channel fall into their own organisation
without anyone setting it. The refresh itself is `bot.partnerships.members.refresh_members`.
"""

from __future__ import annotations

import functools
import logging
import re
from datetime import UTC, datetime

from slack_bolt import App, BoltContext, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine

from bot.blocks import members as replies
from bot.commitments.service import (
    PartnershipRef,
    PersonRef,
    ensure_partnership,
    rename_partnership,
)
from bot.commitments.service import find_person as _find_person
from bot.partnerships.members import (
    DirectoryUnavailable,
    MemberView,
    admit_if_present,
    deactivate_member,
    find_partnership,
    join,
    knows_member,
    list_members,
    make_admin,
    member,
    organisations,
    refresh_members,
    resolve,
    set_organisation,
)
from bot.refusal import Refusal
from handlers import common
from handlers.saydo_command import Subcommand

logger = logging.getLogger(__name__)

_MENTION = re.compile(r"^<@(?P<user>[UW][A-Z0-9]+)(?:\|[^>]*)?>(?:\s+(?P<rest>.*))?$", re.DOTALL)
_LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


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
        refresh_members(
            engine, common.directory_of(context), partnership=partnership, now=common.utcnow()
        )
    except DirectoryUnavailable as error:
        logger.warning("Could not read the members of %s: %s", channel_id, error)
    return partnership


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
        admit_if_present(
            engine,
            common.directory_of(context),
            partnership=partnership,
            user_id=user_id,
            now=common.utcnow(),
        )
    except DirectoryUnavailable as error:
        logger.warning("Could not check the members of %s: %s", channel_id, error)


# --- events --------------------------------------------------------------------------------


def handle_member_joined(event: dict, client: WebClient, context: BoltContext) -> None:
    engine, channel, user_id = common.engine_of(context), event["channel"], event["user"]
    try:
        partnership = _partnership_for_channel(
            engine, client, common.workspace_id(context), channel
        )
        directory, now = common.directory_of(context), common.utcnow()
        if user_id == context.bot_user_id:  # Saydo was invited: learn who is already here
            refresh_members(engine, directory, partnership=partnership, now=now)
            return
        person = resolve(engine, directory, user_id=user_id, now=now)
        if person is not None:  # bots and deactivated users are not members
            join(engine, directory, partnership=partnership, person=person, now=now)
    except (SlackApiError, DirectoryUnavailable) as error:
        logger.warning("Could not add %s to %s: %s", user_id, channel, error)


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
        raise Refusal(
            "Members and admins belong to a partnership channel: use this in the channel."
        )
    return common.partnership(context, command["channel_id"], command.get("channel_name"))


def _mentioned(text: str, usage: str) -> tuple[str, str]:
    match = _MENTION.match(text.strip())
    if not match:
        raise Refusal(f"I couldn't tell who that is: pick them from Slack's @-menu. {usage}")
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
            refresh_members(
                engine, common.directory_of(context), partnership=partnership, now=common.utcnow()
            )
        except DirectoryUnavailable as error:
            logger.warning("Member refresh failed: %s", error)
        found = member(engine, partnership_id=partnership.id, person_id=person.id)
    return found


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
        raise Refusal(
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
        raise Refusal(f"One person at a time, please. {replies.ADMIN_USAGE}")
    target = common.person(context, client, user_id)
    actor = common.person(context, client, command["user_id"])
    if _member_here(context, client, partnership, target) is None:
        raise Refusal(
            f"<@{user_id}> isn't a member of this channel. Invite them to the channel first."
        )
    make_admin(engine, partnership_id=partnership.id, actor_person_id=actor.id, person_id=target.id)
    return replies.admin_made(user_id)


# `/saydo <name>` subcommands this module answers (collected by `handlers.register_all`).
SUBCOMMANDS: dict[str, Subcommand] = {
    "org": _org,
    "admin": _admin,
}


def register(app: App) -> None:
    app.middleware(members_follow_the_channel)
    app.event("member_joined_channel")(handle_member_joined)
    app.event("member_left_channel")(handle_member_left)
    app.event("channel_rename")(handle_channel_rename)
