"""The cost ledger: per service area, each organisation's baseline annual cost (with how it was
worked out), an optional market price, projects with an agreed budget and period, and actual
spend, append-only. Money is Decimal, never float, in the charter's currency (default GBP).

Derived figures, for a project on a given day:
- budget to date: the budget times the share of the period elapsed (days, inclusive);
- projected: the spend to date divided by that share (a straight-line forecast to the end);
- over budget: projected above the budget by more than the charter's tolerance (default 10%),
  which plans one private note to the admins of the organisations involved (the supplier's and
  those with a baseline in the area), once per project and person.
Savings for an area: the organisations' baselines added up, less its projects' projected spend
scaled to a year (365 days over each project's period), in money and as % of the baseline.

Only partnership members see or change the ledger (`bot.objectives.service.is_partner`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select

from bot.commitments.service import PersonRef
from bot.objectives.service import organisations_of
from bot.outbox.sending import Planned, enqueue
from bot.policy.charter_settings import settings_in
from bot.policy.visibility import sees_partnership
from bot.refusal import FormRefusal
from storage.db import transaction
from storage.models import (
    CostArea,
    CostBaseline,
    CostEntry,
    CostProject,
    Member,
    Partnership,
    Person,
)

OVER_BUDGET = "cost_over_budget"
CENT = Decimal("0.01")
YEAR_DAYS = Decimal(365)
MAX_NAME = 100
MAX_NOTE = 2000
MAX_PERIOD = 100
MAX_MONEY = Decimal("1000000000000")  # a trillion: anything above is a typing mistake

# Ledger form fields, named for the problems `save_ledger` reports.
AREA, ORGANISATION, BASELINE, NOTE, MARKET = "area", "organisation", "baseline", "note", "market"
PROJECT, SUPPLIER, BUDGET, START, END = "project", "supplier", "budget", "start", "end"

NOT_A_PARTNER = "The cost ledger is shared with the partnership's members only, and you aren't one."
_MONEY = re.compile(r"^[£$€]?\s*(\d{1,3}(,\d{3})+|\d+)(\.\d{1,2})?$")
_PROJECT_REF = re.compile(r"^[Pp](\d{1,6})$")


def parse_money(text: str) -> Decimal:
    """A positive amount as typed: `1250`, `£1,250.50`; at most two decimals. ValueError else."""
    cleaned = (text or "").strip()
    if not _MONEY.match(cleaned):
        raise ValueError(f"`{cleaned}` isn't an amount of money, e.g. 1,250.50")
    amount = Decimal(cleaned.lstrip("£$€").strip().replace(",", ""))
    if not 0 < amount < MAX_MONEY:
        raise ValueError("the amount must be more than zero and less than a trillion")
    return amount


def money(amount: Decimal, currency: str) -> str:
    """`GBP 1,250.50`: two decimals, rounded half up."""
    return f"{currency} {amount.quantize(CENT, rounding=ROUND_HALF_UP):,}"


@dataclass(frozen=True)
class Figures:
    spent: Decimal
    budget: Decimal
    budget_to_date: Decimal
    projected: Decimal
    share_elapsed: Decimal  # 0 to 1

    @property
    def projected_over(self) -> Decimal:
        """How far the projection exceeds the budget, in % of the budget (negative: under)."""
        return (self.projected - self.budget) / self.budget * 100

    def over_tolerance(self, tolerance_percent: int) -> bool:
        return self.projected > self.budget * (1 + Decimal(tolerance_percent) / 100)


def figures(*, budget: Decimal, start: date, end: date, spent: Decimal, today: date) -> Figures:
    """A project's derived figures on `today` (see the module docstring)."""
    days = Decimal((end - start).days + 1)
    elapsed = min(max(Decimal((today - start).days + 1), Decimal(0)), days)
    # Multiply before dividing: exact whenever the true result is (100 of 365 days of 36,500
    # is 10,000, not 9,999.999...).
    projected = spent * days / elapsed if elapsed else spent
    return Figures(spent, budget, budget * elapsed / days, projected, elapsed / days)


@dataclass(frozen=True)
class BaselineView:
    organisation: str
    annual_cost: Decimal
    note: str


