"""The playground's rendering: Saydo's own Block Kit (every builder in `bot.blocks`) as HTML
that keeps the data-attribute contract, safe against injected markup, and the payloads the
browser's answers become: `view.state.values` as Saydo's handlers read it, and block actions.

The HTML is parsed with `html.parser`, which also checks that every element is closed."""

from __future__ import annotations

import importlib
import inspect
import json
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest

from bot.blocks import charter as charter_blocks
from bot.blocks import coffee as coffee_blocks
from bot.blocks import commitments as commitment_blocks
from bot.blocks import help_message, plain, section
from bot.blocks import lists as list_blocks
from bot.blocks import members as member_blocks
from bot.blocks import modals as forms
from bot.blocks import nudges as nudge_blocks
from bot.blocks import reports as report_blocks
from bot.blocks import reviews as review_blocks
from bot.charter.service import DEFAULT_CHARTER, Agreement, Charter, ProposalView, describe_changes
from bot.coffee.service import REGULAR, Answer, MyCoffee, PairingView, Pal, Starters
from bot.coffee.service import Tally as CoffeeTally
from bot.commitments.lifecycle import Status
from bot.commitments.service import Page, PartnershipRef
from bot.objectives.service import MeasurementView, ObjectiveView
from bot.objectives.service import Status as ObjectiveStatus
from bot.partnerships.members import MemberView
from bot.playground.render import (
    block_action,
    block_id_of,
    fallback_text,
    message_html,
    mrkdwn_to_html,
    plain_to_html,
    view_html,
    view_state,
)
from bot.policy.charter_settings import BY_PERSON, CharterSettings
from bot.reports.figures import (
    Ahead,
    Calendar,
    Figures,
    HomeData,
    Item,
    Line,
    Owner,
    PersonRatios,
    Tally,
)
from bot.reports.reviews import LessonView, Listed, OrganisationFigures, Pack, RecordView
from bot.reports.summaries import Weekly
from handlers.charter import read_draft
from handlers.common import input_value
from handlers.modals import _due_field
from tests.test_modals import ALICE, BOB, HOUSING, NOW, commitment

SCHOOLS = PartnershipRef(2, "T0001", "C0SCHOOLS", "schools", "Europe/London")
COUNCIL, TRUST = "Riverside Council", "Northshire NHS Trust"
NAMES = {"U0ALICE": "Alice Adams", "U0BOB": "Bob Brown", "C0PARTNER": "housing-partnership"}
USERS = [("U0ALICE", "Alice Adams"), ("U0BOB", "Bob Brown"), ("U0CAROL", "Carol Chen")]
# Typed by a person: Saydo escapes it, so it must show exactly like this, pinging nobody.
TRICKY_TITLE = "Send the <!channel> budget & <https://evil.example|notes>"


# --- reading the HTML ----------------------------------------------------------------------

VOID = frozenset({"br", "hr", "img", "input", "meta", "link", "source", "wbr"})


@dataclass(eq=False)
class Node:
    tag: str
    attrs: dict[str, str | None]
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.walk()

    def find_all(
        self, tag: str | None = None, *, cls: str | None = None, where: Mapping[str, str] = {}
    ) -> list[Node]:
        return [
            node
            for node in self.walk()
            if node is not self
            and (tag is None or node.tag == tag)
            and (cls is None or cls in node.classes())
            and all(node.attrs.get(k) == v for k, v in where.items())
        ]

    def one(self, tag: str | None = None, **criteria) -> Node:
        found = self.find_all(tag, **criteria)
        assert len(found) == 1, f"expected one <{tag or '*'}> {criteria}, found {len(found)}"
        return found[0]

    def action(self) -> dict:
        return json.loads(self.attrs["data-action"])


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.open = [self.root]

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs))
        self.open[-1].children.append(node)
        if tag not in VOID:
            self.open.append(node)

    def handle_startendtag(self, tag, attrs):
        self.open[-1].children.append(Node(tag, dict(attrs)))

    def handle_endtag(self, tag):
        assert self.open[-1].tag == tag, f"</{tag}> closes <{self.open[-1].tag}>"
        self.open.pop()

    def handle_data(self, data):
        self.open[-1].children.append(data)


