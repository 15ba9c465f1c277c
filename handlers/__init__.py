"""Slack listeners: each module exposes `register(app)`; `register_all` wires them up."""

from __future__ import annotations

from slack_bolt import App

from handlers import home, mentions, saydo_command

LISTENER_MODULES = (saydo_command, mentions, home)


def register_all(app: App) -> None:
    for module in LISTENER_MODULES:
        module.register(app)
