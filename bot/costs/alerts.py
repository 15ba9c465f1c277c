"""The over-budget note through the outbox: planned by `bot.costs.service.record_cost` once per
project and admin, rendered from the ledger as it stands when it is sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from bot.costs import blocks
from bot.costs.service import OVER_BUDGET, ledger_for_sending
from bot.outbox import Item, Send, Skip, State


def render(engine: Engine, item: Item, now: datetime) -> Send | Skip:
    found = ledger_for_sending(engine, project_id=int(item.slot_key.split(":")[1]), now=now)
    if found is None:
        return Skip(State.CANCELLED, "the project no longer exists")
    ledger, project = found
    if not project.over_budget:
        return Skip(State.CANCELLED, f"{project.ref} is back within its budget")
    return Send(
        item.channel, blocks.over_budget_note(ledger, project), f"{project.ref} over budget"
    )


RENDERERS = {OVER_BUDGET: render}
