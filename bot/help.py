"""What `/saydo help` tells people: the commands Saydo understands, in one list."""

from __future__ import annotations

from dataclasses import dataclass

ABOUT = (
    "Saydo keeps a shared, friendly record of what partners say they will do and whether "
    "they did it: commitments with due dates, private nudges, and say/do summaries."
)


@dataclass(frozen=True)
class CommandHelp:
    usage: str
    summary: str


COMMANDS: tuple[CommandHelp, ...] = (
    CommandHelp(
        "/commit [@owner] what by when [for @recipient]",
        "Log a commitment, e.g. `/commit send the budget by Friday for @sam`. "
        "No text opens a form.",
    ),
    CommandHelp(
        "/done ref [evidence]",
        "Mark a commitment delivered, e.g. `/done 12 sent, see https://example.org/budget`.",
    ),
    CommandHelp(
        "/saydo move ref when [because reason]",
        "Agree a new date, e.g. `/saydo move 12 next Tuesday because finance needs a day`.",
    ),
    CommandHelp(
        "/saydo drop ref [because reason]",
        "Withdraw a commitment, e.g. `/saydo drop 12 because the event was cancelled`.",
    ),
    CommandHelp(
        "/saydo list [mine|@someone|overdue|all]",
        "Open commitments: yours (the default), someone's, everything overdue, "
        "or everything in this channel.",
    ),
    CommandHelp(
        "/saydo away until date | off",
        "Pause your private nudges while you're away, e.g. `/saydo away until Monday`.",
    ),
    CommandHelp("/saydo help", "Show this help."),
)
