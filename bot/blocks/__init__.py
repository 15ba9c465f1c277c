"""Every Block Kit message, modal and Home tab Saydo sends is built here, and only here.

Builders return plain dicts (`{"text": ..., "blocks": [...]}` for messages) so handlers and
sweeps stay thin and tests can validate them against the Block Kit schema.
"""

from __future__ import annotations

from typing import Any

from bot.help import ABOUT, COMMANDS
from bot.text import escape_mrkdwn

Block = dict[str, Any]
Message = dict[str, Any]


def mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def section(text: str, **extra: Any) -> Block:
    return {"type": "section", "text": mrkdwn(text), **extra}


def context(*texts: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(t) for t in texts]}


def text_input(
    *,
    max_length: int,
    multiline: bool = False,
    initial: str | None = None,
    placeholder: str | None = None,
) -> Block:
    """A plain-text input element for a form."""
    element: Block = {"type": "plain_text_input", "max_length": max_length}
    if multiline:
        element["multiline"] = True
    if initial:
        element["initial_value"] = initial
    if placeholder:
        element["placeholder"] = plain(placeholder)
    return element


def button(text: str, action_id: str, value: str, *, style: str | None = None) -> Block:
    element: Block = {"type": "button", "text": plain(text), "action_id": action_id, "value": value}
    if style:
        element["style"] = style
    return element


def command_list() -> str:
    return "\n".join(f"`{escape_mrkdwn(c.usage)}`: {c.summary}" for c in COMMANDS)


def help_message(*, unknown: str | None = None) -> Message:
    """The `/saydo help` reply; `unknown` is a subcommand Saydo did not recognise."""
    blocks: list[Block] = []
    lead = ""
    if unknown is not None:
        lead = f"I don't know `{escape_mrkdwn(unknown)}`. Here is what I can do."
        blocks.append(section(lead))
    blocks.append(section(ABOUT))
    blocks.append(section(command_list()))
    text = (lead + " " if lead else "") + ABOUT
    return {"text": text, "blocks": blocks}
