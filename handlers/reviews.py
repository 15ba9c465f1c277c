"""Quarterly reviews and lessons: `/saydo lesson`, `/saydo lessons`, and the Record the review
button and modal."""

from __future__ import annotations

import logging
from datetime import date

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import reviews as messages
from bot.blocks.modals import decode_metadata, encode_metadata
from bot.commitments.service import check_member, get_partnership
from bot.refusal import Refusal
from bot.reports import reviews
from handlers import common
from handlers.saydo_command import Subcommand

logger = logging.getLogger(__name__)

NOT_IN_A_CHANNEL = (
    "Lessons belong to a partnership: use `/saydo lesson` and `/saydo lessons` in its channel."
)


def _channel_partnership(context: BoltContext, command: dict):
    channel_id = command.get("channel_id") or ""
    if channel_id.startswith("D"):
        raise Refusal(NOT_IN_A_CHANNEL)
    return common.partnership(context, channel_id, command.get("channel_name"))


def _lesson(context: BoltContext, client: WebClient, command: dict, text: str) -> dict:
    if not text.strip():  # before any lookup: nothing to save
        raise Refusal(
            "What was the lesson? For example: `/saydo lesson share drafts a week earlier`."
        )
    partnership = _channel_partnership(context, command)
    person = common.person(context, client, command["user_id"])
    lesson = reviews.log_lesson(
        common.engine_of(context),
        partnership=partnership,
        person=person,
        text=text,
        now=common.utcnow(),
    )
    return messages.lesson_logged(lesson)


def _lessons(context: BoltContext, client: WebClient, command: dict, text: str) -> dict:
    partnership = _channel_partnership(context, command)
    engine = common.engine_of(context)
    check_member(engine, partnership=partnership, user_id=command["user_id"])
    shown, total = reviews.lessons(engine, partnership_id=partnership.id)
    return messages.lesson_list(shown, total, tz=partnership.tz)


def handle_record_button(
    ack: Ack, body: dict, client: WebClient, context: BoltContext, respond: Respond
) -> None:
    ack()
    value = str((body.get("actions") or [{}])[0].get("value") or "")
    engine = common.engine_of(context)
    try:
        partnership_id, review_date = messages.parse_record_value(value)
        partnership = get_partnership(
            engine, team_id=common.workspace_id(context), partnership_id=partnership_id
        )
        if partnership is None:
            raise Refusal("I can't find that partnership any more.")
        check_member(engine, partnership=partnership, user_id=body["user"]["id"])
        reviews.review_opens(
            engine, partnership_id=partnership_id, review_date=review_date, now=common.utcnow()
        )
    except ValueError as error:  # Refusal is a ValueError too
        text = str(error) if isinstance(error, Refusal) else "That button is out of date."
        respond(**common.refusal(text))
        return
    metadata = encode_metadata({"p": partnership_id, "d": review_date.isoformat()})
    view = messages.record_modal(partnership.name, review_date, metadata=metadata)
    try:
        client.views_open(trigger_id=body["trigger_id"], view=view)
    except SlackApiError as error:  # e.g. expired_trigger_id: Slack shows nothing, so log it
        logger.warning("Could not open the review form: %s", error.response.get("error"))


def handle_record_submission(
    ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext
) -> None:
    meta = decode_metadata(view.get("private_metadata"))
    values = view["state"]["values"]
    engine = common.engine_of(context)
    try:
        partnership_id, review_date = int(meta["p"]), date.fromisoformat(meta["d"])
        person = common.person(context, client, body["user"]["id"])
        record = reviews.record_review(
            engine,
            partnership_id=partnership_id,
            review_date=review_date,
            recorded_by=person,
            attendees=common.input_value(values, messages.ATTENDEES, "selected_users") or [],
            outcomes=common.input_value(values, messages.OUTCOMES) or "",
            decisions=common.input_value(values, messages.DECISIONS) or "",
            charter_changes=common.input_value(values, messages.CHARTER_CHANGES) or "",
            now=common.utcnow(),
        )
    except Refusal as error:
        ack(response_action="errors", errors={messages.OUTCOMES[0]: str(error)})
        return
    except (KeyError, TypeError, ValueError):
        ack(response_action="errors", errors={messages.OUTCOMES[0]: "This form is out of date."})
        return
    ack()
    try:
        client.chat_postMessage(
            channel=record.partnership.channel_id, **messages.record_message(record)
        )
    except SlackApiError as error:
        logger.warning("Could not post the review record: %s", error.response.get("error"))
        common.direct_message(
            client,
            person.user_id,
            messages.record_message(record),
        )


# `/saydo <name>` subcommands this module answers (collected by `handlers.register_all`).
SUBCOMMANDS: dict[str, Subcommand] = {
    "lesson": _lesson,
    "lessons": _lessons,
}


def register(app: App) -> None:
    app.action(messages.RECORD_BUTTON)(common.opens_form(handle_record_button))
    app.view(messages.RECORD_MODAL)(handle_record_submission)