def parse(markup: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(markup)
    builder.close()
    assert len(builder.open) == 1, f"<{builder.open[-1].tag}> is never closed"
    return builder.root


def browser_values(form: Node) -> dict[str, dict[str, list[str]]]:
    """What a browser's form controls hold, as the page's JavaScript collects them."""
    submitted: dict[str, dict[str, list[str]]] = {}
    for node in form.walk():
        if "data-action-id" not in node.attrs:
            continue
        values = submitted.setdefault(node.attrs["data-block-id"], {}).setdefault(
            node.attrs["data-action-id"], []
        )
        if node.tag == "textarea":
            values.append(node.text().removeprefix("\n"))  # as the browser's parser does
        elif node.tag == "select":
            options = node.find_all("option")
            chosen = [o for o in options if "selected" in o.attrs]
            if not chosen and "multiple" not in node.attrs:
                chosen = options[:1]
            values += [o.attrs["value"] for o in chosen]
        elif node.attrs.get("type") in ("checkbox", "radio"):
            if "checked" in node.attrs:
                values.append(node.attrs["value"])
        else:
            values.append(node.attrs.get("value") or "")
    return submitted


def control(tree: Node, field: tuple[str, str]) -> Node:
    return tree.one(where={"data-block-id": field[0], "data-action-id": field[1]})


def selected(select: Node) -> list[str]:
    return [o.attrs["value"] for o in select.find_all("option") if "selected" in o.attrs]


# --- Saydo's own builders, with plausible data ---------------------------------------------


ADOPTED = Charter(
    1,
    "Keep <each other> informed & say so early",
    "Be kind",
    "",
    CharterSettings(holiday_calendars={TRUST: "GB"}, summary_visibility=BY_PERSON),
    "Alice (Riverside Council)",
    adopted_at=NOW,
    change_summary="Purpose and shared objectives set\nBehaviours set",
)
MEMBERS = [
    MemberView(ALICE, COUNCIL, True, True, False, None),
    MemberView(BOB, TRUST, False, True, False, None),
]
PAIRING = PairingView(
    9, "2026-12-01", REGULAR, NOW, HOUSING,
    (Pal(ALICE, COUNCIL), Pal(BOB, TRUST)), "G0COFFEE", Answer.MET, 1, NOW,
)  # fmt: skip
ALICE_OWNER = Owner(1, "U0ALICE", "Alice", COUNCIL)
OBJECTIVE = ObjectiveView(
    3, HOUSING, 2, "Fewer <delayed> transfers", "", "days waiting", False,
    Decimal(20), date(2026, 10, 1), Decimal(10), date(2026, 12, 31), COUNCIL, "monthly",
    (MeasurementView(Decimal(19), date(2026, 11, 2), "Alice", "U0ALICE", NOW, None),),
    ObjectiveStatus.AT_RISK, 10, 2, None, 0,
)  # fmt: skip
REVIEW_DAY = date(2027, 1, 15)


def proposal(state: str) -> ProposalView:
    draft = replace(ADOPTED.draft, purpose="A new <!here> purpose")
    return ProposalView(
        id=5,
        partnership_id=HOUSING.id,
        channel_id=HOUSING.channel_id,
        message_ts=None,
        base_version=1,
        proposed_by="Alice",
        draft=draft,
        changes=tuple(describe_changes(ADOPTED.draft, draft)),
        state=state,
        agreements=(Agreement("Alice", COUNCIL, NOW),),
        organisations=(COUNCIL, TRUST),
        adopted_version=2 if state == "adopted" else None,
        created_at=NOW,
    )


def figures() -> Figures:
    good = Tally(kept=4, early=1)
    council = Line(COUNCIL, good, trend=(Tally(kept=1), Tally(kept=2)))
    trust = Line(TRUST, Tally(kept=1, late=1, missed=1, withdrawn=1, pending=1))
    person = Line("Alice", good, trend=(Tally(kept=1), Tally(kept=1)), owner=ALICE_OWNER)
    withdrawn = Item(3, "Book the <room>", ALICE_OWNER, NOW)
    return Figures(
        partnership_id=1,
        start=NOW - timedelta(days=7),
        end=NOW,
        now=NOW,
        total=Line("All", good + trust.tally),
        organisations=(council, trust),
        people=(person,),
        withdrawn=(withdrawn,),
        trend_starts=(NOW - timedelta(days=14), NOW - timedelta(days=7)),
    )


def weekly() -> Weekly:
    late = Item(4, "Send the minutes", ALICE_OWNER, NOW - timedelta(days=2))
    soon = Item(5, "Draft the plan", ALICE_OWNER, NOW + timedelta(days=2))
    london = ZoneInfo("Europe/London")
    return Weekly(
        partnership=HOUSING,
        settings=CharterSettings(summary_visibility=BY_PERSON),
        figures=figures(),
        ahead=Ahead(
            overdue=(Line(COUNCIL, Tally(missed=1)),),
            overdue_people=(),
            overdue_items=(late,),
            overdue_total=2,
            due_soon=(Line(TRUST, Tally(pending=1)),),
            due_soon_items=(soon,),
            due_soon_total=1,
        ),
        calendar=Calendar(NOW + timedelta(days=3), NOW + timedelta(days=40)),
        week_start_local=datetime(2026, 11, 23, tzinfo=london),
        week_end_local=datetime(2026, 11, 30, tzinfo=london),
    )


def home_data(**changes) -> HomeData:
    data = HomeData(
        user_id="U0ALICE",
        tz="Europe/London",
        partnerships=[HOUSING, SCHOOLS],
        selected=HOUSING,
        open_items=[commitment(), commitment(ref=8, status=Status.PROPOSED)],
        open_total=4,
        owed=[commitment(ref=9, owner=BOB, recipient=ALICE, title="Share the <data>")],
        owed_total=2,
        ratios=PersonRatios(Tally(kept=2), Tally(kept=3, late=1)),
        calendar=Calendar(NOW + timedelta(days=3), NOW + timedelta(days=40)),
        now=NOW,
    )
    return replace(data, **changes)


def pack() -> Pack:
    lesson = LessonView(1, "Ask early & <often>", ALICE, COUNCIL, NOW)
    listed = Listed(3, "Fix the <form>", TRUST, NOW)
    return Pack(
        partnership=HOUSING,
        review_date=REVIEW_DAY,
        start=datetime(2026, 10, 15, tzinfo=UTC),
        end=datetime(2027, 1, 15, tzinfo=UTC),
        previous_start=datetime(2026, 7, 15, tzinfo=UTC),
        target=0.85,
        total=Tally(kept=8, late=1, missed=1, withdrawn=1, pending=2),
        previous_total=Tally(kept=5, late=2),
        organisations=(OrganisationFigures(COUNCIL, Tally(kept=5), Tally(kept=3, late=1)),),
        missed=(listed,),
        missed_count=3,
        renegotiated=(listed,),
        renegotiated_count=1,
        coffee_rounds=3,
        coffees_held=2,
        coffees_planned=4,
        pairs_met=((COUNCIL, TRUST),),
        lessons=(lesson,),
        lessons_count=1,
        charter_version=1,
        open_proposals=((5, NOW),),
        open_proposals_count=1,
    )


def record(proposal_id: int | None) -> RecordView:
    return RecordView(
        4, HOUSING, REVIEW_DAY, ALICE, ("U0ALICE", "U0BOB"), "We <kept> most", "More coffee",
        "Cadence: monthly", proposal_id, NOW,
    )  # fmt: skip


def builds() -> list[tuple[Callable, str, dict]]:
    """(builder, variant, what it built) for every Block Kit builder in `bot.blocks`."""
    opened = commitment()
    proposed = commitment(status=Status.PROPOSED, created_by=BOB)
    delivered = commitment(status=Status.DELIVERED, evidence="Sent, see <https://x.org|it> & all")
    away = commitment(owner=replace(ALICE, away_until=NOW + timedelta(days=3)))
    mine = list_blocks.ListFilter(list_blocks.MINE, user="U0ALICE")
    lesson = LessonView(1, "Ask early\nand <often>", ALICE, COUNCIL, NOW)
    c, m = commitment_blocks, member_blocks
    return [
        (help_message, "plain", help_message()),
        (help_message, "unknown", help_message(unknown="<frobnicate>")),
        (c.confirmation, "open", c.confirmation(opened, now=NOW)),
        (c.confirmation, "proposed", c.confirmation(proposed, now=NOW)),
        (c.confirmation, "duplicate", c.confirmation(opened, duplicate=True, now=NOW)),
        (c.confirmation, "away", c.confirmation(away, now=NOW)),
        (c.edit_not_logged_again, "open", c.edit_not_logged_again(opened)),
        (c.logged_as_it_stands, "open", c.logged_as_it_stands(opened)),
        (c.logged_as_it_stands, "delivered", c.logged_as_it_stands(delivered)),
        (c.proposal_for_owner, "", c.proposal_for_owner(proposed)),
        (c.proposal_answered, "", c.proposal_answered(opened, "accepted")),
        (c.delivered_for_recipient, "", c.delivered_for_recipient(delivered)),
        (c.delivery_judged, "received", c.delivery_judged(opened, received=True, note=None)),
        (c.delivery_judged, "not yet", c.delivery_judged(opened, received=False, note="<b>?")),
        (c.changed, "delivered", c.changed(delivered, "Delivered, thank you:")),
        (c.changed, "moved", c.changed(opened, "New date for")),
        (c.problem, "", c.problem("I can't find commitment 99. `/saydo list` shows yours.")),
        (list_blocks.commitment_list, "empty", list_blocks.commitment_list(
            Page([], 1, 1, 0), list_blocks.ListFilter(list_blocks.OVERDUE), now=NOW)),
        (list_blocks.commitment_list, "page 2 of 3", list_blocks.commitment_list(
            Page([opened, proposed], 2, 3, 25), mine, now=NOW)),
        (m.organisation_set, "", m.organisation_set("U0BOB", "<Trust> & co")),
        (m.organisation_of, "", m.organisation_of("U0BOB", TRUST)),
        (m.organisations_here, "none", m.organisations_here([])),
        (m.organisations_here, "two", m.organisations_here([COUNCIL, TRUST])),
        (m.admin_made, "", m.admin_made("U0BOB")),
        (m.admins_here, "none", m.admins_here([])),
        (m.admins_here, "two", m.admins_here(["U0ALICE", "U0BOB"])),
        *(
            (nudge_blocks.nudge, slot, nudge_blocks.nudge(opened, slot=slot, now=NOW))
            for slot in ("before", "due", "snoozed", "overdue-1", "overdue-4")
        ),
        (nudge_blocks.cant_deliver_modal, "", nudge_blocks.cant_deliver_modal(opened)),
        (charter_blocks.setup_modal, "defaults", charter_blocks.setup_modal(
            name="housing", tz="Europe/Oslo", charter=DEFAULT_CHARTER, members=MEMBERS,
            channel_id="C0PARTNER")),
        (charter_blocks.propose_modal, "from review", charter_blocks.propose_modal(
            charter=ADOPTED, organisations=[COUNCIL, TRUST], partnership_id=1,
            review=(4, "Meet <monthly>"))),
        (charter_blocks.charter_message, "defaults", charter_blocks.charter_message(
            DEFAULT_CHARTER, partnership_id=1, name="housing", tz="UTC")),
        (charter_blocks.charter_message, "adopted", charter_blocks.charter_message(
            ADOPTED, partnership_id=1, name="<!channel>", tz="UTC")),
        (charter_blocks.setup_announcement, "", charter_blocks.setup_announcement(
            ADOPTED, by="Alice", partnership_id=1, name="housing", tz="UTC")),
        *(
            (charter_blocks.proposal_message, state,
             charter_blocks.proposal_message(proposal(state)))
            for state in ("open", "adopted", "superseded")
        ),
        (charter_blocks.history_message, "none", charter_blocks.history_message(
            [], name="housing", tz="UTC")),
        (charter_blocks.history_message, "one", charter_blocks.history_message(
            [ADOPTED], name="housing", tz="UTC")),
        (coffee_blocks.intro, "", coffee_blocks.intro(
            PAIRING, Starters("Better <housing>", ("Bob", "the report")))),
        (coffee_blocks.follow_up, "", coffee_blocks.follow_up(PAIRING)),
        (coffee_blocks.answered, "", coffee_blocks.answered(PAIRING, "Bob")),
        (coffee_blocks.correction_intro, "", coffee_blocks.correction_intro(PAIRING)),
        (coffee_blocks.objective_correction_intro, "", coffee_blocks.objective_correction_intro(
            PAIRING, OBJECTIVE)),
        (coffee_blocks.correction_for_member, "", coffee_blocks.correction_for_member(
            PAIRING, Pal(BOB, TRUST), CoffeeTally(kept=1, late=1, missed=2))),
        (coffee_blocks.correction_for_partner, "", coffee_blocks.correction_for_partner(
            PAIRING, Pal(ALICE, COUNCIL))),
        (coffee_blocks.status, "none", coffee_blocks.status([], me_id=1, tz="UTC")),
        (coffee_blocks.status, "paired", coffee_blocks.status(
            [MyCoffee(HOUSING, PAIRING, NOW + timedelta(days=14), False, NOW)],
            me_id=1, tz="Europe/London")),
        (report_blocks.weekly_summary, "", report_blocks.weekly_summary(weekly())),
        (report_blocks.stats_message, "", report_blocks.stats_message(
            figures(), CharterSettings(summary_visibility=BY_PERSON), label="last week",
            partnership=HOUSING)),
        (report_blocks.home_view, "two partnerships", report_blocks.home_view(home_data())),
        (report_blocks.home_view, "nothing yet", report_blocks.home_view(
            home_data(selected=None, partnerships=[]))),
        (review_blocks.reminder, "today", review_blocks.reminder(pack(), days_before=0)),
        (review_blocks.reminder, "in 7 days", review_blocks.reminder(pack(), days_before=7)),
        (review_blocks.record_modal, "", review_blocks.record_modal(
            "housing", REVIEW_DAY, metadata="{}")),
        (review_blocks.record_message, "to propose", review_blocks.record_message(record(None))),
        (review_blocks.record_message, "proposed", review_blocks.record_message(record(5))),
        (review_blocks.lesson_logged, "", review_blocks.lesson_logged(lesson)),
        (review_blocks.lesson_list, "none", review_blocks.lesson_list([], 0, tz="UTC")),
        (review_blocks.lesson_list, "some", review_blocks.lesson_list([lesson], 3, tz="UTC")),
        (forms.create_modal, "in a channel", forms.create_modal(owner_id="U0ALICE", metadata="{}")),
        (forms.create_modal, "in a DM, from a message", forms.create_modal(
            owner_id="U0ALICE", metadata="{}", title="Send the budget",
            partnerships=[HOUSING, SCHOOLS], source_permalink="https://x.slack.com/p1")),
        (forms.deliver_modal, "", forms.deliver_modal(opened, metadata="{}")),
        (forms.move_modal, "move", forms.move_modal(opened, metadata="{}")),
        (forms.move_modal, "propose", forms.move_modal(
            proposed, metadata="{}", mode=forms.PROPOSE)),
        (forms.dispute_modal, "", forms.dispute_modal(opened, metadata="{}")),
    ]  # fmt: skip


BUILDS = builds()
MESSAGES = [b for b in BUILDS if "type" not in b[2]]
VIEWS = [b for b in BUILDS if "type" in b[2]]


def build_id(build: tuple[Callable, str, dict]) -> str:
    builder, variant, _ = build
    name = f"{builder.__module__.removeprefix('bot.')}.{builder.__name__}"
    return f"{name}[{variant}]" if variant else name


def built(builder: Callable, variant: str = "") -> dict:
    return next(out for b, v, out in BUILDS if b is builder and v == variant)


def buttons_of(blocks: list[dict]) -> Iterator[tuple[str, dict]]:
    """(effective block id, button) for every button in the blocks."""
    for index, block in enumerate(blocks):
        elements = block.get("elements", []) if block["type"] == "actions" else []
        elements = [*elements, *([block["accessory"]] if "accessory" in block else [])]
        for element in elements:
            if element["type"] == "button":
                yield block_id_of(block, index), element


def test_every_builder_in_bot_blocks_is_rendered_here():
    """A new builder joins `builds()`, so the playground is known to show it."""
    modules = ["bot.blocks"] + [f"bot.blocks.{name}" for name in (
        "charter", "coffee", "commitments", "lists", "members", "modals", "nudges", "reports",
        "reviews")]  # fmt: skip
    builders = {
        f"{module}.{name}"
        for module in modules
        for name, function in inspect.getmembers(importlib.import_module(module))
        if inspect.isfunction(function)
        and function.__module__ == module
        and not name.startswith("_")
        and (
            function.__annotations__.get("return") in ("Message", "View")
            or name.endswith(("_modal", "_view"))
        )
    }
    rendered = {f"{builder.__module__}.{builder.__name__}" for builder, _, _ in BUILDS}
    assert builders - rendered == set()
    assert len(builders) >= 40


# --- every message and view ----------------------------------------------------------------


@pytest.mark.parametrize("build", MESSAGES, ids=build_id)
def test_every_message_shows_each_block_and_its_buttons(build):
    message = build[2]
    tree = parse(message_html(message, names=NAMES))
    assert tree.one(cls="bk-message")
    assert tree.find_all(cls="bk-unsupported") == []
    wrappers = tree.find_all(cls="bk-block")
    assert [w.attrs["data-block-id"] for w in wrappers] == [
        block_id_of(block, index) for index, block in enumerate(message["blocks"])
    ]
    for wrapper, block in zip(wrappers, message["blocks"], strict=True):
        assert f"bk-{block['type']}" in wrapper.classes()
        if block["type"] in ("section", "header"):
            assert wrapper.text().strip()
    assert "<@" not in tree.text()  # every mention shows a name

    rendered = tree.find_all("button", cls="bk-button")
    expected = list(buttons_of(message["blocks"]))
    assert [(node.action(), node.text()) for node in rendered] == [
        (
            {
                "block_id": block_id,
                "action_id": b["action_id"],
                "type": "button",
                "value": b["value"],
            },
            b["text"]["text"],
        )
        for block_id, b in expected
    ]
    for node, (block_id, button) in zip(rendered, expected, strict=True):
        assert ("bk-primary" in node.classes()) == (button.get("style") == "primary")
        action = node.action()
        payload = block_action(
            message["blocks"], block_id=block_id, action_id=action["action_id"], value=None
        )
        assert payload["value"] == button["value"]
        assert payload["text"] == button["text"]


@pytest.mark.parametrize("build", VIEWS, ids=build_id)
def test_every_view_shows_its_inputs_as_form_controls(build):
    view = build[2]
    tree = parse(view_html(view, names=NAMES, users=USERS))
    assert tree.find_all(cls="bk-unsupported") == []
    if view["type"] == "home":
        assert tree.one(cls="bk-home")
        return
    form = tree.one("form", cls="bk-modal")
    assert form.one("h2", cls="bk-modal-title").text() == view["title"]["text"]
    assert form.one("button", cls="bk-submit").text() == view["submit"]["text"]
    assert form.one("button", cls="bk-close").attrs["type"] == "button"
    inputs = [(i, b) for i, b in enumerate(view["blocks"]) if b["type"] == "input"]
    assert inputs
    for index, block in inputs:
        block_id, element = block_id_of(block, index), block["element"]
        wrapper = form.one(cls="bk-input", where={"data-block-id": block_id})
        label = wrapper.one("label", cls="bk-label").text()
        assert label.startswith(block["label"]["text"])
        assert label.endswith("(optional)") == bool(block.get("optional"))
        controls = wrapper.find_all(where={"data-action-id": element["action_id"]})
        assert controls
        assert {c.attrs["data-kind"] for c in controls} == {element["type"]}
        assert {c.attrs["data-block-id"] for c in controls} == {block_id}
        if element["type"] not in ("checkboxes", "radio_buttons"):
            assert ("required" in controls[0].attrs) == (not block.get("optional"))
        if "hint" in block:
            assert wrapper.one(cls="bk-hint").text() == block["hint"]["text"]
    # Submitted as the browser has it, every input is there and the shapes are Slack's.
    state = view_state(view, browser_values(form))
    assert list(state) == [block_id_of(b, i) for i, b in inputs]


# --- the commitment form and its handler ---------------------------------------------------


def test_the_commitment_form_shows_each_input_with_its_kind_and_initial_value():
    view = built(forms.create_modal, "in a DM, from a message")
    tree = parse(view_html(view, names=NAMES, users=USERS))
    title = control(tree, forms.TITLE)
    assert (title.tag, title.attrs["type"], title.attrs["value"]) == (
        "input",
        "text",
        "Send the budget",
    )
    assert title.attrs["maxlength"] == "300"
    assert title.attrs["placeholder"] == "Send the draft budget to finance"
    due = control(tree, forms.DUE_DATE)
    assert (due.attrs["type"], due.attrs["data-kind"]) == ("date", "datepicker")
    due_time = control(tree, forms.DUE_TIME)
    assert (due_time.attrs["type"], "required" in due_time.attrs) == ("time", False)
    owner = control(tree, forms.OWNER)
    assert (owner.tag, owner.attrs["data-kind"]) == ("select", "users_select")
    assert [o.text() for o in owner.find_all("option")] == ["Choose someone", *dict(USERS).values()]
    assert selected(owner) == ["U0ALICE"]
    recipient = control(tree, forms.RECIPIENT)
    assert selected(recipient) == [""]
    assert recipient.find_all("option")[0].text() == "Nobody in particular"
    notes = control(tree, forms.NOTES)
    assert (notes.tag, notes.attrs["maxlength"]) == ("textarea", "2000")
    partnership = control(tree, forms.PARTNERSHIP)
    assert [(o.attrs["value"], o.text()) for o in partnership.find_all("option")] == [
        ("", "Choose a partnership"),
        ("1", "housing"),
        ("2", "schools"),
    ]
    link = tree.one("a", where={"href": "https://x.slack.com/p1"})
    assert (link.text(), link.attrs["target"], link.attrs["rel"]) == (
        "this message",
        "_blank",
        "noopener",
    )


def test_the_commitment_form_submits_exactly_what_the_handler_reads():
    view = built(forms.create_modal, "in a DM, from a message")
    submitted = browser_values(parse(view_html(view, names=NAMES, users=USERS)))
    submitted[forms.TITLE[0]][forms.TITLE[1]] = ["Send the draft budget"]
    submitted[forms.DUE_DATE[0]][forms.DUE_DATE[1]] = ["2026-12-14"]
    submitted[forms.RECIPIENT[0]][forms.RECIPIENT[1]] = ["U0BOB"]
    submitted[forms.NOTES[0]][forms.NOTES[1]] = ["First line\r\nsecond line"]
    submitted[forms.PARTNERSHIP[0]][forms.PARTNERSHIP[1]] = ["2"]

    values = view_state(view, submitted)

    assert values == {
        forms.PARTNERSHIP[0]: {
            forms.PARTNERSHIP[1]: {
                "type": "static_select",
                "selected_option": {"text": plain("schools"), "value": "2"},
            }
        },
        forms.TITLE[0]: {
            forms.TITLE[1]: {"type": "plain_text_input", "value": "Send the draft budget"}
        },
        forms.DUE_DATE[0]: {
            forms.DUE_DATE[1]: {"type": "datepicker", "selected_date": "2026-12-14"}
        },
        forms.DUE_TIME[0]: {forms.DUE_TIME[1]: {"type": "timepicker", "selected_time": None}},
        forms.OWNER[0]: {forms.OWNER[1]: {"type": "users_select", "selected_user": "U0ALICE"}},
        forms.RECIPIENT[0]: {
            forms.RECIPIENT[1]: {"type": "users_select", "selected_user": "U0BOB"}
        },
        forms.NOTES[0]: {
            forms.NOTES[1]: {"type": "plain_text_input", "value": "First line\nsecond line"}
        },
    }
    # ... which Saydo's handler reads as it reads Slack's.
    errors: dict[str, str] = {}
    due = _due_field(values, "Europe/London", NOW, errors)
    assert errors == {}
    assert due == (datetime(2026, 12, 14, 23, 59, 59, tzinfo=UTC), False)
    assert input_value(values, forms.TITLE) == "Send the draft budget"
    assert input_value(values, forms.RECIPIENT, "selected_user") == "U0BOB"
    assert input_value(values, forms.PARTNERSHIP, "selected_option")["value"] == "2"


def test_an_untouched_form_sends_null_for_its_empty_inputs():
    view = built(forms.create_modal, "in a channel")
    values = view_state(view, browser_values(parse(view_html(view, names=NAMES, users=USERS))))
    assert values[forms.TITLE[0]][forms.TITLE[1]] == {"type": "plain_text_input", "value": None}
    assert values[forms.RECIPIENT[0]][forms.RECIPIENT[1]] == {
        "type": "users_select",
        "selected_user": None,
    }
    errors: dict[str, str] = {}
    assert _due_field(values, "Europe/London", NOW, errors) is None
    assert errors == {forms.DUE_DATE[0]: "Please pick a date."}


def test_the_move_form_starts_at_the_current_date_and_time_in_the_owners_zone():
    view = built(forms.move_modal, "move")
    tree = parse(view_html(view, names=NAMES, users=USERS))
    assert control(tree, forms.DUE_DATE).attrs["value"] == "2026-12-12"
    assert control(tree, forms.DUE_TIME).attrs["value"] == "15:00"
    assert "Send the <!channel> budget" in tree.one(cls="bk-section").text()
    values = view_state(view, browser_values(tree))
    assert values[forms.DUE_TIME[0]][forms.DUE_TIME[1]]["selected_time"] == "15:00"


def test_the_review_record_form_sends_the_chosen_attendees():
    view = built(review_blocks.record_modal)
    tree = parse(view_html(view, names=NAMES, users=USERS))
    attendees = control(tree, review_blocks.ATTENDEES)
    assert "multiple" in attendees.attrs
    assert attendees.attrs["data-kind"] == "multi_users_select"
    submitted = browser_values(tree)
    assert submitted[review_blocks.ATTENDEES[0]][review_blocks.ATTENDEES[1]] == []
    submitted[review_blocks.ATTENDEES[0]][review_blocks.ATTENDEES[1]] = ["U0ALICE", "U0CAROL"]
    submitted[review_blocks.OUTCOMES[0]][review_blocks.OUTCOMES[1]] = ["Good quarter"]
    values = view_state(view, submitted)
    attendees = input_value(values, review_blocks.ATTENDEES, "selected_users")
    assert attendees == ["U0ALICE", "U0CAROL"]
    assert input_value(values, review_blocks.OUTCOMES) == "Good quarter"
    assert input_value(values, review_blocks.DECISIONS) is None


def test_the_cant_deliver_form_asks_for_a_reason():
    view = built(nudge_blocks.cant_deliver_modal)
    tree = parse(view_html(view, names=NAMES, users=USERS))
    reason = control(tree, nudge_blocks.CANT_DELIVER_REASON)
    assert (reason.tag, "required" in reason.attrs) == ("textarea", True)
    block_id, action_id = nudge_blocks.CANT_DELIVER_REASON
    values = view_state(view, {block_id: {action_id: ["  It got cancelled "]}})
    assert values[block_id][action_id].get("value").strip() == "It got cancelled"


# --- the charter forms and their handler ---------------------------------------------------


@pytest.mark.parametrize(
    ("build", "charter"),
    [
        (built(charter_blocks.setup_modal, "defaults"), DEFAULT_CHARTER),
        (built(charter_blocks.propose_modal, "from review"), ADOPTED),
    ],
    ids=["setup", "propose"],
)
def test_a_charter_form_submitted_untouched_reads_back_as_the_same_charter(build, charter):
    tree = parse(view_html(build, names=NAMES, users=USERS))
    values = view_state(build, browser_values(tree))
    errors: dict[str, str] = {}
    draft = read_draft(values, charter, tz="Europe/London", now=NOW, errors=errors)
    assert errors == {}
    assert draft == charter.draft


def test_the_charter_form_shows_numbers_choices_and_checkboxes_as_such():
    view = built(charter_blocks.propose_modal, "from review")
    tree = parse(view_html(view, names=NAMES, users=USERS))
    target = control(tree, charter_blocks.KEPT_TARGET)
    assert (target.attrs["type"], target.attrs["value"]) == ("number", "85")
    assert (target.attrs["step"], target.attrs["min"], target.attrs["max"]) == ("1", "1", "100")
    radios = tree.find_all("input", where={"data-kind": "radio_buttons"})
    assert [(r.attrs["value"], "checked" in r.attrs) for r in radios] == [
        ("organisation", False),
        ("person", True),
    ]
    assert len({r.attrs["name"] for r in radios}) == 1  # one group: choosing one unticks the other
    days = tree.find_all("input", where={"data-action-id": charter_blocks.WORKING_DAYS[1]})
    assert [d.attrs["type"] for d in days] == ["checkbox"] * 7
    assert [d.attrs["value"] for d in days if "checked" in d.attrs] == ["0", "1", "2", "3", "4"]
    every = control(tree, charter_blocks.COFFEE_EVERY)
    assert selected(every) == ["2"]
    assert control(tree, charter_blocks.COFFEE_TIME).attrs["value"] == "10:00"
    purpose = control(tree, charter_blocks.PURPOSE)
    assert purpose.text().removeprefix("\n") == ADOPTED.purpose
    assert "Meet <monthly>" in tree.text()

    submitted = browser_values(tree)
    submitted[charter_blocks.WORKING_DAYS[0]][charter_blocks.WORKING_DAYS[1]] = ["1", "3"]
    submitted[charter_blocks.VISIBILITY[0]][charter_blocks.VISIBILITY[1]] = ["organisation"]
    values = view_state(view, submitted)
    assert values[charter_blocks.WORKING_DAYS[0]][charter_blocks.WORKING_DAYS[1]] == {
        "type": "checkboxes",
        "selected_options": [
            {"text": plain("Tuesday"), "value": "1"},
            {"text": plain("Thursday"), "value": "3"},
        ],
    }
    assert values[charter_blocks.VISIBILITY[0]][charter_blocks.VISIBILITY[1]] == {
        "type": "radio_buttons",
        "selected_option": {"text": plain("By organisation only"), "value": "organisation"},
    }
    draft = read_draft(values, ADOPTED, tz="Europe/London", now=NOW, errors={})
    assert draft.settings.working_days == (1, 3)


# --- messages in detail --------------------------------------------------------------------


def test_a_confirmation_shows_the_title_as_typed_and_people_by_name():
    tree = parse(message_html(built(commitment_blocks.confirmation, "open"), names=NAMES))
    assert tree.one("blockquote").text() == TRICKY_TITLE  # shown once, exactly as typed
    assert not [a for a in tree.find_all("a") if "evil" in a.attrs["href"]]
    assert [s.text() for s in tree.find_all("span", cls="mention")] == [
        "@Alice Adams",
        "@Bob Brown",
    ]
    assert tree.find_all("strong")[0].text() == "#7"
    assert tree.one("code").text() == "/done 7"
    assert [b.text() for b in tree.find_all("button")] == ["Mark delivered", "New date", "Undo"]


def test_the_list_pages_buttons_carry_the_filter_and_the_page():
    message = built(list_blocks.commitment_list, "page 2 of 3")
    tree = parse(message_html(message, names=NAMES))
    pages = {}
    for button in tree.find_all("button"):
        action = button.action()
        if action["action_id"] == "commitment_list_page":
            pages[button.text()] = list_blocks.ListFilter.from_button_value(action["value"])
    mine = list_blocks.ListFilter(list_blocks.MINE, user="U0ALICE")
    assert pages == {"Previous": (mine, 1), "Next": (mine, 3)}
    assert "Page 2 of 3 · 25 in all" in tree.text()


def test_the_home_tab_switches_partnership_with_its_select():
    home = built(report_blocks.home_view, "two partnerships")
    tree = parse(view_html(home, names=NAMES, users=USERS))
    switch = tree.one("select", cls="bk-select")
    intro_id = block_id_of(home["blocks"][1], 1)
    assert switch.action() == {
        "block_id": intro_id,
        "action_id": report_blocks.HOME_SWITCH,
        "type": "static_select",
    }
    options = switch.find_all("option")
    assert [(o.attrs["value"], o.text()) for o in options] == [
        ("", "Switch partnership"),
        ("1", "#housing"),
        ("2", "#schools"),
    ]
    assert "disabled" in options[0].attrs
    assert selected(switch) == ["1"]
    action = block_action(
        home["blocks"], block_id=intro_id, action_id=report_blocks.HOME_SWITCH, value="2"
    )
    assert action["selected_option"] == {"text": plain("#schools"), "value": "2"}
    home_buttons = [b.action()["block_id"] for b in tree.find_all("button")]
    assert home_buttons[:2] == ["home_commitment_7", "home_commitment_7"]
    assert tree.find_all("hr")


def test_a_nudge_offers_its_four_answers_with_delivery_first():
    tree = parse(message_html(built(nudge_blocks.nudge, "overdue-1"), names=NAMES))
    buttons = tree.find_all("button")
    assert [b.text() for b in buttons] == [
        "Mark delivered",
        "New date",
        "Snooze one day",
        "Can't deliver",
    ]
    assert buttons[0].classes() == {"bk-button", "bk-primary"}
    assert {b.action()["value"] for b in buttons} == {"7"}


def test_the_weekly_summary_uses_emoji_names_and_headers():
    tree = parse(message_html(built(report_blocks.weekly_summary), names=NAMES))
    assert tree.one("h3").text() == "Weekly say/do: housing"
    text = tree.text()
    assert "⭐" in text and "🚀" in text and "☕" in text and "📅" in text
    assert "@Alice Adams" in text
    assert "Book the <room>" in text


# --- the building blocks -------------------------------------------------------------------

LEEK = {"text": plain("Leek"), "value": "l"}
BLUE = {"text": plain("Blue"), "value": "blue"}
VIEW_WITH_EVERYTHING = {
    "type": "modal",
    "title": plain("Everything"),
    "blocks": [
        {"type": "section", "block_id": "fields",
         "fields": [plain("One"), {"type": "mrkdwn", "text": "*Two*"}]},
        {"type": "input", "block_id": "num", "label": plain("How many"), "element": {
            "type": "number_input", "action_id": "n", "is_decimal_allowed": True}},
        {"type": "input", "block_id": "pick", "label": plain("Pick"), "optional": True, "element": {
            "type": "static_select", "action_id": "s",
            "option_groups": [
                {"label": plain("Fruit"), "options": [{"text": plain("Apple"), "value": "a"}]},
                {"label": plain("Veg"), "options": [{"text": plain("Leek"), "value": "l"}]},
            ],
            "initial_option": LEEK}},
        {"type": "input", "block_id": "many", "label": plain("Many"), "element": {
            "type": "multi_static_select", "action_id": "m",
            "options": [{"text": plain(t), "value": t.lower()} for t in ("Red", "Green", "Blue")],
            "initial_options": [BLUE]}},
        {"type": "input", "label": plain("Which"), "dispatch_action": True, "element": {
            "type": "checkboxes", "action_id": "c", "options": [
                {"text": plain("Yes"), "value": "y", "description": plain("Say yes")}]}},
        {"type": "input", "block_id": "when", "label": plain("When"), "element": {
            "type": "datepicker", "action_id": "d", "initial_date": "2026-12-24"}},
    ],
}  # fmt: skip


def test_inputs_of_every_kind_render_and_read_back_in_slacks_shapes():
    tree = parse(view_html(VIEW_WITH_EVERYTHING, names=NAMES, users=USERS))
    assert tree.find_all("button", cls="bk-submit") == []  # no submit label, no submit button
    assert tree.one("button", cls="bk-close").text() == "Cancel"
    fields = tree.one(cls="bk-fields").find_all(cls="bk-field")
    assert [f.text() for f in fields] == ["One", "Two"]
    assert control(tree, ("num", "n")).attrs["step"] == "any"
    pick = control(tree, ("pick", "s"))
    assert [g.attrs["label"] for g in pick.find_all("optgroup")] == ["Fruit", "Veg"]
    assert selected(pick) == ["l"]
    assert selected(control(tree, ("many", "m"))) == ["blue"]
    checkbox = tree.one("input", where={"data-kind": "checkboxes"})
    assert checkbox.attrs["data-block-id"] == "b4"  # Slack's made-up id, used consistently
    assert checkbox.action() == {"block_id": "b4", "action_id": "c", "type": "checkboxes"}
    group = tree.one(cls="bk-checkboxes")
    assert group.one(cls="bk-option-description").text() == "Say yes"

    values = view_state(VIEW_WITH_EVERYTHING, browser_values(tree))
    assert values == {
        "num": {"n": {"type": "number_input", "value": None}},
        "pick": {"s": {"type": "static_select", "selected_option": LEEK}},
        "many": {"m": {"type": "multi_static_select", "selected_options": [BLUE]}},
        "b4": {"c": {"type": "checkboxes", "selected_options": []}},
        "when": {"d": {"type": "datepicker", "selected_date": "2026-12-24"}},
    }
    changed = view_state(
        VIEW_WITH_EVERYTHING,
        {"num": {"n": ["2.5"]}, "pick": {"s": ["nonsense"]}, "b4": {"c": ["y"]}},
    )
    assert changed["num"]["n"]["value"] == "2.5"
    assert changed["pick"]["s"]["selected_option"] is None
    assert changed["b4"]["c"]["selected_options"][0]["description"] == plain("Say yes")
    assert changed["when"]["d"]["selected_date"] is None  # not sent: empty


def test_view_state_refuses_an_input_it_cannot_read():
    file_input = {"type": "file_input", "action_id": "x"}
    view = {"type": "modal", "blocks": [{"type": "input", "block_id": "f", "element": file_input}]}
    with pytest.raises(ValueError, match="file_input"):
        view_state(view, {})


MESSAGE_WITH_EVERYTHING = {
    "text": "fallback",
    "blocks": [
        {"type": "section", "block_id": "s1", "text": {"type": "mrkdwn", "text": "Pick a day"},
         "accessory": {"type": "datepicker", "action_id": "day", "initial_date": "2026-12-01"}},
        {"type": "section", "block_id": "s2", "text": plain("More"), "accessory": {
            "type": "overflow", "action_id": "more", "options": [
                {"text": plain("Edit"), "value": "edit"},
                {"text": plain("Delete"), "value": "del"}]}},
        {"type": "section", "block_id": "s3", "text": plain("Look"), "accessory": {
            "type": "image", "image_url": "https://x.org/a.png", "alt_text": "a chart"}},
        {"type": "actions", "block_id": "acts", "elements": [
            {"type": "button", "text": plain("Docs"), "action_id": "docs", "url": "https://x.org/docs"},
            {"type": "button", "text": plain("Delete"), "action_id": "delete", "value": "7",
             "style": "danger", "confirm": {"title": plain("Sure?"),
                "text": {"type": "mrkdwn", "text": "Delete *#7* for <@U0BOB>?"},
                "confirm": plain("Yes"), "deny": plain("No")}},
            {"type": "users_select", "action_id": "who", "initial_user": "U0BOB"},
            {"type": "radio_buttons", "action_id": "r", "options": [
                {"text": plain("A"), "value": "a"}, {"text": plain("B"), "value": "b"}]},
            {"type": "checkboxes", "action_id": "c", "options": [
                {"text": plain("X"), "value": "x"}, {"text": plain("Y"), "value": "y"}]},
            {"type": "button", "text": plain("Unnamed"), "value": "u"},
        ]},
        {"type": "context", "elements": [
            {"type": "image", "image_url": "https://x.org/i.png", "alt_text": "icon"},
            {"type": "mrkdwn", "text": "_small print_"}]},
        {"type": "image", "image_url": "https://x.org/big.png", "alt_text": "big",
         "title": plain("Big picture")},
        {"type": "rich_text", "elements": [
            {"type": "rich_text_section", "elements": [
                {"type": "text", "text": "Hi "}, {"type": "user", "user_id": "U0ALICE"},
                {"type": "text", "text": " <b>", "style": {"bold": True}},
                {"type": "link", "url": "https://x.org", "text": "site"},
                {"type": "emoji", "name": "tada"}]},
            {"type": "rich_text_list", "style": "ordered", "elements": [
                {"type": "rich_text_section", "elements": [{"type": "text", "text": "first"}]}]}]},
        {"type": "divider"},
        {"type": "video", "title": plain("Unknown")},
    ],
}  # fmt: skip


def test_accessories_actions_context_images_and_rich_text_render():
    tree = parse(message_html(MESSAGE_WITH_EVERYTHING, names=NAMES))
    day = tree.one("input", where={"type": "date"})
    assert (day.action(), day.attrs["value"]) == (
        {"block_id": "s1", "action_id": "day", "type": "datepicker"},
        "2026-12-01",
    )
    overflow = tree.one("select", cls="bk-overflow")
    assert [o.text() for o in overflow.find_all("option")] == ["⋯", "Edit", "Delete"]
    assert overflow.action()["type"] == "overflow"
    chart = tree.one(where={"data-block-id": "s3"}).one("a", cls="bk-image-link")
    assert (chart.attrs["href"], chart.text()) == ("https://x.org/a.png", "a chart")

    docs = tree.one("a", cls="bk-button")
    assert (docs.text(), docs.attrs["href"], docs.attrs["target"]) == (
        "Docs",
        "https://x.org/docs",
        "_blank",
    )
    assert docs.action() == {"block_id": "acts", "action_id": "docs", "type": "button"}
    delete = tree.one("button", where={"data-confirm": "Delete #7 for @Bob Brown?"})
    assert delete.classes() == {"bk-button", "bk-danger"}
    unnamed = tree.one("button", where={"data-confirm": None}, cls="bk-button")
    assert unnamed.action() == {
        "block_id": "acts",
        "action_id": "a5",
        "type": "button",
        "value": "u",
    }
    who = tree.one(
        "select",
        where={
            "data-action": json.dumps(
                {"block_id": "acts", "action_id": "who", "type": "users_select"},
                separators=(",", ":"),
            )
        },
    )
    assert [o.text() for o in who.find_all("option")] == ["", "Alice Adams", "Bob Brown"]
    assert selected(who) == ["U0BOB"]
    radios = tree.one(cls="bk-radio-buttons").find_all("input")
    assert [(r.attrs["type"], r.attrs["value"], r.action()["type"]) for r in radios] == [
        ("radio", "a", "radio_buttons"),
        ("radio", "b", "radio_buttons"),
    ]
    assert len({r.attrs["name"] for r in radios}) == 1
    boxes = tree.one(cls="bk-checkboxes").find_all("input")
    assert {json.dumps(b.action()) for b in boxes} == {
        json.dumps({"block_id": "acts", "action_id": "c", "type": "checkboxes"})
    }

    context = tree.one(cls="bk-context")
    assert context.one("a").attrs["href"] == "https://x.org/i.png"
    assert context.one("em").text() == "small print"
    big = tree.one(where={"data-block-id": "b5"})
    assert big.one("a").text() == "Big picture"
    rich = tree.one(cls="bk-rich_text")
    assert rich.text() == "Hi @Alice Adams <b>site🎉first"
    assert rich.one("strong").text() == " <b>"
    assert rich.one("ol").one("li").text() == "first"
    assert tree.one(cls="bk-divider").one("hr")
    unknown = tree.one(cls="bk-video")
    assert unknown.attrs["data-block-id"] == "b8"
    assert unknown.text() == "[unsupported block: video]"


def test_block_actions_carry_slacks_fields_for_each_kind():
    blocks = MESSAGE_WITH_EVERYTHING["blocks"]
    before = time.time()
    delete = block_action(blocks, block_id="acts", action_id="delete", value="ignored")
    assert delete == {
        "type": "button",
        "block_id": "acts",
        "action_id": "delete",
        "text": plain("Delete"),
        "value": "7",
        "style": "danger",
        "action_ts": delete["action_ts"],
    }
    assert re.fullmatch(r"\d+\.\d{6}", delete["action_ts"])
    assert before - 1 <= float(delete["action_ts"]) <= time.time() + 1
    assert "value" not in block_action(blocks, block_id="acts", action_id="docs", value=None)
    overflow = block_action(blocks, block_id="s2", action_id="more", value="del")
    assert overflow["selected_option"] == {"text": plain("Delete"), "value": "del"}
    assert (
        block_action(blocks, block_id="s1", action_id="day", value="2027-01-02")["selected_date"]
        == "2027-01-02"
    )
    assert (
        block_action(blocks, block_id="acts", action_id="who", value="U0ALICE")["selected_user"]
        == "U0ALICE"
    )
    radio = block_action(blocks, block_id="acts", action_id="r", value="b")
    assert radio["selected_option"]["value"] == "b"
    boxes = block_action(blocks, block_id="acts", action_id="c", value='["y","x"]')
    assert [o["value"] for o in boxes["selected_options"]] == ["x", "y"]

    with pytest.raises(LookupError, match="nope"):
        block_action(blocks, block_id="nope", action_id="delete", value=None)
    with pytest.raises(LookupError, match="missing"):
        block_action(blocks, block_id="acts", action_id="missing", value=None)
    with pytest.raises(LookupError, match="zzz"):
        block_action(blocks, block_id="s2", action_id="more", value="zzz")
    with pytest.raises(ValueError):
        block_action(blocks, block_id="acts", action_id="c", value="x")


def test_an_input_that_dispatches_actions_says_so():
    view = {"type": "modal", "title": plain("T"), "blocks": [
        {"type": "input", "block_id": "q", "dispatch_action": True, "label": plain("Search"),
         "element": {"type": "plain_text_input", "action_id": "text"}}]}  # fmt: skip
    tree = parse(view_html(view, names=NAMES, users=USERS))
    assert control(tree, ("q", "text")).action() == {
        "block_id": "q",
        "action_id": "text",
        "type": "plain_text_input",
    }
    assert block_action(view["blocks"], block_id="q", action_id="text", value="hi")["value"] == "hi"
    plain_input = {**view, "blocks": [{**view["blocks"][0], "dispatch_action": False}]}
    tree = parse(view_html(plain_input, names=NAMES, users=USERS))
    assert "data-action" not in control(tree, ("q", "text")).attrs
    with pytest.raises(LookupError):
        block_action(plain_input["blocks"], block_id="q", action_id="text", value="hi")


def test_errors_show_under_their_input_and_unknown_ones_at_the_top():
    view = built(forms.create_modal, "in a channel")
    errors = {forms.TITLE[0]: "Please say what <will> be done.", "nowhere": "Lost"}
    tree = parse(view_html(view, names=NAMES, users=USERS, errors=errors))
    title = tree.one(cls="bk-input", where={"data-block-id": forms.TITLE[0]})
    assert title.one(cls="bk-error").text() == "Please say what <will> be done."
    assert [e.text() for e in tree.find_all(cls="bk-error")] == [
        "nowhere: Lost",
        "Please say what <will> be done.",
    ]


def test_user_selects_list_the_directory_and_keep_a_chosen_stranger():
    view = forms.create_modal(owner_id="U0DAVE", metadata="{}")
    tree = parse(view_html(view, names={"U0DAVE": "Dave Doe"}, users=USERS))
    owner = control(tree, forms.OWNER)
    assert [(o.attrs["value"], o.text()) for o in owner.find_all("option")] == [
        ("", "Choose someone"),
        *USERS,
        ("U0DAVE", "Dave Doe"),
    ]
    assert selected(owner) == ["U0DAVE"]


def test_a_messages_shared_files_follow_it_images_inline_with_their_alt_text():
    message = {
        "text": "Evidence pack: *O1*",
        "files": [
            {"id": "F0000000001", "name": "o1.png", "title": "O1 <b>", "alt_txt": 'Days "so far"'},
            {"id": "F0000000002", "name": "figures.csv", "title": "The figures"},
            {"id": "../api/state", "name": "x.png", "title": "odd"},
        ],
    }
    tree = parse(message_html(message, names=NAMES))
    assert tree.one("strong").text() == "O1"
    first, odd = tree.find_all("figure", cls="bk-file")
    assert first.one("img").attrs == {"src": "/files/F0000000001", "alt": 'Days "so far"'}
    assert first.one("figcaption").text() == "O1 <b>"
    assert odd.one("img").attrs["src"] == "/files/..%2Fapi%2Fstate"  # stays under /files/
    assert odd.one("img").attrs["alt"] == "odd"  # no alt text: the title says what it is
    assert tree.one("a", cls="bk-file-link").attrs["href"] == "/files/F0000000002"


def test_a_message_without_blocks_shows_its_text():
    tree = parse(message_html({"text": "Hello *<@U0BOB>*\n&gt; hi"}, names=NAMES))
    assert tree.one(cls="bk-message").one("strong").text() == "@Bob Brown"
    assert tree.one("blockquote").text() == "hi"
    assert tree.find_all(cls="bk-block") == []


# --- mrkdwn --------------------------------------------------------------------------------


def mention(name: str, css_class: str = "mention") -> str:
    return f'<span class="{css_class}">{name}</span>'


def link(href: str, text: str) -> str:
    return f'<a href="{href}" target="_blank" rel="noopener">{text}</a>'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "*bold* _italic_ ~gone~ `x*y*`",
            "<strong>bold</strong> <em>italic</em> <del>gone</del> <code>x*y*</code>",
        ),
        ("a\nb", "a<br>b"),
        (">quoted\n&gt; also\nafter", "<blockquote>quoted<br>also</blockquote>after"),
        ("```line 1\n*not bold*```", "<pre>line 1\n*not bold*</pre>"),
        ("Q&amp;A &lt;b&gt; &amp;lt;", "Q&amp;A &lt;b&gt; &amp;lt;"),
        ("snake_case_name and 2*3*4 and 10:00:00", "snake_case_name and 2*3*4 and 10:00:00"),
        (
            "<@U0ALICE> <@U9> <#C0PARTNER> <#C2|general>",
            f"{mention('@Alice Adams')} {mention('@U9')} "
            f"{mention('#housing-partnership', 'channel')} {mention('#general', 'channel')}",
        ),
        (
            "<https://x.org/?a=1&amp;b=2|the *doc*>",
            link("https://x.org/?a=1&amp;b=2", "the *doc*"),
        ),
        ("<mailto:a@x.org>", link("mailto:a@x.org", "mailto:a@x.org")),
        (
            "<!here> <!channel> <!date^1392734382^{date_short}|Feb 18, 2014>",
            f"{mention('@here')} {mention('@channel')} Feb 18, 2014",
        ),
        (":tada: :coffee: :no_such_emoji:", "🎉 ☕ :no_such_emoji:"),
        (
            "*<@U0BOB>* said _<https://x.org|this>_",
            f"<strong>{mention('@Bob Brown')}</strong> said "
            f"<em>{link('https://x.org', 'this')}</em>",
        ),
    ],
)
def test_mrkdwn_becomes_html(text, expected):
    assert mrkdwn_to_html(text, names=NAMES) == expected


