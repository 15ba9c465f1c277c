"""What every listener needs: the shared services (database, Slack directory), the clock, who is
asking, and where."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine

from bot import clock
from bot.blocks import commitments as messages
from bot.commitments import PartnershipRef, PersonRef, ensure_partnership
from bot.members import Directory
from bot.people import UnknownPerson, person_for
from bot.refusal import Refusal

logger = logging.getLogger(__name__)

SERVICES_KEY = "saydo"


@dataclass(frozen=True)
class Services:
    """What listeners share, built once at start-up (`bot.app.create_app`) and handed to every
    listener in its Bolt context by one middleware: nothing is kept in module globals."""

    engine: Engine
    directory: Directory  # Slack's people and channels; caches workspace names


def install(app: App, services: Services) -> None:
    """Make the services available to every listener as `context["saydo"]`."""

    @app.middleware
    def provide_services(context: BoltContext, next) -> None:
        context[SERVICES_KEY] = services
        next()


def services_of(context: BoltContext) -> Services:
    return context[SERVICES_KEY]


def engine_of(context: BoltContext) -> Engine:
    return services_of(context).engine


def directory_of(context: BoltContext) -> Directory:
    return services_of(context).directory


def workspace_id(context: BoltContext) -> str:
    """The workspace Saydo is installed in: the scope of partnerships and references.

    Taken from `auth.test`, not the payload, because a partner in a Slack Connect channel
    sends payloads carrying their own workspace's id.
    """
    result = context.authorize_result
    return (result.team_id if result is not None else None) or context.team_id


def utcnow() -> datetime:
    return clock.now()


def person(context: BoltContext, client: WebClient, user_id: str) -> PersonRef:
    """The person with this id, refreshed from Slack when the cached profile is stale."""
    try:
        return person_for(
            engine_of(context), user_id=user_id, now=utcnow(), fetch=directory_of(context).profile
        )
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


def input_value(values: dict, field: tuple[str, str], key: str = "value"):
    """One input's value from a submitted view's `state.values`, by its (block id, action id)
    (None when empty or absent)."""
    return ((values.get(field[0]) or {}).get(field[1]) or {}).get(key)


def open_view(client: WebClient, trigger_id: str, view: dict) -> None:
    """`views.open`; a failure (e.g. expired_trigger_id: Slack shows nothing) is logged with its
    error code."""
    try:
        client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as error:
        logger.warning("Could not open %s: %s", view.get("callback_id"), error_code(error))


def error_code(error: SlackApiError) -> str:
    """Slack's error code (e.g. `channel_not_found`), fit for a log line."""
    return str(error.response.get("error") if error.response is not None else error)


def direct_message(client: WebClient, user_id: str, message: dict) -> None:
    """Post to the person's DM with Saydo; a failure is logged, never shown to someone else."""
    try:
        client.chat_postMessage(channel=user_id, **message)
    except SlackApiError as error:
        logger.warning("Could not DM %s: %s", user_id, error.response.get("error"))


def refusal(text: str) -> dict:
    return {"response_type": "ephemeral", "replace_original": False, **messages.problem(text)}
