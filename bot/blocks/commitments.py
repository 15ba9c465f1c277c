"""Messages about commitments: confirmations, direct messages, and replies to changes.

User text (titles, notes, evidence) is always escaped, so `<!channel>` typed by a person never
pings anyone and `<https://x|y>` never hides a link; the people a title mentions stay mentions.
"""

from __future__ import annotations

from datetime import datetime

from bot.blocks import Message, button, context, ids, section
from bot.commitments.due_dates import describe_due
from bot.commitments.lifecycle import Status
from bot.commitments.service import CommitmentView, PersonRef
from bot.text import escape_mrkdwn, mrkdwn_with_mentions

STATUS_LABELS = {
    Status.PROPOSED: "proposed, waiting for acceptance",
    Status.OPEN: "open",
    Status.DELIVERED: "delivered",
    Status.DECLINED: "declined",
    Status.WITHDRAWN: "withdrawn",
}


def who(person: PersonRef) -> str:
    """A mention: Slack shows the person's current name and it works across organisations."""
    return f"<@{person.user_id}>"


def due_text(commitment: CommitmentView) -> str:
    """The due date unambiguously, in the owner's time zone."""
    return describe_due(commitment.due_at, tz=commitment.owner.tz, has_time=commitment.has_time)


def title_text(commitment: CommitmentView) -> str:
    return f"*#{commitment.ref}* {mrkdwn_with_mentions(commitment.title)}"


def summary_line(commitment: CommitmentView, *, now: datetime) -> str:
    status = STATUS_LABELS[commitment.status]
    if commitment.is_overdue(now=now):
        status = "overdue"
    line = f"{title_text(commitment)}\n{who(commitment.owner)} · due {due_text(commitment)}"
    if commitment.recipient:
        line += f" · for {who(commitment.recipient)}"
    return f"{line} · _{status}_"


def actions_for(commitment: CommitmentView, *, with_undo: bool = False) -> dict | None:
    """The buttons that make sense for this commitment now (listeners check who presses)."""
    ref = str(commitment.ref)
    buttons = []
    if commitment.status == Status.OPEN:
        buttons += [
            button("Mark delivered", ids.DELIVER, ref, style="primary"),
            button("New date", ids.NEW_DATE, ref),
        ]
    elif commitment.status == Status.PROPOSED:
        buttons.append(button("New date", ids.NEW_DATE, ref))
    if with_undo and commitment.status in (Status.OPEN, Status.PROPOSED):
        buttons.append(button("Undo", ids.UNDO, ref))
    if not buttons:
        return None
    return {"type": "actions", "block_id": f"commitment_{ref}", "elements": buttons}


def confirmation(
    commitment: CommitmentView, *, duplicate: bool = False, now: datetime | None = None
) -> Message:
    """Posted where the commitment was made: reference, owner, due date, New date / Undo."""
    owner = who(commitment.owner)
    if duplicate:
        lead = f"That was already logged as *#{commitment.ref}*."
    elif commitment.status == Status.PROPOSED:
        lead = (
            f"Proposed *#{commitment.ref}* for {owner}, logged by {who(commitment.created_by)}. "
            f"I've asked {owner} to accept it."
        )
    else:
        lead = f"Logged *#{commitment.ref}*. {owner} will do this."
    lines = [
        f"{lead}\n>{mrkdwn_with_mentions(commitment.title)}",
        f"*Due:* {due_text(commitment)}",
    ]
    if commitment.recipient:
        lines.append(f"*For:* {who(commitment.recipient)}")
    blocks = [section("\n".join(lines))]
    actions = actions_for(commitment, with_undo=not duplicate)
    if actions:
        blocks.append(actions)
    notes = [f"Mark it delivered with `/done {commitment.ref}`."]
    away = commitment.owner.away_until
    if now is not None and away is not None and away > now:
        until = describe_due(away, tz=commitment.owner.tz, has_time=True)
        notes.append(f"{who(commitment.owner)} is away until {until}: nudges are paused.")
    blocks.append(context(*notes))
    title = mrkdwn_with_mentions(commitment.title)
    return {"text": f"{lead} {title} (due {due_text(commitment)})", "blocks": blocks}


def logged_as_it_stands(commitment: CommitmentView) -> Message:
    """The channel's "Logged #N" message after a change: the commitment's state now and only
    the buttons that still apply (Undo only right after logging)."""
    status = STATUS_LABELS[commitment.status]
    if commitment.status == Status.DELIVERED and commitment.confirmed:
        status += ", confirmed received"
    lead = f"Logged *#{commitment.ref}* for {who(commitment.owner)}: *{status}*."
    lines = [f"{lead}\n>{mrkdwn_with_mentions(commitment.title)}", f"*Due:* {due_text(commitment)}"]
    if commitment.recipient:
        lines.append(f"*For:* {who(commitment.recipient)}")
    if commitment.status == Status.DELIVERED and commitment.evidence:
        lines.append(f"*Evidence:* {escape_mrkdwn(commitment.evidence)}")
    blocks = [section("\n".join(lines))]
    actions = actions_for(commitment)
    if actions:
        blocks.append(actions)
    title = mrkdwn_with_mentions(commitment.title)
    return {"text": f"#{commitment.ref} {title}: {status}", "blocks": blocks}


