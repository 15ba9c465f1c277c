"""Modals: the commitment form (from `/commit` or a message), and the small forms behind the
Mark delivered, New date / Propose another date and Not yet buttons.

Block and action ids are stable: listeners read
`view["state"]["values"][<block id>][<action id>]`. Whatever a listener needs to know about
where a modal came from travels in `private_metadata` as JSON (`encode_metadata`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from bot.blocks import Block, context, ids, plain, section, text_input
from bot.blocks.commitments import due_text, title_text
from bot.commitments.grammar import MAX_TITLE
from bot.commitments.service import CommitmentView, PartnershipRef

View = dict[str, Any]

MAX_NOTES = 2000
MAX_EVIDENCE = 2000
MAX_REASON = 500
MAX_METADATA = 3000  # Slack's limit on private_metadata
MAX_SOURCE_TEXT = 1000  # of a message turned into a commitment, kept in the metadata
MAX_OPTIONS = 100  # a static_select's limit
MAX_OPTION_TEXT = 75
ELLIPSIS = "…"

# Inputs: (block id, action id)
TITLE = ("commitment_title", "title")
DUE_DATE = ("commitment_due_date", "due_date")
DUE_TIME = ("commitment_due_time", "due_time")
OWNER = ("commitment_owner", "owner")
RECIPIENT = ("commitment_recipient", "recipient")
NOTES = ("commitment_notes", "notes")
PARTNERSHIP = ("commitment_partnership", "partnership")
EVIDENCE = ("delivery_evidence", "evidence")
REASON = ("move_reason", "reason")
DISPUTE_NOTE = ("dispute_note", "note")

# The two modes of the move modal
MOVE = "move"
PROPOSE = "propose"


# --- private_metadata ------------------------------------------------------------------------


def encode_metadata(data: dict[str, Any]) -> str:
    """JSON for `private_metadata`, without empty values; long `source_text` is shortened to
    keep within Slack's 3,000 characters."""
    data = {k: v for k, v in data.items() if v is not None}
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    source = data.get("source_text")
    while len(text) > MAX_METADATA and source:
        source = source[: len(source) - (len(text) - MAX_METADATA) - 1]
        data["source_text"] = source
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    if len(text) > MAX_METADATA:
        raise ValueError("private_metadata would be longer than 3,000 characters")
    return text


def decode_metadata(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, ending in an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


# --- elements --------------------------------------------------------------------------------


def _input(
    ids_: tuple[str, str],
    label: str,
    element: Block,
    *,
    optional: bool = False,
    hint: str | None = None,
) -> Block:
    block: Block = {
        "type": "input",
        "block_id": ids_[0],
        "label": plain(label),
        "element": {**element, "action_id": ids_[1]},
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint)
    return block


def _datepicker(initial: date | None = None) -> Block:
    element: Block = {"type": "datepicker", "placeholder": plain("Pick a date")}
    if initial is not None:
        element["initial_date"] = initial.isoformat()
    return element


def _timepicker(initial: str | None = None) -> Block:
    element: Block = {"type": "timepicker", "placeholder": plain("End of day")}
    if initial is not None:
        element["initial_time"] = initial
    return element


def _users_select(initial_user: str | None = None, placeholder: str = "Choose someone") -> Block:
    element: Block = {"type": "users_select", "placeholder": plain(placeholder)}
    if initial_user:
        element["initial_user"] = initial_user
    return element


def _option(partnership: PartnershipRef) -> Block:
    return {
        "text": plain(shorten(partnership.name, MAX_OPTION_TEXT)),
        "value": str(partnership.id),
    }


def _modal(callback_id: str, title: str, submit: str, blocks: list[Block], metadata: str) -> View:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(title),
        "submit": plain(submit),
        "close": plain("Cancel"),
        "private_metadata": metadata,
        "blocks": blocks,
    }


def _about(commitment: CommitmentView) -> Block:
    return section(f"{title_text(commitment)}\n*Due:* {due_text(commitment)}")


# --- the modals ------------------------------------------------------------------------------