@dataclass(frozen=True)
class ProjectView:
    id: int
    number: int  # P1, P2... in the order they were added
    name: str
    area: str
    supplier_organisation: str
    period_start: date
    period_end: date
    figures: Figures
    over_budget: bool  # beyond the tolerance

    @property
    def ref(self) -> str:
        return f"P{self.number}"

    @property
    def annualised(self) -> Decimal:
        days = Decimal((self.period_end - self.period_start).days + 1)
        return self.figures.projected * YEAR_DAYS / days


@dataclass(frozen=True)
class AreaView:
    name: str
    market_price: Decimal | None
    baselines: tuple[BaselineView, ...]
    projects: tuple[ProjectView, ...]

    @property
    def baseline_total(self) -> Decimal:
        return sum((b.annual_cost for b in self.baselines), Decimal(0))

    @property
    def annual_cost_now(self) -> Decimal:
        return sum((p.annualised for p in self.projects), Decimal(0))

    @property
    def savings(self) -> Decimal | None:
        if not self.baselines or not self.projects:
            return None
        return self.baseline_total - self.annual_cost_now

    @property
    def savings_percent(self) -> Decimal | None:
        if self.savings is None or not self.baseline_total:
            return None
        return self.savings / self.baseline_total * 100


@dataclass(frozen=True)
class Ledger:
    partnership_name: str
    currency: str
    tolerance_percent: int
    areas: tuple[AreaView, ...]

    def project(self, project_id: int) -> ProjectView:
        return next(p for a in self.areas for p in a.projects if p.id == project_id)


@dataclass(frozen=True)
class LedgerDraft:
    """The ledger form as typed: one service area, and optionally a baseline, a market price
    and a project in it."""

    area: str
    organisation: str = ""
    baseline: str = ""
    note: str = ""
    market: str = ""
    project: str = ""
    supplier: str = ""
    budget: str = ""
    start: date | None = None
    end: date | None = None


# --- changes ----------------------------------------------------------------------------------


def _require_partner(session, partnership_id: int, person: PersonRef) -> None:
    if not sees_partnership(session, partnership_id=partnership_id, user_id=person.user_id):
        raise FormRefusal(NOT_A_PARTNER)


def _name(text: str) -> str:
    return " ".join((text or "").split())


def _check(draft: LedgerDraft, organisations: list[str]) -> dict:
    problems: dict[str, str] = {}
    known = {o.casefold(): o for o in organisations}
    area = _name(draft.area)
    if not area or len(area) > MAX_NAME:
        problems[AREA] = f"Name the service area, in up to {MAX_NAME} characters."
    values: dict = {"area": area}
    for field, text in ((BASELINE, draft.baseline), (MARKET, draft.market), (BUDGET, draft.budget)):
        if (text or "").strip():
            try:
                values[field] = parse_money(text)
            except ValueError as error:
                problems[field] = f"{str(error)[0].upper()}{str(error)[1:]}."
    if draft.baseline.strip() or draft.note.strip():
        values[ORGANISATION] = known.get(_name(draft.organisation).casefold())
        if values[ORGANISATION] is None:
            problems[ORGANISATION] = "Whose baseline is it? Choose the organisation."
        if not draft.baseline.strip():
            problems[BASELINE] = "What did the organisation pay a year, end to end, before?"
        if len(draft.note) > MAX_NOTE:
            problems[NOTE] = f"Please keep it under {MAX_NOTE} characters."
    project = _name(draft.project)
    if project or draft.budget.strip() or draft.start or draft.end or draft.supplier:
        if not project or len(project) > MAX_NAME:
            problems[PROJECT] = f"Name the project, in up to {MAX_NAME} characters."
        values[SUPPLIER] = known.get(_name(draft.supplier).casefold())
        if values[SUPPLIER] is None:
            problems[SUPPLIER] = "Which organisation supplies it?"
        if not draft.budget.strip():
            problems[BUDGET] = "What is the agreed budget for the period?"
        if draft.start is None:
            problems[START] = "When does the budget period start?"
        if draft.end is None:
            problems[END] = "When does it end?"
        elif draft.start is not None and draft.end <= draft.start:
            problems[END] = "The period must end after it starts."
    if not problems and not ({BASELINE, MARKET} & set(values) or project):
        problems[BASELINE] = "Add a baseline, a market price or a project for this area."
    if problems:
        raise FormRefusal("Please fix: " + " ".join(problems.values()), problems)
    values["project"] = project
    return values