def proposal_for_owner(commitment: CommitmentView) -> Message:
    """A direct message asking the owner to accept a commitment someone logged for them."""
    text = (
        f"{who(commitment.created_by)} logged a commitment for you in "
        f"<#{commitment.partnership.channel_id}>:\n>{mrkdwn_with_mentions(commitment.title)}\n"
        f"*Due:* {due_text(commitment)}"
    )
    ref = str(commitment.ref)
    return {
        "text": f"Can you commit to #{commitment.ref}: {mrkdwn_with_mentions(commitment.title)}?",
        "blocks": [
            section(text),
            {
                "type": "actions",
                "block_id": f"proposal_{ref}",
                "elements": [
                    button("Accept", ids.ACCEPT, ref, style="primary"),
                    button("Decline", ids.DECLINE, ref),
                    button("Propose another date", ids.PROPOSE_DATE, ref),
                ],
            },
            context("Only an accepted commitment counts for anyone."),
        ],
    }


def proposal_answered(commitment: CommitmentView, answer: str) -> Message:
    """Tells the person who logged a proposal what the owner said."""
    text = f"{who(commitment.owner)} {answer} {title_text(commitment)}"
    if commitment.status == Status.OPEN:
        text += f"\n*Due:* {due_text(commitment)}"
    return {"text": text, "blocks": [section(text)]}


def delivered_for_recipient(commitment: CommitmentView) -> Message:
    """Asks the recipient whether a delivery really arrived."""
    text = (
        f"{who(commitment.owner)} says they delivered *#{commitment.ref}* "
        f"{mrkdwn_with_mentions(commitment.title)}"
    )
    if commitment.evidence:
        text += f"\n*Evidence:* {escape_mrkdwn(commitment.evidence)}"
    ref = str(commitment.ref)
    return {
        "text": f"{escape_mrkdwn(commitment.owner.name)} says they delivered "
        f"#{commitment.ref}: {mrkdwn_with_mentions(commitment.title)}. Received?",
        "blocks": [
            section(text),
            {
                "type": "actions",
                "block_id": f"delivery_{ref}",
                "elements": [
                    button("Received", ids.RECEIVED, ref, style="primary"),
                    button("Not yet", ids.NOT_YET, ref),
                ],
            },
        ],
    }


def delivery_judged(commitment: CommitmentView, *, received: bool, note: str | None) -> Message:
    """Tells the owner what the recipient said about the delivery."""
    if received:
        text = (
            f"{who(commitment.recipient)} confirmed they received *#{commitment.ref}* "
            f"{mrkdwn_with_mentions(commitment.title)}. Thank you!"
        )
    else:
        text = (
            f"{who(commitment.recipient)} says *#{commitment.ref}* "
            f"{mrkdwn_with_mentions(commitment.title)} has not arrived yet, so it is open again."
        )
        if note:
            text += f"\n>{escape_mrkdwn(note)}"
    blocks = [section(text)]
    actions = None if received else actions_for(commitment)
    if actions:
        blocks.append(actions)
    return {"text": text, "blocks": blocks}


def changed(commitment: CommitmentView, what: str) -> Message:
    """A short reply after a change: delivered, moved, withdrawn, accepted..."""
    text = f"{what} *#{commitment.ref}* {mrkdwn_with_mentions(commitment.title)}"
    if commitment.status in (Status.OPEN, Status.PROPOSED):
        text += f"\n*Due:* {due_text(commitment)}"
    if commitment.status == Status.DELIVERED and commitment.evidence:
        text += f"\n*Evidence:* {escape_mrkdwn(commitment.evidence)}"
    return {"text": text, "blocks": [section(text)]}


def edit_not_logged_again(commitment: CommitmentView) -> Message:
    """Private answer to an edit of a message already logged: how to change it instead."""
    text = (
        f"You edited a message I had already logged as *#{commitment.ref}*, so I haven't "
        "logged it again. To move its date, use *New date* below; `/saydo list` shows it "
        "with everything else you can do."
    )
    blocks = [section(f"{text}\n>{escape_mrkdwn(commitment.title)}\n*Due:* {due_text(commitment)}")]
    actions = actions_for(commitment)
    if actions:
        blocks.append(actions)
    return {"text": text, "blocks": blocks}


def problem(text: str) -> Message:
    """A friendly refusal or error, shown only to the person who asked."""
    return {"text": text, "blocks": [section(text)]}
