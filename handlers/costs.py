"""Costs in Slack: `/saydo costs` (the ledger form, with the ledger as it stands) and
`/saydo cost <project> <amount> [for <period>] [evidence: …]`."""

from __future__ import annotations

import logging
import re
from datetime import date

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import costs as blocks
from bot.blocks.modals import decode_metadata, encode_metadata
from bot.costs import service
from bot.costs.service import LedgerDraft
from bot.objectives.service import owner_choices
from bot.refusal import Refusal
from handlers import common
from handlers.saydo_command import Subcommand

logger = logging.getLogger(__name__)

IN_CHANNEL = "The cost ledger belongs to a partnership: use this in its channel."
COST_USAGE = (
    "Tell me the project and the amount: `/saydo cost Brokerage pilot 1,250.50` (or `@Saydo "
    "cost Brokerage pilot 1,250.50`), optionally `for November` and `evidence: invoice 42`."
)
_EVIDENCE = re.compile(r"\s*\bevidence\s*:\s*", re.IGNORECASE)
_COST = re.compile(
    r"^(?P<project>.+?)\s+(?P<amount>[£$€]?\s?[\d,]+(?:\.\d+)?)(?:\s+for\s+(?P<period>.+))?$",
    re.IGNORECASE | re.DOTALL,
)


def parse_cost(text: str) -> tuple[str, str, str | None, str | None]:
    """`Pilot 1,250 for Nov evidence: inv 42` -> ("Pilot", "1,250", "Nov", "inv 42")."""
    head, *rest = _EVIDENCE.split(text.strip(), maxsplit=1)
    match = _COST.match(head.strip())
    if not match:
        raise Refusal(COST_USAGE)
    evidence = rest[0].strip() if rest else None
    return match["project"], match["amount"], match["period"], evidence or None


def _here(context: BoltContext, command: dict):
    channel_id = command.get("channel_id") or ""
    if channel_id.startswith("D"):
        raise Refusal(IN_CHANNEL)
    return common.partnership(context, channel_id, command.get("channel_name"))


def _costs(context: BoltContext, client: WebClient, command: dict, text: str) -> None:
    partnership = _here(context, command)
    engine, now = common.engine_of(context), common.utcnow()
    actor = common.person(context, client, command["user_id"])
    current = service.ledger(engine, partnership_id=partnership.id, viewer=actor, now=now)
    view = blocks.ledger_modal(
        current,
        owner_choices(engine, partnership_id=partnership.id, person=actor),
        metadata=encode_metadata({"p": partnership.id}),
    )
    try:
        client.views_open(trigger_id=command["trigger_id"], view=view)
    except SlackApiError as error:  # e.g. expired_trigger_id: Slack shows nothing, so log it
        logger.warning("Could not open the cost ledger: %s", error.response.get("error"))


def _cost(context: BoltContext, client: WebClient, command: dict, text: str) -> dict:
    project, amount, period, evidence = parse_cost(text)
    partnership = _here(context, command)
    actor = common.person(context, client, command["user_id"])
    ledger, updated, alerted = service.record_cost(
        common.engine_of(context),
        partnership_id=partnership.id,
        actor=actor,
        project=project,
        amount=amount,
        period=period,
        evidence=evidence,
        now=common.utcnow(),
    )
    return blocks.recorded(ledger, updated, amount=service.parse_money(amount), alerted=alerted)


def _value(values: dict, field: str, key: str = "value"):
    ids = blocks.FIELDS[field]
    return ((values.get(ids[0]) or {}).get(ids[1]) or {}).get(key)


def draft_from(values: dict) -> LedgerDraft:
    def picked(field: str) -> date | None:
        text = _value(values, field, "selected_date")
        return date.fromisoformat(text) if text else None

    def selected(field: str) -> str:
        return str((_value(values, field, "selected_option") or {}).get("value") or "")

    return LedgerDraft(
        area=_value(values, service.AREA) or "",
        organisation=selected(service.ORGANISATION),
        baseline=_value(values, service.BASELINE) or "",
        note=_value(values, service.NOTE) or "",
        market=_value(values, service.MARKET) or "",
        project=_value(values, service.PROJECT) or "",
        supplier=selected(service.SUPPLIER),
        budget=_value(values, service.BUDGET) or "",
        start=picked(service.START),
        end=picked(service.END),
    )


def handle_ledger_submission(
    ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext
) -> None:
    def save():
        actor = common.person(context, client, body["user"]["id"])
        return actor, service.save_ledger(
            common.engine_of(context),
            partnership_id=int(decode_metadata(view.get("private_metadata"))["p"]),
            actor=actor,
            draft=draft_from(view["state"]["values"]),
            now=common.utcnow(),
        )

    fields = {field_name: field[0] for field_name, field in blocks.FIELDS.items()}
    saved = common.saved_or_refused(ack, save, fields=fields, first=blocks.FIELDS[service.AREA][0])
    if saved is None:
        return
    actor, ledger = saved
    ack()
    common.direct_message(client, actor.user_id, blocks.ledger_message(ledger))


# `/saydo <name>` subcommands this module answers (collected by `handlers.register_all`).
SUBCOMMANDS: dict[str, Subcommand] = {
    "costs": _costs,
    "cost": _cost,
}


def register(app: App) -> None:
    app.view(blocks.LEDGER_MODAL)(handle_ledger_submission)
