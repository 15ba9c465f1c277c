"""Objectives in Slack: `/saydo objective` (the form), `/saydo objectives` (the list),
`/saydo measure`, and the Record a value button and form on a reminder."""

from __future__ import annotations

import logging
import re
from datetime import date

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import objectives as blocks
from bot.blocks.modals import decode_metadata, encode_metadata
from bot.commitments.service import PartnershipRef, Refusal
from bot.objectives import service
from bot.objectives.service import Draft
from handlers import common
from handlers.saydo_command import Subcommand

logger = logging.getLogger(__name__)

IN_CHANNEL = "Objectives belong to a partnership: use this in its channel."
MEASURE_USAGE = (
    "Tell me which objective and the value: `/saydo measure O1 9.5` (or `@Saydo measure O1 "
    "9.5`), optionally with `evidence: https://example.org/dashboard` at the end."
)
_EVIDENCE = re.compile(r"^evidence\s*:?\s*", re.IGNORECASE)


def _here(context: BoltContext, command: dict) -> PartnershipRef:
    channel_id = command.get("channel_id") or ""
    if channel_id.startswith("D"):
        raise Refusal(IN_CHANNEL)
    return common.partnership(context, channel_id, command.get("channel_name"))


def parse_measure(text: str) -> tuple[int, str, str | None]:
    """`O1 9.5 evidence: link` -> (1, "9.5", "link"); friendly Refusal otherwise."""
    words = text.split(maxsplit=2)
    if len(words) < 2:
        raise Refusal(MEASURE_USAGE)
    try:
        number = service.parse_ref(words[0])
    except ValueError:
        raise Refusal(f"`{words[0]}` isn't an objective. {MEASURE_USAGE}") from None
    evidence = _EVIDENCE.sub("", words[2]).strip() if len(words) > 2 else None
    return number, words[1], evidence or None


def _objective(context: BoltContext, client: WebClient, command: dict, text: str) -> None:
    partnership = _here(context, command)
    engine = common.engine_of(context)
    actor = common.person(context, client, command["user_id"])
    organisations = service.owner_choices(engine, partnership_id=partnership.id, person=actor)
    view = blocks.objective_modal(
        partnership.name, organisations, metadata=encode_metadata({"p": partnership.id})
    )
    common.open_view(client, command["trigger_id"], view)


def _objectives(context: BoltContext, client: WebClient, command: dict, text: str) -> dict:
    partnership = _here(context, command)
    actor = common.person(context, client, command["user_id"])
    engine, now = common.engine_of(context), common.utcnow()
    found = service.list_objectives(engine, partnership_id=partnership.id, viewer=actor, now=now)
    # Their charts follow by DM, through the outbox (uploaded once each).
    service.request_charts(engine, partnership_id=partnership.id, viewer=actor, now=now)
    return blocks.objectives_list(found, partnership_name=partnership.name)


def _measure(context: BoltContext, client: WebClient, command: dict, text: str) -> dict:
    number, value, evidence = parse_measure(text)
    partnership = _here(context, command)
    engine, now = common.engine_of(context), common.utcnow()
    actor = common.person(context, client, command["user_id"])
    objective = service.find_objective(
        engine, partnership_id=partnership.id, number=number, viewer=actor, now=now
    )
    updated, achieved = service.record_measurement(
        engine, objective_id=objective.id, actor=actor, value=value, evidence=evidence, now=now
    )
    return blocks.recorded(updated, achieved=achieved)


def _picked(values: dict, field: tuple[str, str]) -> date | None:
    text = common.input_value(values, field, "selected_date")
    return date.fromisoformat(text) if text else None


def _selected(values: dict, field: tuple[str, str]) -> str:
    return str((common.input_value(values, field, "selected_option") or {}).get("value") or "")