def test_slacks_escapes_show_exactly_once():
    shown = parse(mrkdwn_to_html("Q&amp;A: &lt;b&gt; and &amp;lt; & raw", names={})).text()
    assert shown == "Q&A: <b> and &lt; & raw"


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "<javascript:alert(1)|click me>",
        "<JavaScript:alert(1)>",
        '<https://x.org" onmouseover="alert(1)|x>',
        "<data:text/html,<script>alert(1)</script>|x>",
        "\"quoted\" 'single' <img src=x onerror=alert(1)>",
        "`<img src=x onerror=alert(1)>` ```<iframe src=x>```",
        "\ue0000\ue001 private markers",
    ],
)
def test_mrkdwn_never_lets_markup_through(text):
    tree = parse(mrkdwn_to_html(text, names={"U1": "<img src=x onerror=alert(1)>"}))
    for node in tree.find_all():
        assert node.tag in {"strong", "em", "del", "code", "pre", "blockquote", "br", "a", "span"}
        assert not [name for name in node.attrs if name.startswith("on")]
        if node.tag == "a":
            assert node.attrs["href"].startswith(("https://", "http://", "mailto:"))


def test_a_mention_name_with_markup_is_shown_as_text():
    names = {"U1": "<img src=x onerror=alert(1)>", "U2": "\ue0000\ue001\ue0009\ue001Eve"}
    tree = parse(mrkdwn_to_html("`<@U1>` <@U2>", names=names))
    assert [span.text() for span in tree.find_all("span")] == [
        "@<img src=x onerror=alert(1)>",
        "@09Eve",  # characters that would mark a set-aside fragment are dropped
    ]
    assert tree.find_all("img") == []