def save_ledger(
    engine: Engine, *, partnership_id: int, actor: PersonRef, draft: LedgerDraft, now: datetime
) -> Ledger:
    """Add to the ledger (the area is created on first use; a baseline replaces the
    organisation's earlier one in that area); returns the ledger as it now stands."""
    with transaction(engine) as session:
        _require_partner(session, partnership_id, actor)
        values = _check(draft, organisations_of(session, partnership_id))
        area = _area(session, partnership_id, values["area"], now)
        if MARKET in values:
            area.market_price = values[MARKET]
        if BASELINE in values:
            row = session.execute(
                select(CostBaseline).where(
                    CostBaseline.area_id == area.id,
                    CostBaseline.organisation == values[ORGANISATION],
                )
            ).scalar_one_or_none() or CostBaseline(
                area_id=area.id, organisation=values[ORGANISATION]
            )
            row.annual_cost, row.note = values[BASELINE], draft.note.strip()
            row.set_by_id, row.set_at = actor.id, now
            session.add(row)
        if values["project"]:
            taken = session.execute(
                select(CostProject.id).where(
                    CostProject.partnership_id == partnership_id,
                    CostProject.name == values["project"],
                )
            ).first()
            if taken:
                raise FormRefusal(
                    "There is a project with that name already.",
                    {PROJECT: "There is a project with that name already."},
                )
            session.add(
                CostProject(
                    partnership_id=partnership_id,
                    area_id=area.id,
                    name=values["project"],
                    supplier_organisation=values[SUPPLIER],
                    budget=values[BUDGET],
                    period_start=draft.start,
                    period_end=draft.end,
                    created_by_id=actor.id,
                    created_at=now,
                )
            )
        session.flush()
        return _ledger(session, partnership_id, now)


def _area(session, partnership_id: int, name: str, now: datetime) -> CostArea:
    found = session.execute(
        select(CostArea).where(CostArea.partnership_id == partnership_id)
    ).scalars()
    for area in found:
        if area.name.casefold() == name.casefold():
            return area
    area = CostArea(partnership_id=partnership_id, name=name, created_at=now)
    session.add(area)
    session.flush()
    return area


def record_cost(
    engine: Engine,
    *,
    partnership_id: int,
    actor: PersonRef,
    project: str,
    amount: str,
    period: str | None,
    evidence: str | None,
    now: datetime,
) -> tuple[Ledger, ProjectView, bool]:
    """Append actual spend to a project (by name or P-number). Returns the ledger, the project
    and whether this spend first took it over budget beyond the tolerance (then a private note
    to the admins involved is planned, once each)."""
    try:
        value = parse_money(amount)
    except ValueError as error:
        raise FormRefusal(f"{str(error)[0].upper()}{str(error)[1:]}.") from None
    period = _name(period or "") or None
    if period and len(period) > MAX_PERIOD:
        raise FormRefusal(f"Please keep the period under {MAX_PERIOD} characters.")
    evidence = (evidence or "").strip() or None
    if evidence and len(evidence) > MAX_NOTE:
        raise FormRefusal(f"Please keep the evidence under {MAX_NOTE} characters.")
    with transaction(engine) as session:
        _require_partner(session, partnership_id, actor)
        row = _find_project(session, partnership_id, project)
        before = _ledger(session, partnership_id, now).project(row.id)
        tz = session.get(Partnership, partnership_id).tz
        session.add(
            CostEntry(
                project_id=row.id,
                amount=value,
                period=period,
                spent_on=now.astimezone(ZoneInfo(tz)).date(),
                recorded_by_id=actor.id,
                recorded_at=now,
                evidence=evidence,
            )
        )
        session.flush()
        ledger = _ledger(session, partnership_id, now)
        after = ledger.project(row.id)
        alerted = after.over_budget and not before.over_budget
        if after.over_budget:  # planned once per person: the slot keys are unique
            enqueue(session, _over_budget_notes(session, partnership_id, row, now), now=now)
        return ledger, after, alerted


def _find_project(session, partnership_id: int, text: str) -> CostProject:
    rows = list(
        session.execute(
            select(CostProject)
            .where(CostProject.partnership_id == partnership_id)
            .order_by(CostProject.id)
        ).scalars()
    )
    wanted = _name(text)
    ref = _PROJECT_REF.match(wanted)
    if ref and 0 < int(ref[1]) <= len(rows):
        return rows[int(ref[1]) - 1]
    for row in rows:
        if row.name.casefold() == wanted.casefold():
            return row
    names = ", ".join(f"`{r.name}`" for r in rows[:10]) or "none yet: `/saydo costs` adds one"
    raise FormRefusal(f"I can't find the project `{wanted}`. Projects: {names}.")


