"""What every listener needs: the database, the clock, who is asking, and where."""

from __future__ import annotations

import logging
from datetime import datetime

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine

from bot import clock
from bot.blocks import commitments as messages
from bot.commitments import PartnershipRef, PersonRef, ensure_partnership
from bot.people import Profile, UnknownPerson, person_for, profile_from_users_info
from bot.refusal import Refusal

logger = logging.getLogger(__name__)

ENGINE_KEY = "saydo_engine"


def install(app: App, engine: Engine) -> None:
    """Make the engine available to every listener as `context["saydo_engine"]`."""

    @app.middleware
    def provide_engine(context: BoltContext, next) -> None:
        context[ENGINE_KEY] = engine
        next()


def engine_of(context: BoltContext) -> Engine:
    return context[ENGINE_KEY]


def workspace_id(context: BoltContext) -> str:
    """The workspace Saydo is installed in: the scope of partnerships and references.

    Taken from `auth.test`, not the payload, because a partner in a Slack Connect channel
    sends payloads carrying their own workspace's id.
    """
    result = context.authorize_result
    return (result.team_id if result is not None else None) or context.team_id


def utcnow() -> datetime:
    return clock.now()


def fetcher(client: WebClient):
    """A profile fetcher backed by `users.info` (with the user's locale)."""

    def fetch(user_id: str) -> Profile:
        try:
            response = client.users_info(user=user_id, include_locale=True)
        except SlackApiError as error:
            if error.response.get("error") in ("user_not_found", "user_not_visible"):
                raise UnknownPerson(user_id) from None
            raise
        return profile_from_users_info(response["user"])

    return fetch


def person(context: BoltContext, client: WebClient, user_id: str) -> PersonRef:
    """The person with this id, refreshed from Slack when the cached profile is stale."""
    try:
        return person_for(engine_of(context), user_id=user_id, now=utcnow(), fetch=fetcher(client))
    except UnknownPerson:
        raise Refusal(
            f"I can't find <@{user_id}> in Slack, or they are a bot or deactivated."
        ) from None


def partnership(
    context: BoltContext, channel_id: str, channel_name: str | None = None
) -> PartnershipRef:
    """The channel's partnership; the channel becomes one on first use."""
    if channel_id.startswith("D"):
        raise Refusal(
            "Commitments belong to a partnership channel. Use this in the channel, or type "
            "`/commit` with no text here to choose one."
        )
    return ensure_partnership(
        engine_of(context), team_id=workspace_id(context), channel_id=channel_id, name=channel_name
    )


def direct_message(client: WebClient, user_id: str, message: dict) -> None:
    """Post to the person's DM with Saydo; a failure is logged, never shown to someone else."""
    try:
        client.chat_postMessage(channel=user_id, **message)
    except SlackApiError as error:
        logger.warning("Could not DM %s: %s", user_id, error.response.get("error"))


def refusal(text: str) -> dict:
    return {"response_type": "ephemeral", "replace_original": False, **messages.problem(text)}
