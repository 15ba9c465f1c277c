"""The playground in a real browser: headless Chromium (Debian's) driven by Playwright, against
`saydo playground` started as a person starts it. Each test clicks and types what a person
would, and checks what the page then shows; a screenshot of each step is kept in
`test-artifacts/playground/<test name>/` (a failing test adds one of the moment it failed).
"""

from __future__ import annotations

import io
import json
import re
import shutil
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image

from bot.playground import render
from tests.playground_process import PlaygroundProcess

try:
    from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright
    from playwright.sync_api import Error as PlaywrightError
except ImportError:  # the check below says what to install
    sync_playwright = None

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 20_000
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "playground"
CHANNEL = "#care-home-discharge"
ALICE = "U0ALICE"
WEEKLY_SUMMARY_HOUR = 9  # Mondays, 09:00 Europe/London, Saydo's default


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if sync_playwright is None:
        pytest.fail("Playwright is not installed: pip install -e '.[test]'", pytrace=False)
    if not CHROMIUM.is_file():
        pytest.fail(
            f"Chromium is not installed ({CHROMIUM} is missing); these tests need Debian's: "
            "sudo apt-get install chromium",
            pytrace=False,
        )
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
        except PlaywrightError as error:
            pytest.fail(
                f"Chromium ({CHROMIUM}) would not start; reinstall Debian's package with "
                f"`sudo apt-get install --reinstall chromium`:\n{error}",
                pytrace=False,
            )
        yield browser
        browser.close()


@pytest.fixture
def playground(tmp_path: Path) -> Iterator[PlaygroundProcess]:
    with PlaygroundProcess(tmp_path, "--reset", "--database", str(tmp_path / "pg.db")) as running:
        yield running


def artifacts_of(request: pytest.FixtureRequest) -> Path:
    """The folder of the test's screenshots."""
    return ARTIFACTS / re.sub(r"[^\w.-]", "_", request.node.name)


