"""Block Kit for the cost ledger: the ledger form (with the ledger as it stands), the ledger
as a message, a spend confirmation, and the private over-budget note. User text is escaped."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from bot.blocks import Block, Message, context, plain, section, text_input
from bot.costs import service
from bot.costs.service import AreaView, Ledger, ProjectView, money
from bot.text import escape_mrkdwn

View = dict[str, Any]

LEDGER_MODAL = "cost_ledger_modal"  # private_metadata: the partnership id
FIELDS = {
    service.AREA: ("cost_area", "area"),
    service.ORGANISATION: ("cost_organisation", "organisation"),
    service.BASELINE: ("cost_baseline", "baseline"),
    service.NOTE: ("cost_note", "note"),
    service.MARKET: ("cost_market", "market"),
    service.PROJECT: ("cost_project", "project"),
    service.SUPPLIER: ("cost_supplier", "supplier"),
    service.BUDGET: ("cost_budget", "budget"),
    service.START: ("cost_start", "start"),
    service.END: ("cost_end", "end"),
}
MAX_SECTION = 2900


def _percent(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.1')):,}%"


def _day(d) -> str:
    return d.strftime("%-d %b %Y")


def project_line(project: ProjectView, currency: str) -> str:
    f = project.figures
    flag = " · :warning: *over budget*" if project.over_budget else ""
    return (
        f"*{project.ref} {escape_mrkdwn(project.name)}* "
        f"(supplier {escape_mrkdwn(project.supplier_organisation)}, "
        f"{_day(project.period_start)} to {_day(project.period_end)}): "
        f"spent {money(f.spent, currency)} of {money(f.budget, currency)}; "
        f"budget to date {money(f.budget_to_date, currency)}; "
        f"projected {money(f.projected, currency)} ({_percent(f.projected_over)} against "
        f"budget){flag}"
    )


def area_text(area: AreaView, currency: str) -> str:
    lines = [f"*{escape_mrkdwn(area.name)}*"]
    for b in area.baselines:
        note = f" — {escape_mrkdwn(b.note)}" if b.note else ""
        lines.append(
            f"Baseline, {escape_mrkdwn(b.organisation)}: {money(b.annual_cost, currency)} "
            f"a year{note}"
        )
    if area.market_price is not None:
        lines.append(f"Market price: {money(area.market_price, currency)} a year")
    lines += [project_line(p, currency) for p in area.projects]
    if area.savings is not None:
        lines.append(
            f"Savings against the baseline: {money(area.savings, currency)} a year "
            f"({_percent(area.savings_percent)}), projected"
        )
    text = "\n".join(lines)
    return text if len(text) <= MAX_SECTION else text[: MAX_SECTION - 1] + "…"


def ledger_blocks(ledger: Ledger) -> list[Block]:
    if not ledger.areas:
        return [section("No costs yet. `/saydo costs` starts the ledger with a service area.")]
    return [section(area_text(a, ledger.currency)) for a in ledger.areas[:40]]


def ledger_message(ledger: Ledger) -> Message:
    name = escape_mrkdwn(ledger.partnership_name)
    return {
        "text": f"Cost ledger of {name} ({ledger.currency})",
        "blocks": [section(f"*Cost ledger of {name}* ({ledger.currency})"), *ledger_blocks(ledger)],
    }


def _input(
    field: str, label: str, element: Block, *, optional: bool = True, hint: str = ""
) -> Block:
    ids = FIELDS[field]
    block: Block = {
        "type": "input",
        "block_id": ids[0],
        "label": plain(label),
        "element": {**element, "action_id": ids[1]},
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint)
    return block


def _orgs(organisations: Sequence[str]) -> Block:
    return {
        "type": "static_select",
        "placeholder": plain("Choose an organisation"),
        "options": [{"text": plain(o[:75]), "value": o} for o in organisations[:100]],
    }


def ledger_modal(ledger: Ledger, organisations: Sequence[str], *, metadata: str) -> View:
    """The ledger as it stands, then a service area and, optionally, an organisation's
    baseline, a market price and a project to add to it."""
    current = ledger_blocks(ledger)[:20]
    return {
        "type": "modal",
        "callback_id": LEDGER_MODAL,
        "title": plain("Cost ledger"),
        "submit": plain("Save"),
        "close": plain("Close"),
        "private_metadata": metadata,
        "blocks": [
            *current,
            {"type": "divider"},
            section(f"*Add to the ledger* (amounts in {ledger.currency})"),
            _input(
                service.AREA,
                "Service area",
                text_input(max_length=service.MAX_NAME, placeholder="Home care brokerage"),
                optional=False,
                hint="An existing area's name adds to it.",
            ),
            _input(service.ORGANISATION, "Organisation (for a baseline)", _orgs(organisations)),
            _input(
                service.BASELINE,
                "Baseline: annual end-to-end cost before",
                text_input(max_length=30, placeholder="e.g. 120,000"),
            ),
            _input(
                service.NOTE,
                "How the baseline was worked out",
                text_input(
                    max_length=service.MAX_NOTE,
                    placeholder="Staff time, contracts and overheads, 2024-25",
                    multiline=True,
                ),
            ),
            _input(
                service.MARKET,
                "Market price a year (optional)",
                text_input(max_length=30, placeholder="e.g. 95,000"),
            ),
            _input(
                service.PROJECT,
                "Project",
                text_input(max_length=service.MAX_NAME, placeholder="Brokerage pilot"),
            ),
            _input(service.SUPPLIER, "Supplier (organisation)", _orgs(organisations)),
            _input(
                service.BUDGET,
                "Agreed budget for the period",
                text_input(max_length=30, placeholder="e.g. 40,000"),
            ),
            _input(service.START, "Period starts", {"type": "datepicker"}),
            _input(service.END, "Period ends", {"type": "datepicker"}),
        ],
    }


def recorded(ledger: Ledger, project: ProjectView, *, amount: Decimal, alerted: bool) -> Message:
    what = f"{project.ref} {escape_mrkdwn(project.name)}"
    lead = f"Recorded {money(amount, ledger.currency)} against {what}."
    blocks: list[Block] = [section(lead), section(project_line(project, ledger.currency))]
    if alerted:
        blocks.append(
            context(
                "It is projected over budget by more than the charter's tolerance "
                f"({ledger.tolerance_percent}%): I've told the admins of the organisations "
                "involved, privately."
            )
        )
    return {"text": lead, "blocks": blocks}


def over_budget_note(ledger: Ledger, project: ProjectView) -> Message:
    """The private note to an admin: the figures, constructively, and the review offer."""
    f, currency = project.figures, ledger.currency
    lead = (
        f"{project.ref} {escape_mrkdwn(project.name)} in {escape_mrkdwn(ledger.partnership_name)} "
        f"is projected to spend {money(f.projected, currency)} against a budget of "
        f"{money(f.budget, currency)}: {_percent(f.projected_over)} over, beyond the "
        f"{ledger.tolerance_percent}% the charter allows."
    )
    return {
        "text": lead,
        "blocks": [
            section(f":warning: {lead}"),
            section(project_line(project, currency)),
            context(
                f"This note goes privately to the admins of "
                f"{escape_mrkdwn(project.supplier_organisation)} (the supplier) and of the "
                "organisations with a baseline in this area. Agree together what changes; while "
                "it stays over budget it is on the next quarterly review's agenda."
            ),
        ],
    }


def pack_section(ledger: Ledger | None) -> list[Block]:
    """The evidence pack's costs: each area's projects against budget and savings to date."""
    if ledger is None or not ledger.areas:
        return []
    text = "*Costs against budget and baseline*\n" + "\n".join(
        area_text(a, ledger.currency) for a in ledger.areas
    )
    blocks = [section(text if len(text) <= MAX_SECTION else text[: MAX_SECTION - 1] + "…")]
    over = [p for a in ledger.areas for p in a.projects if p.over_budget]
    if over:
        agenda = "\n".join(
            f"{p.ref} {escape_mrkdwn(p.name)}: projected {_percent(p.figures.projected_over)} "
            f"over budget (supplier {escape_mrkdwn(p.supplier_organisation)})"
            for p in over[:20]
        )
        blocks.append(section(f"*On the agenda: budgets to agree again*\n{agenda}"))
    return blocks
