"""`/commit <what> by <when>`: log a commitment from one line (no text opens the form)."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.blocks import commitments as messages
from bot.commitments.due_dates import DueDateError
from bot.commitments.grammar import CommitmentDraft, CommitmentTextError, parse_commitment
from bot.commitments.service import Logged, PersonRef, due_for_owner, log_commitment
from bot.refusal import Refusal
from handlers import common, modals, notify
from handlers import members as membership

USER_ERRORS = (Refusal, CommitmentTextError, DueDateError)


def handle_commit(
    ack: Ack, command: dict, client: WebClient, context: BoltContext, respond: Respond
) -> None:
    ack()
    text = (command.get("text") or "").strip()
    channel_id = command["channel_id"]
    if wants_form(command):
        modals.open_create_modal(
            client,
            context,
            trigger_id=command["trigger_id"],
            user_id=command["user_id"],
            channel_id=channel_id,
            title=text or None,
            channel_name=command.get("channel_name"),
        )
        return
    try:
        speaker = common.person(context, client, command["user_id"])
        draft = parse_commitment(text, now=common.utcnow(), tz=speaker.tz, locale=speaker.locale)
        result = log_draft(
            context,
            client,
            speaker,
            draft,
            channel_id=channel_id,
            channel_name=command.get("channel_name"),
            source_text=text,
        )
    except USER_ERRORS as error:
        respond(**common.refusal(str(error)))
        return
    commitment = result.commitment
    if result.duplicate:
        respond(
            response_type="ephemeral",
            **messages.confirmation(commitment, duplicate=True, now=common.utcnow()),
        )
        return
    if not common.post_logged(context, client, commitment):
        # Saydo is not in the channel: the command's reply still shows it there, though
        # without a `ts` that later changes could update.
        respond(
            response_type="in_channel",
            **messages.confirmation(commitment, now=common.utcnow()),
        )
    notify.logged(client, common.engine_of(context), commitment)


def wants_form(command: dict) -> bool:
    """`/commit` opens the form when it has no text, or anywhere in a DM with Saydo."""
    return not (command.get("text") or "").strip() or command["channel_id"].startswith("D")


def log_draft(
    context: BoltContext,
    client: WebClient,
    speaker: PersonRef,
    draft: CommitmentDraft,
    *,
    channel_id: str,
    channel_name: str | None,
    source_text: str,
    source_permalink: str | None = None,
    source_ts: str | None = None,
) -> Logged:
    """Log a parsed commitment: owner and recipient resolved, the date in the owner's terms."""
    owner = speaker
    if draft.owner_id and draft.owner_id != speaker.user_id:
        owner = common.person(context, client, draft.owner_id)
    recipient = common.person(context, client, draft.recipient_id) if draft.recipient_id else None
    partnership = membership.partnership_in(context, client, channel_id, channel_name)
    return log_commitment(
        common.engine_of(context),
        partnership=partnership,
        creator=speaker,
        owner=owner,
        recipient=recipient,
        title=draft.title,
        due_at=due_for_owner(draft.due, owner.tz),
        has_time=draft.due.has_time,
        now=common.utcnow(),
        source_text=source_text,
        source_permalink=source_permalink,
        source_ts=source_ts,
    )


def register(app: App) -> None:
    app.command("/commit")(
        common.opens_form(handle_commit, when=lambda args: wants_form(args["command"]))
    )
