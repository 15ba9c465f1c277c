"""@Saydo mentions: how people in Slack Connect channels (no shared slash commands) take part."""

from __future__ import annotations

from slack_bolt import App, Say

from bot import blocks


def handle_mention(event: dict, say: Say) -> None:
    say(thread_ts=event.get("thread_ts") or event["ts"], **blocks.help_message())


def register(app: App) -> None:
    app.event("app_mention")(handle_mention)