def test_block_kit_fields_cannot_break_out_of_attributes():
    sneaky = '"><script>alert(1)</script><b x="'
    view = {"type": "modal", "title": plain(sneaky), "submit": plain(sneaky), "blocks": [
        {"type": "actions", "block_id": sneaky, "elements": [
            {"type": "button", "text": plain(sneaky), "action_id": sneaky, "value": sneaky,
             "url": "javascript:alert(1)"},
            {"type": "static_select", "action_id": "s", "placeholder": plain(sneaky),
             "options": [{"text": plain(sneaky), "value": sneaky}]}]},
        {"type": "input", "block_id": "in", "label": plain(sneaky), "hint": plain(sneaky),
         "element": {"type": "plain_text_input", "action_id": sneaky, "initial_value": sneaky,
                     "placeholder": plain(sneaky)}},
        {"type": "input", "block_id": "long", "label": plain("Long"), "element": {
            "type": "plain_text_input", "action_id": "t", "multiline": True,
            "initial_value": "</textarea><script>alert(1)</script>"}},
        {"type": sneaky},
    ]}  # fmt: skip
    tree = parse(view_html(view, names=NAMES, users=USERS, errors={"in": sneaky}))
    assert tree.find_all("script") == [] and tree.find_all("b") == []
    button = tree.one("button", cls="bk-button")  # an unsafe url: a plain button, no link
    assert button.action() == {
        "block_id": sneaky,
        "action_id": sneaky,
        "type": "button",
        "value": sneaky,
    }
    assert button.text() == sneaky
    assert tree.one("option", where={"value": sneaky}).text() == sneaky
    assert control(tree, ("in", sneaky)).attrs["value"] == sneaky
    assert control(tree, ("long", "t")).text() == "\n</textarea><script>alert(1)</script>"
    assert tree.one(cls="bk-error").text() == sneaky
    assert tree.one(cls="bk-unsupported").text() == f"[unsupported block: {sneaky}]"
    for node in tree.find_all():
        assert not [name for name in node.attrs if name.startswith("on")]


def test_text_objects_become_html():
    assert plain_to_html(plain("a <b> :tada:\nc"), names={}) == "a &lt;b&gt; 🎉<br>c"
    assert plain_to_html({"type": "mrkdwn", "text": "*a*"}, names={}) == "<strong>a</strong>"


def test_fallback_text_is_a_short_plain_line():
    message = built(commitment_blocks.confirmation, "open")
    line = fallback_text(message, names=NAMES)
    assert line == (
        f"Logged #7. @Alice Adams will do this. {TRICKY_TITLE} "
        "(due Sat 12 Dec 2026, 15:00, Europe/London)"
    )
    long = fallback_text({"text": "word " * 100})
    assert len(long) == 150 and long.endswith("d…")
    assert fallback_text({"text": "Hi <@U0BOB>"}) == "Hi @U0BOB"
    headed = {
        "text": "",
        "blocks": [{"type": "divider"}, {"type": "header", "text": plain("Saydo")}],
    }
    assert fallback_text(headed) == "Saydo"
    assert fallback_text({"blocks": [section("*Hi* &amp; _bye_\n>quote")]}) == ("Hi & bye quote")
