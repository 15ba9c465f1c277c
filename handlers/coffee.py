"""`/saydo coffee [pause until <date> | off | on]` and the We met / Not yet / Skip buttons."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.blocks import coffee as coffee_messages
from bot.blocks import commitments as messages
from bot.coffee.service import memberships, my_coffee, record_answer
from bot.commitments.due_dates import DueDateError, describe_due, parse_due
from bot.partnerships.members import set_coffee
from bot.refusal import Refusal
from handlers import common
from handlers.saydo_command import Subcommand

COFFEE_USAGE = (
    "`/saydo coffee` shows your next cup of coffee; `/saydo coffee pause until 1 December` "
    "skips rounds until then; `/saydo coffee off` leaves the rounds and `/saydo coffee on` "
    "rejoins them."
)


def _coffee(context: BoltContext, client: WebClient, command: dict, text: str) -> dict:
    actor = common.person(context, client, command["user_id"])
    engine, now = common.engine_of(context), common.utcnow()
    channel = command.get("channel_id") or ""
    # In a partnership channel: that partnership. Anywhere else: every one I belong to.
    here = channel if memberships(engine, person_id=actor.id, channel_id=channel) else None
    words = text.split(maxsplit=1)
    if not words:
        mine = my_coffee(engine, person_id=actor.id, now=now, channel_id=here)
        return coffee_messages.status(mine, me_id=actor.id, tz=actor.tz)
    word = words[0].lower()
    partnership_ids = memberships(engine, person_id=actor.id, channel_id=here)
    if word not in ("off", "on", "pause"):
        raise Refusal(f"I don't know `coffee {words[0]}`. {COFFEE_USAGE}")
    if not partnership_ids:
        raise Refusal(
            "You're not in a partnership's coffee rounds yet: they're for members of a "
            "partnership channel."
        )
    if word in ("off", "on"):
        if len(words) > 1:
            raise Refusal(COFFEE_USAGE)
        for partnership_id in partnership_ids:
            set_coffee(
                engine,
                partnership_id=partnership_id,
                person_id=actor.id,
                opt_out=word == "off",
                paused_until=None,
            )
        if word == "off":
            return messages.problem(
                "Done: no more coffee rounds for you. `/saydo coffee on` rejoins them any time."
            )
        return messages.problem("Welcome back: you're in the next coffee round.")
    rest = words[1] if len(words) > 1 else ""
    pause = rest.split(maxsplit=1)
    if len(pause) < 2 or pause[0].lower() != "until":
        raise Refusal(COFFEE_USAGE)
    try:
        due = parse_due(pause[1], now=now, tz=actor.tz, locale=actor.locale)
    except DueDateError as error:
        raise Refusal(f"{error} For example: `/saydo coffee pause until 1 December`.") from None
    for partnership_id in partnership_ids:
        set_coffee(engine, partnership_id=partnership_id, person_id=actor.id, paused_until=due.at)
    until = describe_due(due.at, tz=actor.tz, has_time=due.has_time)
    return messages.problem(
        f"Paused: no coffee rounds for you until {until}. `/saydo coffee on` resumes sooner."
    )


def handle_answer(
    ack: Ack, body: dict, action: dict, client: WebClient, context: BoltContext, respond: Respond
) -> None:
    ack()
    try:
        actor = common.person(context, client, body["user"]["id"])
        pairing = record_answer(
            common.engine_of(context),
            pairing_id=int(action.get("value") or 0),
            person_id=actor.id,
            answer=coffee_messages.ANSWER_OF[action["action_id"]],
            now=common.utcnow(),
        )
    except (Refusal, ValueError) as error:
        respond(**common.refusal(str(error)))
        return
    respond(replace_original=True, **coffee_messages.answered(pairing, actor.name))


# `/saydo <name>` subcommands this module answers (collected by `handlers.register_all`).
SUBCOMMANDS: dict[str, Subcommand] = {
    "coffee": _coffee,
}


def register(app: App) -> None:
    for action_id in coffee_messages.ANSWER_OF:
        app.action(action_id)(handle_answer)
