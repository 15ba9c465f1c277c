"""Slack listeners: each module exposes `register(app)` (and its `/saydo` subcommands in
`SUBCOMMANDS`); `register_all` wires them up, passing the shared services explicitly."""

from __future__ import annotations

from slack_bolt import App

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


def register_all(
    app: App, services: common.Services | None = None, workers: common.Workers | None = None
) -> None:
    """Register every listener, acknowledged first and run on `workers` (default: in the
    request's thread); `services` are handed to listeners through the context."""
    if services is not None:
        common.install(app, services)
    subcommands = {
        **saydo_command.SUBCOMMANDS,
        **members.SUBCOMMANDS,
        **coffee.SUBCOMMANDS,
        **reviews.SUBCOMMANDS,
        **stats.SUBCOMMANDS,
        **charter.SUBCOMMANDS,
        **objectives.SUBCOMMANDS,
        **costs.SUBCOMMANDS,
    }
    listening = common.Listening(app, workers or common.Workers.inline())
    for module in LISTENER_MODULES:
        if module is saydo_command:
            saydo_command.register(listening, subcommands)
        else:
            module.register(listening)