class Steps:
    """Screenshots of a test's steps, numbered in order, in the test's own (emptied) folder."""

    def __init__(self, page: Page, folder: Path) -> None:
        self.page = page
        self.folder = folder
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.count = 0

    def shot(self, step: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{step}.png"
        self.page.screenshot(path=path)
        return path


@pytest.fixture
def page(
    browser: Browser, playground: PlaygroundProcess, request: pytest.FixtureRequest
) -> Iterator[Page]:
    """The playground's page, open; the test fails if the page's script fails or an
    action is refused, and a failing test leaves a screenshot of the moment."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(f"console: {message.text}") if message.type == "error" else None
        ),
    )
    page.goto(playground.base_url)
    failed_before = request.session.testsfailed
    yield page
    if request.session.testsfailed > failed_before:
        folder = artifacts_of(request)
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=folder / "99-failed.png")
    context.close()
    assert not problems, "\n".join(problems)


@pytest.fixture
def steps(page: Page, request: pytest.FixtureRequest) -> Steps:
    return Steps(page, artifacts_of(request))


# -- helpers -------------------------------------------------------------------------------------


def playground_now(playground: PlaygroundProcess) -> datetime:
    """The playground's local time for Alice (Europe/London), to the minute."""
    local = playground.state(**{"as": ALICE})["clock"]["local"]
    return datetime.strptime(local, "%a %d %b %Y, %H:%M")


def playground_today(playground: PlaygroundProcess) -> date:
    """The playground's date for Alice (Europe/London)."""
    return playground_now(playground).date()


def long_date(day: date) -> str:
    """A date as Saydo writes it: "Mon 30 Nov 2026"."""
    return f"{day:%a} {day.day} {day:%b %Y}"


def clock_date(day: date) -> str:
    """A date as the playground's clock shows it."""
    return f"{day:%a %d %b %Y}"


def act_as(page: Page, user_id: str, name: str) -> None:
    page.get_by_label("Act as").select_option(user_id)
    expect(page.locator("#me")).to_contain_text(name)


def open_conversation(page: Page, label: str, title: str) -> None:
    page.locator("#sidebar").get_by_role("link", name=label, exact=True).click()
    expect(page.locator("#title")).to_have_text(title)


def send(page: Page, text: str) -> None:
    composer = page.get_by_role("textbox", name="Message")
    composer.fill(text)
    composer.press("Enter")
    expect(composer).to_have_value("")


def assert_on_top(dialog: Locator) -> None:
    """Nothing on the page covers the dialog: what shows at its title is the dialog."""
    on_top = dialog.get_by_role("heading").first.evaluate(
        """title => {
            const box = title.getBoundingClientRect();
            const shown = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
            return title.closest('[role="dialog"]').contains(shown);
        }"""
    )
    assert on_top, "something on the page covers the dialog"


def message_with(page: Page, text: str) -> Locator:
    """The latest message showing `text`."""
    return page.locator("#messages .msg").filter(has_text=text).last


# -- tests ---------------------------------------------------------------------------------------


def test_a_commitment_from_promise_to_weekly_summary(
    page: Page, playground: PlaygroundProcess, steps: Steps
) -> None:
    expect(page.locator("#title")).to_have_text(CHANNEL)
    act_as(page, ALICE, "Alice Adams")
    expect(page.locator("#clock-controls")).to_contain_text("Europe/London")
    steps.shot("opened")

    today = playground_today(playground)
    # Nudges go out at 09:00: from 10:00 on, each day the clock moves to has had its nudge,
    # whatever the time of day the test starts at.
    if playground_now(playground).hour < 10:
        moved = playground.post("advance", **{"as": ALICE, "to": f"{today.isoformat()}T10:00"})
        assert moved.ok, moved.text
    # Monday to Thursday, a few days ahead: the day after it is due is a working day of the same
    # week, so its overdue nudge comes then (none at weekends).
    due = next(d for d in (today + timedelta(days=n) for n in range(3, 10)) if d.weekday() < 4)

    send(page, f"/commit send the budget baseline by {due.isoformat()}")
    confirmation = message_with(page, "Logged #1")
    expect(confirmation).to_contain_text("send the budget baseline")
    expect(confirmation).to_contain_text(f"Due: {long_date(due)}, end of day")
    expect(confirmation.get_by_role("button", name="Mark delivered")).to_be_visible()
    steps.shot("commitment-logged")

    # The day after it was due, a day at a time.
    clock = page.locator("#clock")
    day = today
    while day <= due:
        day += timedelta(days=1)
        page.get_by_role("button", name="+1 day").click()
        expect(clock).to_contain_text(clock_date(day))
    steps.shot("a-day-past-due")

    open_conversation(page, "Saydo · Messages", "Saydo")
    nudge = message_with(page, "send the budget baseline")
    expect(nudge).to_contain_text(f"due {long_date(due)}")
    expect(nudge.get_by_role("button", name="Mark delivered")).to_be_visible()
    steps.shot("nudge")

    nudge.get_by_role("button", name="Mark delivered").click()
    dialog = page.get_by_role("dialog", name="Mark delivered")
    expect(dialog).to_be_visible()
    assert_on_top(dialog)
    expect(dialog).to_contain_text("send the budget baseline")
    dialog.get_by_label("Evidence").fill("Sent to finance: https://example.org/budget")
    steps.shot("mark-delivered-form")
    dialog.get_by_role("button", name="Delivered").click()
    expect(dialog).to_be_hidden()
    thanks = message_with(page, "Delivered, thank you")
    expect(thanks).to_contain_text("send the budget baseline")
    expect(thanks).to_contain_text("Sent to finance")
    steps.shot("delivered")

    # On to the next Monday after the weekly summary's time, with the date-time control.
    monday = day + timedelta(days=7 - day.weekday())
    open_conversation(page, CHANNEL, CHANNEL)
    page.get_by_label("Move the clock to").fill(
        f"{monday.isoformat()}T{WEEKLY_SUMMARY_HOUR:02d}:30"
    )
    page.get_by_role("button", name="Go", exact=True).click()
    expect(clock).to_contain_text(f"{clock_date(monday)}, {WEEKLY_SUMMARY_HOUR:02d}:30")

    week_start, week_end = monday - timedelta(days=7), monday - timedelta(days=1)
    week = (
        f"{week_start:%a} {week_start.day} {week_start:%b} to "
        f"{week_end:%a} {week_end.day} {week_end:%b %Y}"
    )
    summary = message_with(page, week)
    expect(summary).to_contain_text("Weekly say/do: care-home-discharge")
    expect(summary).to_contain_text("Northshire County Council")
    expect(summary).to_contain_text("late 1")  # delivered, a day after it was due
    summary.scroll_into_view_if_needed()
    steps.shot("weekly-summary")


def test_the_commit_form(page: Page, playground: PlaygroundProcess, steps: Steps) -> None:
    expect(page.locator("#title")).to_have_text(CHANNEL)
    act_as(page, ALICE, "Alice Adams")
    due = playground_today(playground) + timedelta(days=5)

    send(page, "/commit")
    dialog = page.get_by_role("dialog", name="New commitment")
    expect(dialog).to_be_visible()
    assert_on_top(dialog)
    steps.shot("form-opened")

    dialog.get_by_label("What will be done?").fill("Share the discharge dashboard draft")
    dialog.get_by_label("Due date").fill(due.isoformat())
    steps.shot("form-filled")
    dialog.get_by_role("button", name="Log it").click()
    expect(dialog).to_be_hidden()

    confirmation = message_with(page, "Logged #1")
    expect(confirmation).to_contain_text("Share the discharge dashboard draft")
    expect(confirmation).to_contain_text(f"Due: {long_date(due)}, end of day")
    expect(confirmation.get_by_role("button", name="Mark delivered")).to_be_visible()
    steps.shot("commitment-logged")


# -- the page's side of render.py's contract -----------------------------------------------------

NAMES = {"U0ALICE": "Alice Adams", "U0BEN": "Ben Okafor"}
STATIC = Path(__file__).resolve().parents[1] / "bot" / "playground" / "static"
CONTENT_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}