def _over_budget_notes(session, partnership_id: int, project: CostProject, now: datetime):
    """One private note per admin of the supplier and of the organisations with a baseline in
    the project's area (every organisation's admins if none has one)."""
    involved = {project.supplier_organisation.casefold()} | {
        o.casefold()
        for o in session.execute(
            select(CostBaseline.organisation).where(CostBaseline.area_id == project.area_id)
        ).scalars()
    }
    admins = session.execute(
        select(Member.person_id, Member.organisation, Person.user_id)
        .join(Person, Person.id == Member.person_id)
        .where(
            Member.partnership_id == partnership_id,
            Member.active.is_(True),
            Member.is_admin.is_(True),
        )
    ).all()
    return [
        Planned(
            slot_key=f"{OVER_BUDGET}:{project.id}:{person_id}",
            kind=OVER_BUDGET,
            channel=user_id,
            due_at=now,
        )
        for person_id, organisation, user_id in admins
        if organisation.casefold() in involved
    ]


# --- reading ----------------------------------------------------------------------------------


def ledger(engine: Engine, *, partnership_id: int, viewer: PersonRef, now: datetime) -> Ledger:
    """The partnership's ledger with its derived figures, for one of its members."""
    with transaction(engine) as session:
        _require_partner(session, partnership_id, viewer)
        return _ledger(session, partnership_id, now)


def partnership_ledger(engine: Engine, *, partnership_id: int, now: datetime) -> Ledger:
    """The ledger for what Saydo posts in the partnership's own channel (the evidence pack)."""
    with transaction(engine) as session:
        return _ledger(session, partnership_id, now)


def ledger_for_sending(engine: Engine, *, project_id: int, now: datetime):
    """The ledger and the project, for an over-budget note (None if the project is gone)."""
    with transaction(engine) as session:
        row = session.get(CostProject, project_id)
        if row is None:
            return None
        found = _ledger(session, row.partnership_id, now)
        return found, found.project(project_id)


def _ledger(session, partnership_id: int, now: datetime) -> Ledger:
    """Four queries whatever the size of the ledger."""
    partnership = session.get(Partnership, partnership_id)
    settings = settings_in(session, partnership_id)
    today = now.astimezone(ZoneInfo(partnership.tz)).date()
    areas = list(
        session.execute(
            select(CostArea)
            .where(CostArea.partnership_id == partnership_id)
            .order_by(CostArea.name)
        ).scalars()
    )
    ids = [a.id for a in areas]
    baselines: dict[int, list[BaselineView]] = {i: [] for i in ids}
    for b in session.execute(
        select(CostBaseline)
        .where(CostBaseline.area_id.in_(ids))
        .order_by(CostBaseline.organisation)
    ).scalars():
        baselines[b.area_id].append(BaselineView(b.organisation, b.annual_cost, b.note))
    projects = list(
        session.execute(
            select(CostProject)
            .where(CostProject.partnership_id == partnership_id)
            .order_by(CostProject.id)
        ).scalars()
    )
    spent: dict[int, Decimal] = {p.id: Decimal(0) for p in projects}
    for project_id, amount in session.execute(
        select(CostEntry.project_id, CostEntry.amount).where(CostEntry.project_id.in_(list(spent)))
    ):
        spent[project_id] += amount
    by_area: dict[int, list[ProjectView]] = {i: [] for i in ids}
    names = {a.id: a.name for a in areas}
    for number, p in enumerate(projects, start=1):
        figs = figures(
            budget=p.budget, start=p.period_start, end=p.period_end, spent=spent[p.id], today=today
        )
        by_area[p.area_id].append(
            ProjectView(
                id=p.id,
                number=number,
                name=p.name,
                area=names[p.area_id],
                supplier_organisation=p.supplier_organisation,
                period_start=p.period_start,
                period_end=p.period_end,
                figures=figs,
                over_budget=figs.over_tolerance(settings.objective_tolerance_percent),
            )
        )
    return Ledger(
        partnership.name,
        settings.currency,
        settings.objective_tolerance_percent,
        tuple(
            AreaView(a.name, a.market_price, tuple(baselines[a.id]), tuple(by_area[a.id]))
            for a in areas
        ),
    )
