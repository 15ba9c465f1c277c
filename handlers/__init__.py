"""Slack listeners: each module exposes `register(app)`; `register_all` wires them up."""

from __future__ import annotations

from slack_bolt import App
from sqlalchemy import Engine

from handlers import (
    charter,
    coffee,
    commit_command,
    commitment_buttons,
    common,
    costs,
    done_command,
    home,
    members,
    mentions,
    modals,
    nudge_buttons,
    objectives,
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
    objectives,
    costs,
)


def register_all(app: App, engine: Engine | None = None) -> None:
    """Register every listener; `engine` is handed to listeners through the context."""
    if engine is not None:
        common.install(app, engine)
    for module in LISTENER_MODULES:
        module.register(app)