def _option(value: str) -> dict:
    return {"text": {"type": "plain_text", "text": value.title()}, "value": value}


PICKER_BLOCKS = [
    {"type": "section", "block_id": "intro", "text": {"type": "mrkdwn", "text": "Choose."}},
    {
        "type": "actions",
        "block_id": "pick",
        "elements": [
            {
                "type": "multi_static_select",
                "action_id": "topics",
                "options": [_option("budget"), _option("staffing"), _option("data")],
            },
            {
                "type": "checkboxes",
                "action_id": "days",
                "options": [_option("mon"), _option("tue")],
            },
            {"type": "checkboxes", "action_id": "extra", "options": [_option("weekend")]},
            {
                "type": "overflow",
                "action_id": "more",
                "options": [_option("edit"), _option("drop")],
            },
        ],
    },
]
FORM_VIEW = {
    "id": "V1",
    "type": "modal",
    "title": {"type": "plain_text", "text": "Choices"},
    "submit": {"type": "plain_text", "text": "Save"},
    "blocks": [
        {
            "type": "input",
            "block_id": "days",
            "label": {"type": "plain_text", "text": "Days"},
            "element": {
                "type": "checkboxes",
                "action_id": "on",
                "options": [_option("mon"), _option("tue"), _option("wed")],
            },
        },
        {
            "type": "input",
            "block_id": "who",
            "label": {"type": "plain_text", "text": "Who"},
            "element": {"type": "multi_users_select", "action_id": "people"},
        },
        {
            "type": "input",
            "block_id": "how",
            "optional": True,
            "label": {"type": "plain_text", "text": "How"},
            "element": {
                "type": "radio_buttons",
                "action_id": "way",
                "options": [_option("email"), _option("call")],
            },
        },
    ],
}