def create_modal(
    *,
    owner_id: str,
    metadata: str,
    title: str | None = None,
    partnerships: Sequence[PartnershipRef] | None = None,
    source_permalink: str | None = None,
) -> View:
    """The commitment form. `partnerships` (when opened in a DM) adds a choice of partnership;
    `title` prefills what will be done; `source_permalink` links to the message it came from."""
    blocks: list[Block] = []
    if source_permalink:
        blocks.append(context(f"From <{source_permalink}|this message>"))
    if partnerships is not None:
        options = [_option(p) for p in list(partnerships)[:MAX_OPTIONS]]
        blocks.append(
            _input(
                PARTNERSHIP,
                "Partnership",
                {
                    "type": "static_select",
                    "placeholder": plain("Choose a partnership"),
                    "options": options,
                },
                hint="The confirmation is posted in its channel.",
            )
        )
    blocks += [
        _input(
            TITLE,
            "What will be done?",
            text_input(
                max_length=MAX_TITLE,
                initial=shorten(title, MAX_TITLE) if title else None,
                placeholder="Send the draft budget to finance",
            ),
        ),
        _input(DUE_DATE, "Due date", _datepicker()),
        _input(
            DUE_TIME,
            "Time",
            _timepicker(),
            optional=True,
            hint="Leave empty for the end of the day, in the owner's time zone.",
        ),
        _input(OWNER, "Who will do it?", _users_select(owner_id)),
        _input(
            RECIPIENT,
            "Who is it for?",
            _users_select(placeholder="Nobody in particular"),
            optional=True,
            hint="They are asked to confirm delivery.",
        ),
        _input(NOTES, "Notes", text_input(max_length=MAX_NOTES, multiline=True), optional=True),
    ]
    return _modal(ids.CREATE_MODAL, "New commitment", "Log it", blocks, metadata)


def deliver_modal(commitment: CommitmentView, *, metadata: str) -> View:
    """Mark delivered, with optional evidence (a few words or a link)."""
    blocks = [
        _about(commitment),
        _input(
            EVIDENCE,
            "Evidence",
            text_input(
                max_length=MAX_EVIDENCE,
                multiline=True,
                placeholder="Sent to finance, see https://example.org/budget",
            ),
            optional=True,
            hint="A few words or a link, shown to the person it was for.",
        ),
    ]
    return _modal(ids.DELIVER_MODAL, "Mark delivered", "Delivered", blocks, metadata)


def move_modal(commitment: CommitmentView, *, metadata: str, mode: str = MOVE) -> View:
    """A new date (and optional time) with a reason. In `PROPOSE` mode the owner answers a
    proposal with another date and accepts the commitment for it."""
    if mode not in (MOVE, PROPOSE):
        raise ValueError(f"unknown move modal mode {mode!r}")
    local = commitment.due_at.astimezone(ZoneInfo(commitment.owner.tz))
    blocks = [_about(commitment)]
    if mode == PROPOSE:
        blocks.append(context("You'll accept the commitment for the date you choose."))
    blocks += [
        _input(DUE_DATE, "New date", _datepicker(local.date())),
        _input(
            DUE_TIME,
            "Time",
            _timepicker(f"{local:%H:%M}" if commitment.has_time else None),
            optional=True,
            hint=f"Leave empty for the end of the day ({commitment.owner.tz}).",
        ),
        _input(
            REASON,
            "Because…",
            text_input(max_length=MAX_REASON, placeholder="The data arrived late"),
            optional=True,
        ),
    ]
    if mode == PROPOSE:
        return _modal(ids.MOVE_MODAL, "Propose another date", "Accept for it", blocks, metadata)
    return _modal(ids.MOVE_MODAL, "New date", "Change date", blocks, metadata)


def dispute_modal(commitment: CommitmentView, *, metadata: str) -> View:
    """The recipient says the delivery has not arrived, with an optional short note."""
    blocks = [
        _about(commitment),
        _input(
            DISPUTE_NOTE,
            "What's missing?",
            text_input(max_length=MAX_REASON, placeholder="The attachment wasn't there"),
            optional=True,
            hint="The owner sees this, and the commitment is open again.",
        ),
    ]
    return _modal(ids.DISPUTE_MODAL, "Not received yet", "Send", blocks, metadata)
