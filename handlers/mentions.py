"""@Saydo mentions: how people in Slack Connect channels (no shared slash commands) take part.

`@Saydo I'll send the budget by Friday` or `@Saydo commit ...` logs a commitment with the same
grammar as `/commit`; Saydo answers in the thread. Errors go only to the person who wrote.
Slack sends the mention again when its message is edited: a message already logged is never
logged twice (the author is told privately how to change it); one that logged nothing is read
afresh. Mentions posted by apps and workflows are ignored.
"""

from __future__ import annotations

import re

from slack_bolt import App, BoltContext, Say
from slack_sdk import WebClient

from bot import blocks
from bot.blocks import commitments as messages
from bot.commitments.grammar import parse_mention_commitment
from handlers import common, notify
from handlers.commit_command import USER_ERRORS, log_draft

_HELP_ONLY = re.compile(r"^\s*(?:<@[UW][A-Z0-9]+(?:\|[^>]*)?>\s*)?(?:help\W*)?$", re.IGNORECASE)


def handle_mention(event: dict, say: Say, client: WebClient, context: BoltContext) -> None:
    if not event.get("user") or event.get("bot_id") or event.get("subtype") == "bot_message":
        return  # posted by Workflow Builder or another app: no person to answer
    text = event.get("text") or ""
    thread_ts = event.get("thread_ts") or event["ts"]
    if _HELP_ONLY.match(text):
        say(thread_ts=thread_ts, **blocks.help_message())
        return
    try:
        speaker = common.person(context, client, event["user"])
        draft = parse_mention_commitment(
            text,
            now=common.utcnow(),
            tz=speaker.tz,
            locale=speaker.locale,
            bot_user_id=context.bot_user_id,
        )
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
        client.chat_postEphemeral(
            channel=event["channel"],
            user=event["user"],
            thread_ts=thread_ts,
            **messages.problem(str(error)),
        )
        return
    if result.duplicate and event.get("edited"):
        client.chat_postEphemeral(
            channel=event["channel"],
            user=event["user"],
            thread_ts=thread_ts,
            **messages.edit_not_logged_again(result.commitment),
        )
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


def register(app: App) -> None:
    app.event("app_mention")(handle_mention)