class PageServer:
    """The playground's server as the page sees it, played by the test: a fixed state with
    Saydo's rendering of the blocks above, and every request the page makes, kept."""

    ORIGIN = "http://playground.test"

    def __init__(self, page: Page) -> None:
        self.modal_open = False
        self.posts: list[tuple[str, dict]] = []
        page.route(f"{self.ORIGIN}/**", self.answer)

    def state(self) -> dict:
        alice = {
            "id": "U0ALICE",
            "name": "Alice Adams",
            "organisation": "Northshire County Council",
            "role": "Partnership lead",
            "tz": "Europe/London",
        }
        message = {
            "ts": "1795777200.000100",
            "author": "Saydo",
            "organisation": "",
            "app": True,
            "when": "Fri 27 Nov 2026, 11:00",
            "ephemeral": False,
            "edited": False,
            "html": render.message_html({"blocks": PICKER_BLOCKS}, names=NAMES),
        }
        modal = {
            "view_id": FORM_VIEW["id"],
            "html": render.view_html(FORM_VIEW, names=NAMES, users=list(NAMES.items())),
        }
        return {
            "version": 1,
            "clock": {
                "local": "Fri 27 Nov 2026, 11:00",
                "utc": "2026-11-27T11:00+00:00",
                "tz": "Europe/London",
            },
            "me": alice,
            "members": [alice],
            "sidebar": [{"id": "C0PARTNERS", "label": CHANNEL, "kind": "channel"}],
            "in": "C0PARTNERS",
            "title": CHANNEL,
            "messages": [message],
            "modal": modal if self.modal_open else None,
        }

    def answer(self, route, request) -> None:
        url = urlsplit(request.url)
        if url.path == "/api/state":
            if "since" not in parse_qs(url.query):  # a long poll waits: nothing changes
                route.fulfill(json=self.state())
        elif url.path.startswith("/api/"):
            self.posts.append((url.path.removeprefix("/api/"), request.post_data_json))
            route.fulfill(json={"ok": True, "errors": {}})
        else:
            name = "index.html" if url.path == "/" else url.path.removeprefix("/static/")
            file = STATIC / name
            if file.is_file():
                route.fulfill(body=file.read_bytes(), content_type=CONTENT_TYPES[file.suffix])
            else:
                route.fulfill(status=404, body="")


