"""Coffee rounds end to end: `saydo tick --now` at chosen instants against the Slack stand-in,
and `/saydo coffee` and the We met button through a running `saydo`.

The partnership began on Monday 5 October 2026 in Europe/London; rounds are every second Tuesday
at 10:00 local time, so 20 October is 09:00 UTC (summer time) and 3 November 10:00 UTC (winter).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.charter.service import coffee_round_at
from bot.commitments.service import ensure_partnership, log_commitment, save_person
from bot.partnerships.members import upsert_member
from bot.policy.charter_settings import CharterSettings
from storage.db import transaction
from storage.models import CoffeePairing, Partnership
from tests.test_e2e_commitments import button, reply_to
from tests.test_e2e_scheduler import saydo_cli

pytestmark = [pytest.mark.e2e, pytest.mark.share_saydo]  # one `saydo run` per module

BEGAN = datetime(2026, 10, 5, 8, tzinfo=UTC)
TEAMS = {"U0ALICE": "T0001", "U0BOB": "T0001", "U0CAROL": "T0PARTNER"}
ORGS = {"U0ALICE": "Northshire Council", "U0BOB": "Northshire Council"}


@pytest.fixture
def members(engine, people):
    partnership = ensure_partnership(engine, team_id="T0001", channel_id="C0PARTNER")
    with transaction(engine) as session:
        session.execute(
            update(Partnership).where(Partnership.id == partnership.id).values(created_at=BEGAN)
        )
    found = {}
    for user_id, team_id in TEAMS.items():
        person = save_person(
            engine,
            team_id=team_id,
            user_id=user_id,
            name=user_id.removeprefix("U0").title(),
            tz="Europe/London",
            locale="en-GB",
            now=BEGAN,
        )
        upsert_member(
            engine,
            partnership_id=partnership.id,
            person=person,
            organisation=ORGS.get(user_id, "Northshire NHS Trust"),
            now=BEGAN,
        )
        found[user_id] = person
    found["partnership"] = partnership
    return found


def tick(at: str, *, database_url, slack, cwd) -> str:
    result = saydo_cli("tick", "--now", at, database_url=database_url, slack=slack, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result.stdout


def opened(slack):
    return [
        tuple(sorted(c.args["users"].split(",")))
        for c in slack.calls_to("conversations.open")
        if c.succeeded
    ]


def coffee_posts(slack):
    return [
        c
        for c in slack.calls_to("chat.postMessage")
        if c.succeeded and ("coffee" in c.args["text"] or "meet" in c.args["text"])
    ]


def test_rounds_follow_the_local_clock_across_the_change_and_we_met_is_recorded(
    saydo, engine, database_url, members, slack, tmp_path
):
    run = {"database_url": database_url, "slack": slack, "cwd": tmp_path}
    saydo.command("/saydo", "coffee off", user_id="U0BOB")
    assert "no more coffee rounds" in str(reply_to(slack))

    assert "Nothing due" in tick("2026-10-20T08:59Z", **run)
    out = tick("2026-10-20T09:00Z", **run)  # Tue 10:00 BST
    assert "coffee intro: Alice & Carol" in out
    assert opened(slack) == [("U0ALICE", "U0CAROL")]  # Bob opted out: not paired, not told
    intro = coffee_posts(slack)[-1]
    group = intro.args["channel"]
    assert group.startswith("G")
    assert "Northshire NHS Trust" in str(intro.args["blocks"])
    assert not [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "U0BOB"]

    out = tick("2026-10-27T09:00Z", **run)  # a week later: nobody answered yet
    assert "coffee follow-up" in out
    follow_up = slack.calls_to("chat.postMessage")[-1]
    assert follow_up.args["channel"] == group
    pairing_id = next(
        e["value"]
        for b in follow_up.args["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    )
    button(saydo, slack, "coffee_met", pairing_id, user="U0ALICE", channel=group)
    assert "you met up" in str(reply_to(slack, 2))
    with transaction(engine) as session:
        rows = session.execute(select(CoffeePairing).order_by(CoffeePairing.id)).scalars().all()
    assert [(r.outcome, r.answered_by_id) for r in rows] == [("met", members["U0ALICE"].id)]

    # After the clocks go back: Tue 3 Nov 10:00 GMT is 10:00 UTC, not 09:00
    assert "coffee intro" not in tick("2026-11-03T09:59Z", **run)
    assert "coffee intro: alice & carol" in tick("2026-11-03T10:00Z", **run).lower()
    with transaction(engine) as session:
        rows = session.execute(select(CoffeePairing).order_by(CoffeePairing.id)).scalars().all()
    assert [r.outcome for r in rows] == ["met", None]  # the answer belongs to its round only
    assert "coffee follow-up" in tick("2026-11-10T10:00Z", **run)


def test_coffee_command_shows_the_pairing_and_the_next_round(
    saydo, engine, database_url, members, slack, tmp_path
):
    run = {"database_url": database_url, "slack": slack, "cwd": tmp_path}
    saydo.command("/saydo", "coffee", user_id="U0ALICE")
    assert "the next round is" in str(reply_to(slack))
    # The latest round before now (the command reads the real clock)
    latest = coffee_round_at(
        CharterSettings(),
        "Europe/London",
        began=BEGAN.date(),
        on_or_after=datetime.now(UTC) - timedelta(weeks=2),
    )
    tick(f"{latest:%Y-%m-%dT%H:%MZ}", **run)
    saydo.command("/saydo", "coffee", user_id="U0BOB", channel_id="D0BOB")
    text = str(reply_to(slack, 2))
    assert "paired with" in text and "the next round is" in text
    saydo.command("/saydo", "coffee pause until someday maybe", user_id="U0CAROL")
    assert "For example: `/saydo coffee pause until 1 December`" in str(reply_to(slack, 3))


def test_course_correction_goes_to_the_two_people_only(
    engine, database_url, members, slack, tmp_path
):
    alice = members["U0ALICE"]
    for n, days in enumerate((10, 5)):
        log_commitment(
            engine,
            partnership=members["partnership"],
            creator=alice,
            owner=alice,
            recipient=None,
            title=f"send draft {n}",
            due_at=datetime(2026, 10, 13, 9, tzinfo=UTC) - timedelta(days=days),
            has_time=True,
            now=datetime(2026, 10, 13, 9, tzinfo=UTC) - timedelta(days=days + 3),
        )
    out = tick("2026-10-13T09:00Z", database_url=database_url, slack=slack, cwd=tmp_path)
    assert "coffee correction note" in out
    corrections = [
        c for c in slack.calls_to("chat.postMessage") if c.succeeded and "coffee" in c.args["text"]
    ]
    channels = {c.args["channel"] for c in corrections}
    assert len(corrections) == 3
    assert {"U0ALICE", "U0CAROL"} <= channels
    assert opened(slack) == [("U0ALICE", "U0CAROL")]
    assert not [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "C0PARTNER"]
    assert not [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == "U0BOB"]
    to_carol = next(c for c in corrections if c.args["channel"] == "U0CAROL")
    assert "missed" not in to_carol.args["text"] and "0 of 2" not in to_carol.args["text"]
    to_alice = next(c for c in corrections if c.args["channel"] == "U0ALICE")
    assert "kept 0 of 2" in to_alice.args["text"]
