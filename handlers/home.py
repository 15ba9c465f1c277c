"""The App Home tab, published whenever someone opens it."""

from __future__ import annotations

from slack_bolt import App
from slack_sdk import WebClient

from bot import blocks


def handle_home_opened(event: dict, client: WebClient) -> None:
    if event.get("tab") == "home":
        client.views_publish(user_id=event["user"], view=blocks.home_view())


def register(app: App) -> None:
    app.event("app_home_opened")(handle_home_opened)