def test_the_page_sends_what_saydo_reads(browser: Browser) -> None:
    """Multi-selects and checkbox groups send JSON lists, one group at a time; an overflow
    menu goes back to "⋯"; a modal's choices become `view.state.values` (render.py's
    contract, read back with render.py's own functions)."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    server = PageServer(page)
    try:
        page.goto(PageServer.ORIGIN + "/")
        message = page.locator("#messages .msg")
        expect(message).to_contain_text("Choose.")

        def action_from(do) -> dict:
            with page.expect_request(f"{PageServer.ORIGIN}/api/click") as sent:
                do()
            body = sent.value.post_data_json
            action = render.block_action(
                PICKER_BLOCKS,
                block_id=body["block_id"],
                action_id=body["action_id"],
                value=body["value"],
            )
            if "selected_options" in action:  # the page sent this element's values, no others
                assert json.loads(body["value"]) == chosen(action), body
            return action

        def chosen(action: dict) -> list[str]:
            return [option["value"] for option in action["selected_options"]]

        topics = action_from(
            lambda: message.locator("select[multiple]").select_option(["budget", "data"])
        )
        assert chosen(topics) == ["budget", "data"]
        extra = action_from(lambda: message.get_by_label("Weekend").check())
        assert (extra["action_id"], chosen(extra)) == ("extra", ["weekend"])
        days = action_from(lambda: message.get_by_label("Tue").check())
        assert (days["action_id"], chosen(days)) == ("days", ["tue"])  # not the other group's
        days = action_from(lambda: message.get_by_label("Tue").uncheck())
        assert (days["action_id"], chosen(days)) == ("days", [])

        server.modal_open = True  # the page asks for the state again after the next action
        overflow = message.locator("select.bk-overflow")
        more = action_from(lambda: overflow.select_option("drop"))
        assert more["selected_option"]["value"] == "drop"
        expect(overflow).to_have_value("")  # the menu shows "⋯" again

        dialog = page.get_by_role("dialog", name="Choices")
        expect(dialog).to_be_visible()
        dialog.get_by_label("Mon").check()
        dialog.get_by_label("Wed").check()
        dialog.get_by_label("Who").select_option(["U0ALICE", "U0BEN"])
        with page.expect_request(f"{PageServer.ORIGIN}/api/submit") as sent:
            dialog.get_by_role("button", name="Save").click()
        values = render.view_state(FORM_VIEW, sent.value.post_data_json["values"])
        assert [o["value"] for o in values["days"]["on"]["selected_options"]] == ["mon", "wed"]
        assert values["who"]["people"]["selected_users"] == ["U0ALICE", "U0BEN"]
        assert values["how"]["way"]["selected_option"] is None
    finally:
        context.close()


def test_seeding_asks_in_the_page_and_the_chosen_time_is_written_the_persons_way(
    page: Page, playground: PlaygroundProcess, steps: Steps
) -> None:
    page.on("dialog", lambda native: pytest.fail(f"a browser dialog opened: {native.message}"))
    page.get_by_role("button", name="Seed a quarter").click()
    question = page.get_by_role("dialog", name="Seed a quarter")
    expect(question).to_be_visible()
    expect(question).to_contain_text("usually takes under ten seconds")
    steps.shot("asked")
    question.get_by_role("button", name="Cancel").click()
    expect(question).to_be_hidden()
    assert playground.state(**{"as": ALICE})["messages"] == []  # nothing was played

    picker = page.get_by_label("Move the clock to")
    picker.fill("2027-03-05T14:30")
    expect(page.locator("#advance-to-shown")).to_have_text("Fri, 5 Mar 2027, 14:30")
    act_as(page, "U0SAM", "Sam Rivera")  # en-US
    picker.fill("2027-03-05T14:30")
    expect(page.locator("#advance-to-shown")).to_have_text("Fri, Mar 5, 2027, 2:30 PM")
    steps.shot("us-format")


def test_ticking_an_organisations_installation_gives_its_people_saydo(
    page: Page, playground: PlaygroundProcess, steps: Steps
) -> None:
    installs = page.locator("#installs")
    expect(installs).to_contain_text("one token: the council's reaches everyone")
    act_as(page, "U0CHLOE", "Chloe Hughes")
    steps.shot("single-token")

    installs.get_by_role("checkbox", name="Northshire NHS Trust").check()
    expect(installs).to_contain_text("each through OAuth")
    expect(page.locator("#sidebar").get_by_role("link", name="Saydo · Home")).to_be_visible()
    due = playground_today(playground) + timedelta(days=7)
    send(page, f"/commit send the ward list by {due.isoformat()}")
    expect(message_with(page, "Logged #1")).to_contain_text("send the ward list")
    steps.shot("trust-installed")

    act_as(page, "U0PRIYA", "Priya Nair")  # Kestrel Digital has not installed Saydo
    expect(page.locator("#sidebar").get_by_role("link", name="Saydo · Home")).to_have_count(0)
    send(page, f"/commit share the prototype by {due.isoformat()}")
    expect(message_with(page, "Only visible to you")).to_contain_text("@saydo")
    steps.shot("supplier-not-installed")

    act_as(page, "U0CHLOE", "Chloe Hughes")
    installs.get_by_role("checkbox", name="Northshire NHS Trust").uncheck()
    dialog = page.get_by_role("dialog", name="Uninstall Saydo from Northshire NHS Trust?")
    expect(dialog).to_contain_text("erased 30 days")
    dialog.get_by_role("button", name="Uninstall").click()
    expect(page.locator("#sidebar").get_by_role("link", name="Saydo · Home")).to_have_count(0)
    expect(installs.get_by_role("checkbox", name="Northshire NHS Trust")).not_to_be_checked()
    steps.shot("trust-uninstalled")


def test_the_charts_saydo_uploads_show_inline_with_their_alt_text(
    page: Page, playground: PlaygroundProcess, steps: Steps
) -> None:
    """A seeded quarter's evidence pack uploads its charts to the channel (Slack's external
    upload, into the stand-in); the page shows each where it was shared, as Slack does."""
    assert playground.post("seed").json()["ok"]
    page.reload()
    expect(page.locator("#title")).to_have_text(CHANNEL)
    spend = page.locator("#messages figure.bk-file").filter(has_text="Spend against budget").last
    image = spend.locator("img")
    expect(image).to_have_attribute("alt", re.compile(r"^Spend against budget in GBP for 2 "))
    image.scroll_into_view_if_needed()
    assert image.evaluate("shown => shown.decode().then(() => shown.naturalWidth)") == 800
    steps.shot("spend-chart")
    served = page.request.get(image.evaluate("shown => shown.src"))
    assert served.ok and served.headers["content-type"] == "image/png"
    png = Image.open(io.BytesIO(served.body()))
    assert (png.format, png.size) == ("PNG", (800, 450))
    png.verify()  # the whole file decodes

    objective = page.locator("#messages figure.bk-file").filter(has_text="O1 Faster").last
    expect(objective.locator("img")).to_have_attribute(
        "alt", re.compile(r"^O1 Faster hospital discharge: .+ from a baseline of .+ values?\.$")
    )
    missing = page.request.get(f"{playground.base_url}/files/F9999999999")
    assert missing.status == 404
