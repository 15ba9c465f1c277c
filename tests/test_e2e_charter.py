"""The Relationship Charter end to end: `saydo run` receives signed slash commands and
interactions as Slack sends them; what people see is read from the calls it makes to the
Slack stand-in. Partners: Alice and Bob (Saydo Test Council), Carol (Northshire NHS Trust)."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.blocks import charter as forms
from bot.charter import service as domain
from bot.commitments.service import ensure_partnership, find_person, get_partnership
from bot.costs import service as costs
from bot.partnerships.members import is_admin
from bot.playground import slack_requests as doors
from bot.policy.charter_settings import CharterSettings
from storage.db import create_db_engine, transaction
from storage.models import CharterProposal, utcnow

pytestmark = [pytest.mark.e2e, pytest.mark.share_saydo]  # one `saydo run` per module

TEAM = doors.team_object("T0001", domain="saydo-test")
CHANNEL = "C0PARTNER"
COUNCIL, TRUST = "Saydo Test Council", "Northshire NHS Trust"


@pytest.fixture
def db(database_url):
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


def user(user_id: str) -> dict:
    return doors.user_object(user_id, team_id="T0PARTNER" if user_id == "U0CAROL" else "T0001")


def reply_at(slack, url: str, timeout: float = 5.0) -> dict:
    path = "/" + url.split("/", 3)[3]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        posts = [c for c in slack.calls_to("response_url") if c.path == path]
        if posts:
            return posts[-1].args
        time.sleep(0.02)
    raise AssertionError(f"nothing was posted to {url}")


def saydo_says(saydo, slack, text: str, *, user_id: str = "U0ALICE") -> dict:
    url = slack.response_url()
    assert saydo.command("/saydo", text, user_id=user_id, channel_id=CHANNEL, response_url=url)
    return reply_at(slack, url)


def text_of(message: dict) -> str:
    return message.get("text", "") + json.dumps(message.get("blocks", []), ensure_ascii=False)


def state_of(view: dict) -> dict:
    """The state Slack would submit for a modal nobody edited: its initial values."""
    values: dict = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element = block["element"]
        kind = element["type"]
        state: dict = {"type": kind}
        if kind in ("plain_text_input", "number_input"):
            state["value"] = element.get("initial_value")
        elif kind in ("static_select", "radio_buttons"):
            state["selected_option"] = element.get("initial_option")
        elif kind == "timepicker":
            state["selected_time"] = element.get("initial_time")
        elif kind == "datepicker":
            state["selected_date"] = element.get("initial_date")
        elif kind == "checkboxes":
            state["selected_options"] = element.get("initial_options", [])
        values[block["block_id"]] = {element["action_id"]: state}
    return values


def choose(values: dict, field: tuple[str, str], value: str) -> None:
    values[field[0]][field[1]]["selected_option"] = {
        "text": {"type": "plain_text", "text": value},
        "value": value,
    }


def submit(saydo, view: dict, user_id: str, values: dict):
    return saydo.submit_view(view, user(user_id), values)


def press(saydo, slack, action_id: str, value: str, user_id: str, *, ts: str) -> str:
    """A button on a message in the channel, as a `block_actions` payload."""
    response_url = slack.response_url()
    payload = doors.message_block_actions(
        [doors.button_action(action_id=action_id, block_id="b", value=value)],
        user=user(user_id),
        team=TEAM,
        channel={"id": CHANNEL, "name": "housing-partnership"},
        message_ts=ts,
        response_url=response_url,
        trigger_id=doors.new_trigger_id(),
        message={"type": "message", "user": "UBOT", "bot_id": "BBOT", "text": "x", "ts": ts},
    )
    assert saydo.interaction(payload).status_code == 200
    return response_url


def posted(slack, count: int = 1) -> list:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        found = [
            c
            for c in slack.calls_to("chat.postMessage")
            if c.args.get("channel") == CHANNEL and c.succeeded
        ]
        if len(found) >= count:
            return found
        time.sleep(0.02)
    raise AssertionError(f"expected {count} message(s) in the channel")


def posted_ts(db, proposal_id: str) -> str:
    """Where Saydo recorded it posted the proposal (as Slack answered chat.postMessage)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        proposal = domain.get_proposal(db, proposal_id=int(proposal_id))
        if proposal.message_ts:
            assert proposal.channel_id == CHANNEL
            return proposal.message_ts
        time.sleep(0.02)
    raise AssertionError("the proposal's message was not recorded")


