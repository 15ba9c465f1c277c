"""Nudge direct messages: private, specific and kind; each overdue one a little more concrete."""

from __future__ import annotations

import json
from datetime import datetime

from bot.blocks import Message, button, context, ids, plain, section
from bot.blocks.commitments import due_text, title_text, who
from bot.commitments.service import CommitmentView

CANT_DELIVER_REASON = ("cant_deliver_reason", "reason")


def _lead(commitment: CommitmentView, slot: str) -> str:
    title = f"{title_text(commitment)}"
    due = due_text(commitment)
    other = who(commitment.recipient) if commitment.recipient else "your partners"
    if slot == "before":
        return f"A friendly heads-up: {title} is due {due}."
    if slot == "due":
        return f"{title} is due today ({due}). Mark it delivered when it's done."
    if slot == "snoozed":
        return f"As you asked, a reminder about {title}, due {due}."
    seq = int(slot.removeprefix("overdue-")) if slot.startswith("overdue-") else 1
    if seq == 1:
        return (
            f"{title} was due {due}. If it's nearly there, a *New date* keeps {other} "
            "in the picture."
        )
    if seq == 2:
        return (
            f"{title} is still open. Is something in the way? Choosing *New date* with a "
            f"short note of what's blocking it helps {other} plan around it."
        )
    if seq == 3:
        return (
            f"{title} has been open a week past its date. If it can't happen now, "
            f"*Can't deliver* tells {other} kindly, and that's fine too."
        )
    return (
        f"A weekly reminder: {title} (due {due}) is still open. A new date, a delivery, or a "
        f"quick word to {other} would each help."
    )


def nudge(commitment: CommitmentView, *, slot: str, now: datetime) -> Message:
    """The DM for a nudge slot ("before", "due", "overdue-N", "snoozed")."""
    lead = _lead(commitment, slot)
    ref = str(commitment.ref)
    return {
        "text": lead,
        "blocks": [
            section(lead),
            {
                "type": "actions",
                "block_id": f"nudge_{ref}",
                "elements": [
                    button("Mark delivered", ids.DELIVER, ref, style="primary"),
                    button("New date", ids.NEW_DATE, ref),
                    button("Snooze one day", ids.SNOOZE, ref),
                    button("Can't deliver", ids.CANT_DELIVER, ref),
                ],
            },
            context("Only you can see this. Snooze moves the reminder, not the due date."),
        ],
    }


def cant_deliver_modal(commitment: CommitmentView) -> dict:
    block_id, action_id = CANT_DELIVER_REASON
    told = (
        f"I'll let {who(commitment.recipient)} know, with your reason."
        if commitment.recipient
        else "It will be withdrawn, with your reason in its history."
    )
    return {
        "type": "modal",
        "callback_id": ids.CANT_DELIVER_MODAL,
        "private_metadata": json.dumps({"ref": commitment.ref}),
        "title": plain("Can't deliver"),
        "submit": plain("Withdraw it"),
        "close": plain("Cancel"),
        "blocks": [
            section(f"{title_text(commitment)}\n{told}"),
            {
                "type": "input",
                "block_id": block_id,
                "label": plain("What's getting in the way?"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": action_id,
                    "multiline": True,
                    "max_length": 1000,
                },
            },
        ],
    }
