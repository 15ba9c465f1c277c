"""`/saydo <subcommand>`: help today; later issues add subcommands here."""

from __future__ import annotations

from slack_bolt import Ack, App

from bot import blocks


def handle_saydo(ack: Ack, command: dict) -> None:
    """Answer in the acknowledgement itself: an ephemeral reply with no extra round trip."""
    words = (command.get("text") or "").split()
    subcommand = words[0].lower() if words else "help"
    unknown = None if subcommand == "help" else words[0]
    ack(response_type="ephemeral", **blocks.help_message(unknown=unknown))


def register(app: App) -> None:
    app.command("/saydo")(handle_saydo)
