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
    CommandHelp(
        "/saydo coffee [pause until date | off | on]",
        "Your next cup-of-coffee pairing and round; pause the rounds until a date, "
        "leave them (`off`) or rejoin (`on`).",
    ),
    CommandHelp(
        "/saydo org [@someone [organisation]]",
        "Organisations in this partnership; someone's; or (admins) set it, "
        "e.g. `/saydo org @sam Northshire NHS Trust`.",
    ),
    CommandHelp(
        "/saydo admin [@someone]",
        "This partnership's admins; or (admins, or anyone while there is none) add one.",
    ),
    CommandHelp(
        "/saydo stats [this week|last week|this month|this quarter|from to to]",
        "Say/do figures for this channel's partnership, e.g. `/saydo stats last week` or "
        "`/saydo stats 2026-10-01 to 2026-12-31`.",
    ),
    CommandHelp(
        "/saydo setup",
        "Set up this channel's partnership: name, time zone and its first Relationship "
        "Charter (you become an admin).",
    ),
    CommandHelp(
        "/saydo charter [history]",
        "The Relationship Charter, who agreed it and when, with Propose a change; "
        "`history` lists every version and what changed.",
    ),
    CommandHelp(
        "/saydo lesson text",
        "Log a lesson learned for the quarterly review, e.g. "
        "`/saydo lesson share drafts a week before the board`.",
    ),
    CommandHelp("/saydo lessons", "The lessons logged in this partnership, newest first."),
    CommandHelp(
        "/saydo objective",
        "Set a shared, measurable objective: measure and unit, baseline, target and date, "
        "owning organisation, cadence.",
    ),
    CommandHelp(
        "/saydo objectives",
        "This partnership's objectives with latest value, target and status "
        "(on track, at risk, missed, achieved).",
    ),
    CommandHelp(
        "/saydo measure objective value [evidence: link or note]",
        "Record a value, e.g. `/saydo measure O1 9.5 evidence: https://example.org/dash`; "
        "in a shared channel, `@Saydo measure O1 9.5`.",
    ),
    CommandHelp(
        "/saydo costs",
        "The cost ledger: baselines per organisation, market price, projects with budgets, "
        "spend and savings; add to it.",
    ),
    CommandHelp(
        "/saydo cost project amount [for period] [evidence: …]",
        "Record spend, e.g. `/saydo cost Brokerage pilot 1,250.50 for November`; "
        "in a shared channel, `@Saydo cost …`.",
    ),
    CommandHelp("/saydo help", "Show this help."),
)
