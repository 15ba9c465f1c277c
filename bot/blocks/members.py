"""Replies about members, organisations and admins (ephemeral, to the person who asked)."""

from __future__ import annotations

from bot.blocks import Message, section
from bot.text import escape_mrkdwn

ORG_USAGE = (
    "An admin from someone's own Slack workspace sets their organisation with "
    "`/saydo org @someone Organisation name`, e.g. `/saydo org @sam Northshire NHS Trust`."
)
ADMIN_USAGE = "An admin adds another from their own Slack workspace with `/saydo admin @someone`."


def _reply(text: str) -> Message:
    return {"text": text, "blocks": [section(text)]}


def organisation_set(user_id: str, organisation: str) -> Message:
    return _reply(f"<@{user_id}> is now in *{escape_mrkdwn(organisation)}* in this partnership.")


def organisation_of(user_id: str, organisation: str) -> Message:
    return _reply(f"<@{user_id}> is in *{escape_mrkdwn(organisation)}*. {ORG_USAGE}")


def organisations_here(names: list[str]) -> Message:
    if not names:
        return _reply(f"I don't know anyone's organisation in this channel yet. {ORG_USAGE}")
    listed = ", ".join(f"*{escape_mrkdwn(n)}*" for n in names)
    return _reply(f"Organisations in this partnership: {listed}. {ORG_USAGE}")


def admin_made(user_id: str) -> Message:
    return _reply(
        f"<@{user_id}> is now an admin of this partnership: for the people of their own Slack "
        "workspace, they can set organisations, add admins, and deliver, move or withdraw "
        "commitments."
    )


def admins_here(user_ids: list[str]) -> Message:
    if not user_ids:
        return _reply(
            "This partnership has no admin yet. `/saydo admin @someone` makes the first one "
            "(yourself included); each organisation's Slack workspace chooses its own."
        )
    listed = ", ".join(f"<@{u}>" for u in user_ids)
    return _reply(f"Admins of this partnership: {listed}. {ADMIN_USAGE}")