def updates(slack, count: int) -> list:
    return slack.wait_for("chat.update", count=count)


def set_up(saydo, slack, db) -> dict:
    """Alice runs `/saydo setup` and submits it with a name, a time zone and a purpose."""
    url = slack.response_url()
    saydo.command("/saydo", "setup", user_id="U0ALICE", channel_id=CHANNEL, response_url=url)
    [opened] = slack.wait_for("views.open")
    view = opened.args["view"]
    values = state_of(view)
    values[forms.NAME[0]][forms.NAME[1]]["value"] = "Housing partnership"
    choose(values, forms.TZ, "Europe/Dublin")
    values[forms.PURPOSE[0]][forms.PURPOSE[1]]["value"] = "Better homes, sooner."
    response = submit(saydo, view, "U0ALICE", values)
    assert response.status_code == 200 and response.text == ""
    return view


def test_setup_charter_propose_agree_adopt_and_history(saydo, slack, people, db):
    view = set_up(saydo, slack, db)
    assert view["callback_id"] == forms.SETUP_MODAL
    [announcement] = posted(slack)
    assert "alice set up this partnership: charter version 1 adopted" in text_of(announcement.args)
    partnership = ensure_partnership(db, team_id="T0001", channel_id=CHANNEL)
    assert (partnership.name, partnership.tz) == ("Housing partnership", "Europe/Dublin")
    first = domain.current_charter(db, partnership_id=partnership.id)
    assert first.version == 1 and first.purpose == "Better homes, sooner."
    assert first.settings == CharterSettings()  # untouched fields keep the defaults
    alice = domain_person(db, "U0ALICE")
    assert is_admin(db, partnership_id=partnership.id, person_id=alice)

    shown = saydo_says(saydo, slack, "charter", user_id="U0BOB")
    assert shown["response_type"] == "ephemeral"
    assert "Version 1" in text_of(shown) and f"alice ({COUNCIL})" in text_of(shown)
    assert "Better homes, sooner." in text_of(shown)

    # Bob proposes coffee every four weeks, from the button on the charter.
    press(saydo, slack, forms.PROPOSE, str(partnership.id), "U0BOB", ts="1764000000.000100")
    proposing = slack.wait_for("views.open", count=2)[1].args["view"]
    assert proposing["callback_id"] == forms.PROPOSE_MODAL
    values = state_of(proposing)
    assert values[forms.PURPOSE[0]][forms.PURPOSE[1]]["value"] == "Better homes, sooner."
    choose(values, forms.COFFEE_EVERY, "4")
    assert submit(saydo, proposing, "U0BOB", values).text == ""
    proposal_post = posted(slack, 2)[1]
    assert "bob proposes" in text_of(proposal_post.args)
    assert "every 4 weeks" in text_of(proposal_post.args)
    assert forms.AGREE in text_of(proposal_post.args)
    proposal_id = next(
        e["value"]
        for b in proposal_post.args["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == forms.AGREE
    )
    ts = posted_ts(db, proposal_id)

    # Alice agrees: still the council only.
    said = reply_at(slack, press(saydo, slack, forms.AGREE, proposal_id, "U0ALICE", ts=ts))
    assert f"Waiting for someone from: {TRUST}" in said["text"]
    [update] = updates(slack, 1)
    assert update.args["ts"] == ts and update.args["channel"] == CHANNEL
    assert "alice" in text_of(update.args) and forms.AGREE in text_of(update.args)
    assert domain.current_charter(db, partnership_id=partnership.id).version == 1

    # Carol, from the trust, agrees: adopted as version 2.
    said = reply_at(slack, press(saydo, slack, forms.AGREE, proposal_id, "U0CAROL", ts=ts))
    assert "version 2" in said["text"]
    update = updates(slack, 2)[1]
    assert "Adopted as version 2" in text_of(update.args)
    assert forms.AGREE not in text_of(update.args)  # no more buttons
    second = domain.current_charter(db, partnership_id=partnership.id)
    assert second.version == 2 and second.settings.coffee_cadence_weeks == 4
    assert TRUST in second.agreed_by and COUNCIL in second.agreed_by

    history = saydo_says(saydo, slack, "charter history", user_id="U0CAROL")
    assert "Version 2" in text_of(history) and "Version 1" in text_of(history)
    assert "every 2 weeks, Tuesday at 10:00 → every 4 weeks" in text_of(history)


def domain_person(db, user_id: str) -> int:
    found = find_person(db, user_id=user_id, fresh_since=utcnow().replace(year=2000))
    assert found is not None
    return found.id


def test_setup_mistakes_come_back_to_the_form_and_nothing_is_saved(saydo, slack, people, db):
    saydo.command("/saydo", "setup", user_id="U0ALICE", channel_id=CHANNEL)
    [opened] = slack.wait_for("views.open")
    view = opened.args["view"]
    values = state_of(view)
    values[forms.NAME[0]][forms.NAME[1]]["value"] = "   "
    values[forms.KEPT_TARGET[0]][forms.KEPT_TARGET[1]]["value"] = "150"
    values[forms.HOLIDAYS[0]][forms.HOLIDAYS[1]]["value"] = f"{TRUST}: Narnia"
    values[forms.WORKING_DAYS[0]][forms.WORKING_DAYS[1]]["selected_options"] = []
    reply = submit(saydo, view, "U0ALICE", values).json()
    assert reply["response_action"] == "errors"
    assert set(reply["errors"]) == {
        forms.NAME[0],
        forms.KEPT_TARGET[0],
        forms.HOLIDAYS[0],
        forms.WORKING_DAYS[0],
    }
    assert "NARNIA" in reply["errors"][forms.HOLIDAYS[0]]
    partnership = ensure_partnership(db, team_id="T0001", channel_id=CHANNEL)
    assert domain.current_charter(db, partnership_id=partnership.id).version == 0
    assert not is_admin(db, partnership_id=partnership.id, person_id=domain_person(db, "U0ALICE"))
    saydo.settle()
    assert slack.calls_to("chat.postMessage") == []


def test_after_setup_only_admins_run_it_and_only_admins_adopt_at_once(saydo, slack, people, db):
    set_up(saydo, slack, db)
    refused = saydo_says(saydo, slack, "setup", user_id="U0BOB")
    assert "only its admins (alice)" in refused["text"]
    assert len(slack.calls_to("views.open")) == 1

    partnership = get_partnership(
        db,
        team_id="T0001",
        partnership_id=ensure_partnership(db, team_id="T0001", channel_id=CHANNEL).id,
    )
    press(saydo, slack, forms.PROPOSE, str(partnership.id), "U0CAROL", ts="1764000000.000100")
    proposing = slack.wait_for("views.open", count=2)[1].args["view"]
    values = state_of(proposing)
    values[forms.BEHAVIOURS[0]][forms.BEHAVIOURS[1]]["value"] = "No surprises."
    assert submit(saydo, proposing, "U0CAROL", values).text == ""
    proposal_post = posted(slack, 2)[1]
    proposal_id = str(
        next(
            e["value"]
            for b in proposal_post.args["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
        )
    )
    ts = posted_ts(db, proposal_id)
    said = reply_at(slack, press(saydo, slack, forms.ADOPT, proposal_id, "U0BOB", ts=ts))
    assert "Only an admin" in said["text"]
    assert domain.current_charter(db, partnership_id=partnership.id).version == 1

    said = reply_at(slack, press(saydo, slack, forms.ADOPT, proposal_id, "U0ALICE", ts=ts))
    assert "version 2" in said["text"]
    adopted = domain.current_charter(db, partnership_id=partnership.id)
    assert adopted.behaviours == "No surprises."
    assert "Behaviours set" in adopted.change_summary


def test_charter_before_setup_shows_the_defaults_and_how_to_start(saydo, slack, people):
    shown = saydo_says(saydo, slack, "charter")
    assert "No charter has been agreed here yet" in text_of(shown)
    assert "/saydo setup" in text_of(shown)
    assert forms.PROPOSE not in text_of(shown)
    wrong = saydo_says(saydo, slack, "charter nonsense")
    assert "charter history" in wrong["text"]


def test_the_currency_is_changed_on_the_charter_form_and_costs_are_shown_in_it(
    saydo, slack, people, db
):
    set_up(saydo, slack, db)
    partnership = ensure_partnership(db, team_id="T0001", channel_id=CHANNEL)
    assert domain.current_charter(db, partnership_id=partnership.id).settings.currency == "GBP"
    press(saydo, slack, forms.PROPOSE, str(partnership.id), "U0CAROL", ts="1764000000.000100")
    proposing = slack.wait_for("views.open", count=2)[1].args["view"]
    values = state_of(proposing)
    assert values[forms.CURRENCY[0]][forms.CURRENCY[1]]["value"] == "GBP"

    # Not a currency: the mistake comes back next to the field, nothing is proposed.
    for typed in ("euro", "XYZ", "£"):
        values[forms.CURRENCY[0]][forms.CURRENCY[1]]["value"] = typed
        refused = submit(saydo, proposing, "U0CAROL", values).json()
        assert refused["response_action"] == "errors"
        assert set(refused["errors"]) == {forms.CURRENCY[0]}
        assert f"`{typed}` isn't a currency code" in refused["errors"][forms.CURRENCY[0]]
    with transaction(db) as session:
        assert session.execute(select(func.count()).select_from(CharterProposal)).scalar() == 0

    values[forms.CURRENCY[0]][forms.CURRENCY[1]]["value"] = " eur "
    assert submit(saydo, proposing, "U0CAROL", values).text == ""
    proposal_post = posted(slack, 2)[1]
    assert "Currency: GBP → EUR" in text_of(proposal_post.args)
    proposal_id = next(
        e["value"]
        for b in proposal_post.args["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == forms.ADOPT
    )
    ts = posted_ts(db, proposal_id)
    said = reply_at(slack, press(saydo, slack, forms.ADOPT, proposal_id, "U0ALICE", ts=ts))
    assert "version 2" in said["text"]
    adopted = domain.current_charter(db, partnership_id=partnership.id)
    assert adopted.settings.currency == "EUR"
    assert "Currency: GBP → EUR" in adopted.change_summary

    alice = find_person(db, user_id="U0ALICE", fresh_since=utcnow().replace(year=2000))
    today = utcnow().date()
    costs.save_ledger(
        db,
        partnership_id=partnership.id,
        actor=alice,
        draft=costs.LedgerDraft(
            area="Home care brokerage",
            project="Brokerage pilot",
            supplier=TRUST,
            budget="36,500",
            start=today - timedelta(days=30),
            end=today + timedelta(days=334),
        ),
        now=utcnow(),
    )
    recorded = text_of(saydo_says(saydo, slack, "cost P1 1,250.50"))
    assert "Recorded EUR 1,250.50 against P1 Brokerage pilot" in recorded
    assert "of EUR 36,500.00" in recorded and "GBP" not in recorded
