"""Cup-of-coffee messages: the intro, the follow-up, course-correction notes (about a member or
an objective), `/saydo coffee`."""

from __future__ import annotations

from bot.blocks import Block, Message, button, context, section
from bot.blocks.objectives import agenda_reason, summary_line
from bot.coffee.service import Answer, MyCoffee, PairingView, Pal, Starters, Tally
from bot.commitments.due_dates import describe_due
from bot.objectives.service import ObjectiveView
from bot.text import escape_mrkdwn

# Buttons on the intro and the follow-up (value: the pairing id)
MET = "coffee_met"
NOT_YET = "coffee_not_yet"
SKIP = "coffee_skip"
ANSWER_OF = {MET: Answer.MET, NOT_YET: Answer.NOT_YET, SKIP: Answer.SKIPPED}
STUCK = "What is going well, what one thing would you change, and is anything stuck?"


def _who(pal: Pal) -> str:
    return f"*{escape_mrkdwn(pal.person.name)}* ({escape_mrkdwn(pal.organisation)})"


def _names(pals: tuple[Pal, ...]) -> str:
    shown = [_who(p) for p in pals]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def answer_buttons(pairing: PairingView) -> Block:
    value = str(pairing.id)
    return {
        "type": "actions",
        "block_id": f"coffee_{value}",
        "elements": [
            button("We met", MET, value, style="primary"),
            button("Not yet", NOT_YET, value),
            button("Skip this round", SKIP, value),
        ],
    }


def intro(pairing: PairingView, starters: Starters) -> Message:
    trio = len(pairing.pals) > 2
    lead = (
        f":coffee: Time for a cup of coffee: {_names(pairing.pals)}, meet each other"
        f"{' (a trio this time)' if trio else ''}!"
    )
    ideas = []
    if starters.purpose:
        ideas.append(
            f"This partnership is here to: _{escape_mrkdwn(starters.purpose[:300])}_. "
            "What does that look like from where you each sit?"
        )
    if starters.delivered:
        who, what = starters.delivered
        ideas.append(
            f"{escape_mrkdwn(who)} recently delivered _{escape_mrkdwn(what)}_. How did it land?"
        )
    ideas.append(STUCK)
    body = "\n".join(f"• {idea}" for idea in ideas)
    return {
        "text": f"Time for a cup of coffee with your partners. {STUCK}",
        "blocks": [
            section(lead),
            section(
                "Fifteen minutes whenever suits you, in person or on a call. No agenda and no "
                "pressure: if this week is busy, that's fine.\n*Something to start with:*\n" + body
            ),
            answer_buttons(pairing),
            context("Only you and Saydo are in this conversation. Tell me when you've met."),
        ],
    }


def follow_up(pairing: PairingView) -> Message:
    lead = "A week on from your cup of coffee: did you manage to meet?"
    return {
        "text": lead,
        "blocks": [
            section(f"{lead} No pressure either way; it just helps plan the next round."),
            answer_buttons(pairing),
        ],
    }


ANSWERED = {
    Answer.MET: "met up. Lovely, thank you for making the time.",
    Answer.NOT_YET: "haven't met yet. No rush; there's still time.",
    Answer.SKIPPED: "are skipping this round. That's fine; see you next round.",
}


def answered(pairing: PairingView, by_name: str) -> Message:
    """Replaces the buttons once someone answers (everyone in the group DM sees it)."""
    text = f"Noted by {escape_mrkdwn(by_name)}: you {ANSWERED[pairing.outcome]}"
    return {"text": text, "blocks": [section(text)]}


def correction_intro(pairing: PairingView) -> Message:
    """The two people's group DM: no numbers, nothing to anyone else."""
    lead = f":coffee: An extra cup of coffee: {_names(pairing.pals)}."
    return {
        "text": lead,
        "blocks": [
            section(lead),
            section(
                "Now and then I suggest a chat between partner organisations to keep things "
                "running smoothly. How is the work going on each side, what's getting in the "
                "way, and what would help? Fifteen minutes is plenty."
            ),
            answer_buttons(pairing),
            context("Just the two of you and Saydo are in this conversation."),
        ],
    }


def objective_correction_intro(pairing: PairingView, objective: ObjectiveView) -> Message:
    """The group DM of someone of the objective's owning organisation and a partner: the
    objective's figures (every partner can see them), an invitation, no blame."""
    about = f"{objective.ref} {escape_mrkdwn(objective.title)}"
    lead = f":coffee: A cup of coffee about *{about}*: {_names(pairing.pals)}."
    return {
        "text": f"A cup of coffee about {objective.ref}, {agenda_reason(objective)}.",
        "blocks": [
            section(lead),
            section(summary_line(objective)),
            section(
                f"It's on the next quarterly review's agenda ({agenda_reason(objective)}). "
                "Before then, a friendly chat between the organisation that owns it and a "
                "partner often helps: what's getting in the way, and what could each of you "
                "do about it? It's a conversation, not a review. Fifteen minutes is plenty."
            ),
            answer_buttons(pairing),
            context(
                "Just the two of you and Saydo are in this conversation. Nothing is posted "
                "in the channel."
            ),
        ],
    }


def correction_for_member(pairing: PairingView, other: Pal, tally: Tally) -> Message:
    """The member's own numbers, shown to them alone, framed kindly."""
    ratio = f" ({round(tally.ratio * 100)}%)" if tally.ratio is not None else ""
    missed = f", and {tally.missed} missed" if tally.missed else ""
    numbers = (
        f"Over the last four weeks you kept {tally.kept} of {tally.judged} commitments "
        f"on time{ratio}{missed}."
    )
    text = (
        f"{numbers} That isn't a judgement: things get in the way. I've suggested a cup of "
        f"coffee with {_who(other)} to talk through what's been getting in the way and what "
        "would help, from either side."
    )
    return {
        "text": text,
        "blocks": [
            section(text),
            context("Only you can see these numbers. Nobody else is told them."),
        ],
    }


def correction_for_partner(pairing: PairingView, other: Pal) -> Message:
    text = (
        f"I've suggested a cup of coffee with {_who(other)}. Things have been hard to land "
        "lately, and a friendly chat could help: what's been getting in the way, and what "
        "could your organisation do to help? It's a conversation, not a review."
    )
    return {"text": text, "blocks": [section(text), context("Only you can see this.")]}


def status(mine: list[MyCoffee], *, me_id: int, tz: str) -> Message:
    """`/saydo coffee`: my current pairing (if any) and the next round, per partnership."""
    if not mine:
        text = (
            "You're not in a partnership's coffee rounds yet: they're for members of a "
            "partnership channel."
        )
        return {"text": text, "blocks": [section(text)]}
    lines = []
    for entry in mine:
        name = f"*#{escape_mrkdwn(entry.partnership.name)}*"
        when = describe_due(entry.next_round, tz=tz, has_time=True)
        parts = []
        if entry.pairing is not None:
            parts.append(f"this round you're paired with {_names(entry.pairing.others(me_id))}")
        if entry.opted_out:
            parts.append("you're opted out (`/saydo coffee on` to rejoin)")
        elif entry.paused_until:
            until = describe_due(entry.paused_until, tz=tz, has_time=False)
            parts.append(f"you're paused until {until}")
        parts.append(f"the next round is {when}")
        lines.append(f"{name}: " + "; ".join(parts) + ".")
    text = "\n".join(lines)
    return {"text": text, "blocks": [section(text)]}
