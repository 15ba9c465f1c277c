"""`/done <ref> [evidence]`: mark a commitment delivered."""

from __future__ import annotations

import re

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.blocks import commitments as messages
from bot.commitments.lifecycle import EventKind
from bot.commitments.service import change_commitment
from bot.refusal import Refusal
from handlers import common, notify

DONE_USAGE = (
    "Tell me which commitment, by its number: `/done 12`, or with evidence, "
    "`/done 12 sent to finance, see https://example.org/budget`."
)
_REF = re.compile(r"^#?(?P<ref>\d{1,9})\b[\s:,.-]*(?P<rest>.*)$", re.DOTALL)
_EVIDENCE_LABEL = re.compile(r"^evidence\s*:\s*", re.IGNORECASE)
MAX_EVIDENCE = 2000


def parse_done(text: str) -> tuple[int, str | None]:
    """`12 evidence: the link` -> (12, "the link"); friendly Refusal otherwise."""
    match = _REF.match(text.strip())
    if not match:
        raise Refusal(DONE_USAGE)
    evidence = _EVIDENCE_LABEL.sub("", match["rest"].strip()).strip() or None
    if evidence and len(evidence) > MAX_EVIDENCE:
        raise Refusal(f"Please keep the evidence under {MAX_EVIDENCE} characters, or share a link.")
    return int(match["ref"]), evidence


def handle_done(
    ack: Ack, command: dict, client: WebClient, context: BoltContext, respond: Respond
) -> None:
    ack()
    try:
        ref, evidence = parse_done(command.get("text") or "")
        actor = common.person(context, client, command["user_id"])
        commitment = change_commitment(
            common.engine_of(context),
            team_id=common.workspace_id(context),
            ref=ref,
            actor=actor,
            kind=EventKind.DELIVERED,
            now=common.utcnow(),
            note=evidence,
        )
    except Refusal as error:
        respond(**common.refusal(str(error)))
        return
    respond(response_type="ephemeral", **messages.changed(commitment, "Delivered, thank you:"))
    notify.delivered(client, common.engine_of(context), commitment)


def register(app: App) -> None:
    app.command("/done")(handle_done)
