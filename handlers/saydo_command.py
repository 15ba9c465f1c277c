"""`/saydo <subcommand>`: help, move, drop, list and away; the list's Previous/Next buttons."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot import blocks
from bot.blocks import commitments as messages
from bot.blocks import ids
from bot.blocks.lists import ALL, MINE, OVERDUE, PAGE_SIZE, USER, ListFilter, commitment_list
from bot.commitments.due_dates import DueDateError, describe_due, parse_due
from bot.commitments.lifecycle import EventKind
from bot.commitments.nudges import set_away
from bot.commitments.service import (
    CommitmentView,
    Page,
    change_commitment,
    check_allowed,
    due_for_owner,
    list_commitments,
    partnerships_for,
    visible_by_ref,
)
from bot.refusal import Refusal
from handlers import common, notify

MOVE_USAGE = (
    "Tell me which commitment and its new date: `/saydo move 12 Friday`, or with a reason, "
    "`/saydo move 12 next Tuesday because finance needs another day`."
)
DROP_USAGE = (
    "Tell me which commitment to withdraw, by its number: `/saydo drop 12`, or with a reason, "
    "`/saydo drop 12 because the event was cancelled`."
)
LIST_USAGE = (
    "`/saydo list` shows your open commitments; `/saydo list @someone` theirs, "
    "`/saydo list overdue` everything past due, `/saydo list all` everything open in this channel."
)
AWAY_USAGE = (
    "`/saydo away until Monday` pauses your nudges until then; `/saydo away off` resumes them."
)
MAX_REASON = 2000

_REF = re.compile(r"^#?(?P<ref>\d{1,9})(?:\s+(?P<rest>.*))?$", re.DOTALL)
_BECAUSE = re.compile(r"(?:^|\s)because\b[\s:,-]*", re.IGNORECASE)
_MENTION = re.compile(r"^<@(?P<user>[UW][A-Z0-9]+)(?:\|[^>]*)?>$")
USER_ERRORS = (Refusal, DueDateError)


# --- parsing -------------------------------------------------------------------------------


def _split_ref(text: str, usage: str) -> tuple[int, str]:
    match = _REF.match(text.strip())
    if not match:
        raise Refusal(usage)
    return int(match["ref"]), (match["rest"] or "").strip()


def _reason(text: str) -> str | None:
    reason = text.strip() or None
    if reason and len(reason) > MAX_REASON:
        raise Refusal(f"Please keep the reason under {MAX_REASON} characters.")
    return reason


def parse_move(text: str) -> tuple[int, str, str | None]:
    """`12 Friday because X` -> (12, "Friday", "X"); friendly Refusal otherwise."""
    ref, rest = _split_ref(text, MOVE_USAGE)
    parts = _BECAUSE.split(rest, maxsplit=1)
    when = parts[0].strip()
    if not when:
        raise Refusal(f"I need the new date. {MOVE_USAGE}")
    return ref, when, _reason(parts[1]) if len(parts) > 1 else None


def parse_drop(text: str) -> tuple[int, str | None]:
    """`12 because X` (or `12 X`) -> (12, "X"); friendly Refusal otherwise."""
    ref, rest = _split_ref(text, DROP_USAGE)
    return ref, _reason(re.sub(r"^because\b[\s:,-]*", "", rest, flags=re.IGNORECASE))


def parse_list(text: str, *, user_id: str, channel_id: str) -> ListFilter:
    """`[mine|@user|overdue|all]` -> the filter; friendly Refusal otherwise."""
    words = text.split()
    if len(words) > 1:
        raise Refusal(f"I can list one thing at a time. {LIST_USAGE}")
    word = words[0] if words else MINE
    if word.lower() in (MINE, "me", "my"):
        return ListFilter(MINE, user=user_id)
    if word.lower() == OVERDUE:
        return ListFilter(OVERDUE)
    if word.lower() == ALL:
        in_channel = not channel_id.startswith("D")
        return ListFilter(ALL, channel=channel_id if in_channel else None)
    mention = _MENTION.match(word)
    if mention:
        return ListFilter(USER, user=mention["user"])
    if word.startswith("@"):
        raise Refusal(
            f"I couldn't tell who `{word}` is: pick them from Slack's @-menu. {LIST_USAGE}"
        )
    raise Refusal(f"I don't know how to list `{word}`. {LIST_USAGE}")


# --- subcommands ---------------------------------------------------------------------------

# `/saydo <name> ...`: a subcommand gets the context, client, the command payload and the text
# after the name, and returns the ephemeral reply (None when it answers in another way, e.g. by
# opening a modal). Refusal and DueDateError become friendly ephemeral refusals. Each listener
# module lists its own in SUBCOMMANDS; `handlers.register_all` hands them all to `register`.
Subcommand = Callable[[BoltContext, WebClient, dict, str], dict | None]


def _commitment(context: BoltContext, ref: int, user_id: str) -> CommitmentView:
    found = visible_by_ref(
        common.engine_of(context),
        team_id=common.workspace_id(context),
        ref=ref,
        viewer_user_id=user_id,
    )
    if found is None:
        raise Refusal(f"I can't find commitment {ref}. `/saydo list` shows yours.")
    return found


def _move(context: BoltContext, client: WebClient, command: dict, text: str) -> dict:
    user_id = command["user_id"]
    ref, when, reason = parse_move(text)
    actor = common.person(context, client, user_id)
    commitment = _commitment(context, ref, user_id)
    # Refuse (not yours, not open) before complaining about the date.
    check_allowed(
        common.engine_of(context), commitment, user_id=actor.user_id, kind=EventKind.MOVED
    )
    now = common.utcnow()
    try:
        due = parse_due(when, now=now, tz=actor.tz, locale=actor.locale)
    except DueDateError as error:
        raise Refusal(f"{error} For example: `/saydo move {ref} Friday`.") from None
    moved = change_commitment(
        common.engine_of(context),
        team_id=common.workspace_id(context),
        ref=ref,
        actor=actor,
        kind=EventKind.MOVED,
        now=now,
        due_at=due_for_owner(due, commitment.owner.tz),
        has_time=due.has_time,
        note=reason,
    )
    notify.changed_for_recipient(client, common.engine_of(context), moved, actor, "New date for")
    return messages.changed(moved, "New date for")


def _drop(context: BoltContext, client: WebClient, command: dict, text: str) -> dict:
    user_id = command["user_id"]
    ref, reason = parse_drop(text)
    actor = common.person(context, client, user_id)
    dropped = change_commitment(
        common.engine_of(context),
        team_id=common.workspace_id(context),
        ref=ref,
        actor=actor,
        kind=EventKind.WITHDRAWN,
        now=common.utcnow(),
        note=reason,
    )
    notify.changed_for_recipient(client, common.engine_of(context), dropped, actor, "Withdrawn:")
    return messages.changed(dropped, "Withdrawn:")


def _away(context: BoltContext, client: WebClient, command: dict, text: str) -> dict:
    """`away until <date>` pauses my nudges; `away off` resumes them; `away` says which."""
    actor = common.person(context, client, command["user_id"])
    now = common.utcnow()
    words = text.split(maxsplit=1)
    if not words:
        if actor.away_until and actor.away_until > now:
            until = describe_due(actor.away_until, tz=actor.tz, has_time=True)
            return messages.problem(f"You're away until {until}; your nudges are paused.")
        return messages.problem(f"You're not away. {AWAY_USAGE}")
    if words[0].lower() == "off":
        set_away(common.engine_of(context), person_id=actor.id, until=None)
        return messages.problem("Welcome back. Your nudges have resumed.")
    if words[0].lower() != "until" or len(words) < 2:
        raise Refusal(AWAY_USAGE)
    try:
        due = parse_due(words[1], now=now, tz=actor.tz, locale=actor.locale)
    except DueDateError as error:
        raise Refusal(f"{error} For example: `/saydo away until Monday`.") from None
    set_away(common.engine_of(context), person_id=actor.id, until=due.at)
    until = describe_due(due.at, tz=actor.tz, has_time=due.has_time)
    return messages.problem(
        f"You're away until {until}. I'll pause your nudges until then; "
        "`/saydo away off` ends it sooner."
    )


def _list(context: BoltContext, client: WebClient, command: dict, text: str) -> dict:
    list_filter = parse_list(text, user_id=command["user_id"], channel_id=command["channel_id"])
    return list_page(context, list_filter, 1, viewer_user_id=command["user_id"])


def list_page(
    context: BoltContext, list_filter: ListFilter, page: int, *, viewer_user_id: str
) -> dict:
    """One page of the list the filter describes, of what the viewer may see (the same for the
    command and the buttons)."""
    engine, team_id, now = common.engine_of(context), common.workspace_id(context), common.utcnow()
    query: dict = {}
    if list_filter.kind in (MINE, USER):
        query["involving_user_id"] = list_filter.user
    elif list_filter.kind == OVERDUE:
        query["overdue_only"] = True
    elif (channel := list_filter.channel) is not None:
        here = [p for p in partnerships_for(engine, team_id=team_id) if p.channel_id == channel]
        if not here:  # not a partnership yet: no commitment was ever made in this channel
            return commitment_list(Page([], 1, 1, 0), list_filter, now=now)
        query["partnership_id"] = here[0].id
    result = list_commitments(
        engine,
        team_id=team_id,
        viewer_user_id=viewer_user_id,
        now=now,
        page=page,
        page_size=PAGE_SIZE,
        **query,
    )
    return commitment_list(result, list_filter, now=now)


# --- listeners -----------------------------------------------------------------------------


def split_subcommand(text: str | None) -> tuple[str, str, str]:
    """`/saydo <name> <rest>`: (name as typed, its lower case, the rest); no text is help."""
    words = (text or "").split(maxsplit=1)
    typed = words[0] if words else "help"
    return typed, typed.lower(), words[1] if len(words) > 1 else ""


def help_answer(subcommands: Mapping[str, Subcommand]):
    """`/saydo help`, or a word that is no subcommand: the help, answered in the
    acknowledgement itself (ephemeral, no extra round trip, no database work); None for a
    subcommand, which is worked on after the acknowledgement."""

    def answer(body: Mapping) -> dict | None:
        typed, name, _rest = split_subcommand(body.get("text"))
        if name in subcommands:
            return None
        unknown = None if name == "help" else typed
        return {"response_type": "ephemeral", **blocks.help_message(unknown=unknown)}

    return answer


def handle_saydo(
    command: dict,
    client: WebClient,
    context: BoltContext,
    respond: Respond,
    subcommands: Mapping[str, Subcommand],
) -> None:
    _typed, name, rest = split_subcommand(command.get("text"))
    try:
        reply = subcommands[name](context, client, command, rest)
    except USER_ERRORS as error:
        respond(**common.refusal(str(error)))
        return
    if reply is not None:
        respond(response_type="ephemeral", replace_original=False, **reply)


def handle_list_page(
    ack: Ack, body: dict, action: dict, context: BoltContext, respond: Respond
) -> None:
    ack()
    try:
        list_filter, page = ListFilter.from_button_value(action.get("value") or "")
    except ValueError:
        respond(**common.refusal(f"That list is out of date; please ask again. {LIST_USAGE}"))
        return
    viewer = body["user"]["id"]
    if list_filter.kind == MINE:  # "mine" is whoever pressed it (only they can see the list)
        list_filter = ListFilter(MINE, user=viewer)
    respond(replace_original=True, **list_page(context, list_filter, page, viewer_user_id=viewer))


# `/saydo <name>` subcommands this module answers (collected by `handlers.register_all`).
SUBCOMMANDS: dict[str, Subcommand] = {
    "move": _move,
    "drop": _drop,
    "away": _away,
    "list": _list,
}


def register(app: App, subcommands: Mapping[str, Subcommand] = SUBCOMMANDS) -> None:
    """`/saydo` answering `subcommands` (by default only this module's own); help is answered
    in the acknowledgement (`common.answers_at_once`)."""
    table = dict(subcommands)

    def handle_saydo_command(
        command: dict, client: WebClient, context: BoltContext, respond: Respond
    ) -> None:
        handle_saydo(command, client, context, respond, table)

    app.command("/saydo")(common.answers_at_once(handle_saydo_command, help_answer(table)))
    app.action(ids.LIST_PAGE)(handle_list_page)
