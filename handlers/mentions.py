"""@Saydo mentions: how people in Slack Connect channels (no shared slash commands) take part.

`@Saydo I'll send the budget by Friday` or `@Saydo commit ...` logs a commitment with the same
grammar as `/commit`; Saydo answers in the thread. Errors go only to the person who wrote.
Slack sends the mention again when its message is edited: a message already logged is never
logged twice (the author is told privately how to change it); one that logged nothing is read
afresh. Mentions posted by apps and workflows are ignored.

`@Saydo measure …` and `@Saydo cost …` do what `/saydo measure` and `/saydo cost` do (the same
subcommands, so the same parsing and replies), answered privately in the thread as the slash
commands answer privately. An edited one is never read again, so no value is recorded twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from slack_bolt import App, BoltContext, Say
from slack_sdk import WebClient

from bot import blocks
from bot.blocks import commitments as messages
from bot.commitments.grammar import CommitmentDraft, parse_mention_commitment
from bot.commitments.service import PersonRef
from bot.refusal import Refusal
from handlers import common, costs, notify, objectives
from handlers.commit_command import USER_ERRORS, log_draft
from handlers.saydo_command import Subcommand

# `/saydo` subcommands a mention can stand for (Slack Connect shares no slash commands), each
# with its parser: text that does not parse as one but does as a commitment ("@Saydo measure
# the footfall by Friday") is a commitment.
SUBCOMMANDS_BY_MENTION: dict[str, tuple[Callable[[str], object], Subcommand]] = {
    "measure": (objectives.parse_measure, objectives.SUBCOMMANDS["measure"]),
    "cost": (costs.parse_cost, costs.SUBCOMMANDS["cost"]),
}
EDITED_SUBCOMMAND = (
    "I don't read edited `@Saydo measure` or `@Saydo cost` messages, so nothing is recorded "
    "twice. To record a value or spend, post it as a new message."
)

_LEADING_MENTION = r"^\s*(?:<@[UW][A-Z0-9]+(?:\|[^>]*)?>\s*)?"
_HELP_ONLY = re.compile(_LEADING_MENTION + r"(?:help\W*)?$", re.IGNORECASE)
_SUBCOMMAND = re.compile(
    _LEADING_MENTION + rf"(?P<name>{'|'.join(SUBCOMMANDS_BY_MENTION)})\b\s*(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)


def handle_mention(event: dict, say: Say, client: WebClient, context: BoltContext) -> None:
    if not event.get("user") or event.get("bot_id") or event.get("subtype") == "bot_message":
        return  # posted by Workflow Builder or another app: no person to answer
    text = event.get("text") or ""
    thread_ts = event.get("thread_ts") or event["ts"]

    def privately(reply: dict) -> None:
        client.chat_postEphemeral(
            channel=event["channel"], user=event["user"], thread_ts=thread_ts, **reply
        )

    if _HELP_ONLY.match(text):
        say(thread_ts=thread_ts, **blocks.help_message())
        return
    try:
        speaker = common.person(context, client, event["user"])
        if subcommand := _SUBCOMMAND.match(text):
            reply = _subcommand_reply(event, client, context, speaker, subcommand)
            if reply is not None:
                privately(reply)
                return
        draft = _commitment_draft(text, speaker, context)
        result = log_draft(
            context,
            client,
            speaker,
            draft,
            channel_id=event["channel"],
            channel_name=None,
            source_text=text,
            source_ts=event["ts"],
        )
    except USER_ERRORS as error:
        privately(messages.problem(str(error)))
        return
    if result.duplicate and event.get("edited"):
        privately(messages.edit_not_logged_again(result.commitment))
        return
    if result.duplicate:
        say(
            thread_ts=thread_ts,
            **messages.confirmation(result.commitment, duplicate=True, now=common.utcnow()),
        )
        return
    if not common.post_logged(context, client, result.commitment, thread_ts=thread_ts):
        common.direct_message(
            client, event["user"], messages.confirmation(result.commitment, now=common.utcnow())
        )
    notify.logged(client, common.engine_of(context), result.commitment)


def _commitment_draft(text: str, speaker: PersonRef, context: BoltContext) -> CommitmentDraft:
    return parse_mention_commitment(
        text,
        now=common.utcnow(),
        tz=speaker.tz,
        locale=speaker.locale,
        bot_user_id=context.bot_user_id,
    )


def _subcommand_reply(
    event: dict, client: WebClient, context: BoltContext, speaker: PersonRef, found: re.Match
) -> dict | None:
    """What `/saydo <name> <rest>` answers the mention's author; None when the text is a
    commitment instead. An edit is never read again."""
    parse, subcommand = SUBCOMMANDS_BY_MENTION[found["name"].lower()]
    try:
        parse(found["rest"])
    except Refusal as usage:
        try:
            _commitment_draft(event.get("text") or "", speaker, context)
        except USER_ERRORS:
            return messages.problem(str(usage))  # neither: how to use the subcommand
        return None
    if event.get("edited"):
        return messages.problem(EDITED_SUBCOMMAND)
    as_command = {"user_id": event["user"], "channel_id": event["channel"]}
    try:
        return subcommand(context, client, as_command, found["rest"])
    except USER_ERRORS as error:
        return messages.problem(str(error))


def register(app: App) -> None:
    app.event("app_mention")(handle_mention)
