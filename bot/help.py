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


COMMANDS: tuple[CommandHelp, ...] = (CommandHelp("/saydo help", "Show this help."),)