def draft_from(values: dict) -> Draft:
    """The New objective form's state as the domain's draft."""
    f = blocks.FIELDS
    return Draft(
        title=common.input_value(values, f[service.TITLE]) or "",
        good_looks_like=common.input_value(values, f[service.GOOD]) or "",
        measure=common.input_value(values, f[service.MEASURE]) or "",
        direction=_selected(values, f[service.DIRECTION]),
        baseline_value=common.input_value(values, f[service.BASELINE_VALUE]) or "",
        baseline_date=_picked(values, f[service.BASELINE_DATE]),
        target_value=common.input_value(values, f[service.TARGET_VALUE]) or "",
        target_date=_picked(values, f[service.TARGET_DATE]),
        owner_organisation=_selected(values, f[service.OWNER]),
        cadence=_selected(values, f[service.CADENCE]) or service.DEFAULT_CADENCE,
    )


def handle_new_submission(
    ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext
) -> None:
    """Save the objective, or put each problem next to its field; then tell the channel."""

    def save():
        actor = common.person(context, client, body["user"]["id"])
        return actor, service.create_objective(
            common.engine_of(context),
            partnership_id=int(decode_metadata(view.get("private_metadata"))["p"]),
            creator=actor,
            draft=draft_from(view["state"]["values"]),
            now=common.utcnow(),
        )

    fields = {field_name: field[0] for field_name, field in blocks.FIELDS.items()}
    saved = common.saved_or_refused(ack, save, fields=fields, first=blocks.FIELDS[service.TITLE][0])
    if saved is None:
        return
    actor, objective = saved
    ack()
    message = blocks.created(objective, by_user_id=actor.user_id)
    try:
        client.chat_postMessage(channel=objective.partnership.channel_id, **message)
    except SlackApiError as error:
        logger.warning(
            "Could not announce objective %s: %s", objective.ref, error.response.get("error")
        )
        common.direct_message(client, actor.user_id, message)


def handle_record_button(
    ack: Ack, body: dict, client: WebClient, context: BoltContext, respond: Respond
) -> None:
    ack()
    value = str((body.get("actions") or [{}])[0].get("value") or "")
    engine = common.engine_of(context)
    try:
        actor = common.person(context, client, body["user"]["id"])
        objective = service.objective_for(
            engine, objective_id=int(value), viewer=actor, now=common.utcnow()
        )
    except ValueError as error:  # Refusal is a ValueError too
        text = str(error) if isinstance(error, Refusal) else "That button is out of date."
        respond(**common.refusal(text))
        return
    view = blocks.record_modal(objective, metadata=encode_metadata({"o": objective.id}))
    common.open_view(client, body["trigger_id"], view)


def handle_record_submission(
    ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext
) -> None:
    values = view["state"]["values"]
    try:
        objective_id = int(decode_metadata(view.get("private_metadata"))["o"])
        actor = common.person(context, client, body["user"]["id"])
        objective, achieved = service.record_measurement(
            common.engine_of(context),
            objective_id=objective_id,
            actor=actor,
            value=common.input_value(values, blocks.VALUE) or "",
            evidence=common.input_value(values, blocks.EVIDENCE),
            now=common.utcnow(),
        )
    except Refusal as error:
        field = blocks.EVIDENCE if "evidence" in str(error) else blocks.VALUE
        ack(response_action="errors", errors={field[0]: str(error)})
        return
    except (KeyError, TypeError, ValueError):
        ack(response_action="errors", errors={blocks.VALUE[0]: "This form is out of date."})
        return
    ack()
    common.direct_message(client, actor.user_id, blocks.recorded(objective, achieved=achieved))


# `/saydo <name>` subcommands this module answers (collected by `handlers.register_all`).
SUBCOMMANDS: dict[str, Subcommand] = {
    "objective": _objective,
    "objectives": _objectives,
    "measure": _measure,
}


def register(app: App) -> None:
    app.view(blocks.NEW_MODAL)(handle_new_submission)
    app.action(blocks.RECORD_BUTTON)(handle_record_button)
    app.view(blocks.RECORD_MODAL)(handle_record_submission)
