"""Slack listeners: each module exposes `register(app)`; `register_all` wires them up."""

from __future__ import annotations

from slack_bolt import App

from handlers import (
    charter,
    coffee,
    commit_command,
    commitment_buttons,
    common,
    done_command,
    home,
    members,
    mentions,
    modals,
    nudge_buttons,
    reviews,
    saydo_command,
    stats,
)

LISTENER_MODULES = (
    saydo_command,
    commit_command,
    done_command,
    mentions,
    commitment_buttons,
    modals,
    nudge_buttons,
    home,
    members,
    coffee,
    reviews,
    stats,
    charter,
)


def register_all(app: App, services: common.Services | None = None) -> None:
    """Register every listener; `services` are handed to listeners through the context."""
    if services is not None:
        common.install(app, services)
    for module in LISTENER_MODULES:
        module.register(app)
