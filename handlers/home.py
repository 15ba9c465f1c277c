"""The App Home tab: published when someone opens it, when they switch partnership, and after
every change to a commitment they own or receive (`refresh`, called from `handlers.notify`)."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine

from bot.blocks import objectives as objective_blocks
from bot.blocks import reports as report_blocks
from bot.commitments.service import CommitmentView
from bot.objectives.service import owned_objectives
from bot.reports.figures import home_data
from handlers import common

logger = logging.getLogger(__name__)

SWITCH = report_blocks.HOME_SWITCH


def publish_home(
    client: WebClient,
    engine: Engine,
    user_id: str,
    *,
    partnership_id: int | None = None,
    now: datetime | None = None,
) -> None:
    """Build and publish this person's Home tab; a Slack failure is logged, not raised."""
    now = now or common.utcnow()
    data = home_data(engine, user_id=user_id, now=now, partnership_id=partnership_id)
    view = report_blocks.home_view(data)
    if data.selected is not None:
        owned = owned_objectives(engine, partnership_id=data.selected.id, user_id=user_id, now=now)
        today = now.astimezone(ZoneInfo(data.selected.tz)).date()
        view["blocks"] += objective_blocks.home_blocks(owned, today=today)
    try:
        client.views_publish(user_id=user_id, view=view)
    except SlackApiError as error:
        logger.warning("Could not publish Home for %s: %s", user_id, error.response.get("error"))


def refresh(client: WebClient, engine: Engine, commitment: CommitmentView) -> None:
    """After a change: refresh the Home tabs of the commitment's owner and recipient."""
    people = {commitment.owner.user_id}
    if commitment.recipient is not None:
        people.add(commitment.recipient.user_id)
    for user_id in sorted(people):
        try:
            publish_home(client, engine, user_id, partnership_id=commitment.partnership.id)
        except Exception:  # a Home refresh must never spoil the change itself
            logger.exception("Could not refresh Home for %s", user_id)


def handle_home_opened(event: dict, client: WebClient, context: BoltContext) -> None:
    if event.get("tab") == "home":
        publish_home(client, common.engine_of(context), event["user"])


def handle_switch(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    selected = (body["actions"][0].get("selected_option") or {}).get("value", "")
    partnership_id = int(selected) if selected.isdigit() else None
    publish_home(
        client, common.engine_of(context), body["user"]["id"], partnership_id=partnership_id
    )


def register(app: App) -> None:
    app.event("app_home_opened")(handle_home_opened)
    app.action(SWITCH)(handle_switch)
