"""OAuth mode end to end: workspaces install Saydo through `/slack/install`, and each request
is authorised with the installation of the workspace it comes from."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from sqlalchemy import func, select

from bot.commitments.service import (
    PartnershipRef,
    PersonRef,
    ensure_partnership,
    log_commitment,
    save_person,
)
from bot.config import load_settings
from bot.installations import Routes, bot_scopes
from bot.outbox.sending import Planned, enqueue
from bot.partnerships.members import refresh_all_members, upsert_member
from bot.playground import slack_requests as doors
from bot.slack_client import build_web_client, directories
from storage.db import transaction
from storage.models import (
    Commitment,
    OutboxMessage,
    Partnership,
    Person,
    WorkspaceUninstall,
)
from tests.saydo_process import SIGNING_SECRET, SaydoProcess
from tests.test_cli import run_saydo
from tests.waiting import logged_message

CLIENT_ID = "1111111111.2222222222"
CLIENT_SECRET = "0123456789abcdef0123456789abcdef"
STATE_COOKIE = "slack-app-oauth-state"
NUDGED_TITLE = "send the housing budget"


OAUTH_ENV = {
    "SLACK_BOT_TOKEN": "",
    "SLACK_CLIENT_ID": CLIENT_ID,
    "SLACK_CLIENT_SECRET": CLIENT_SECRET,
}


@pytest.fixture
def oauth_saydo(people, database_url, tmp_path):
    """`saydo run` with app credentials instead of one workspace's token."""
    people.accept_oauth_client(CLIENT_ID, CLIENT_SECRET)
    process = SaydoProcess(
        slack_api_url=people.url,
        database_url=database_url,
        workdir=tmp_path,
        response_url_factory=people.response_url,
        extra_env=OAUTH_ENV,
    )
    process.start("--no-scheduler")
    yield process
    process.stop()


def start_install(saydo: SaydoProcess) -> tuple[str, str]:
    """Open the "Add to Slack" page: the state in its link, and the scopes asked for."""
    page = requests.get(saydo.base_url + "/slack/install", timeout=10)
    assert page.status_code == 200
    link = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page.text)
    assert link, page.text
    query = parse_qs(urlsplit(link.group(1).replace("&amp;", "&")).query)
    state = query["state"][0]
    assert f"{STATE_COOKIE}={state}" in page.headers["Set-Cookie"]
    assert query["client_id"] == [CLIENT_ID]
    return state, query["scope"][0]


def finish_install(saydo: SaydoProcess, *, code: str, state: str, cookie: str | None = None):
    """Slack's redirect back to Saydo, in the installer's browser (with its state cookie)."""
    return requests.get(
        saydo.base_url + "/slack/oauth_redirect",
        params={"code": code, "state": state},
        headers={"Cookie": f"{STATE_COOKIE}={cookie or state}"},
        timeout=10,
    )


def install(saydo: SaydoProcess, slack, team_id: str, installer: str) -> None:
    state, scopes = start_install(saydo)
    code = slack.approve_install(team_id, installer, scopes)
    assert finish_install(saydo, code=code, state=state).status_code == 200


def stored_bot_token(engine, team_id: str) -> str | None:
    bot = SQLAlchemyInstallationStore(client_id=CLIENT_ID, engine=engine).find_bot(
        enterprise_id=None, team_id=team_id
    )
    return bot.bot_token if bot else None


def test_a_workspace_installs_saydo_from_the_install_page(oauth_saydo, people, engine):
    state, scopes = start_install(oauth_saydo)
    assert scopes.split(",") == bot_scopes()  # what manifest.yml lists
    code = people.approve_install("T0PARTNER", "U0CAROL", scopes)

    finished = finish_install(oauth_saydo, code=code, state=state)

    assert finished.status_code == 200
    issued = {team: token for token, team in people.installed_teams().items()}
    assert stored_bot_token(engine, "T0PARTNER") == issued["T0PARTNER"]


def test_a_replayed_state_is_refused_and_installs_nothing(oauth_saydo, people, engine):
    state, scopes = start_install(oauth_saydo)
    first = people.approve_install("T0PARTNER", "U0CAROL", scopes)
    assert finish_install(oauth_saydo, code=first, state=state).status_code == 200
    again = people.approve_install("T0001", "U0ALICE", scopes)

    replayed = finish_install(oauth_saydo, code=again, state=state)

    assert replayed.status_code == 401
    assert stored_bot_token(engine, "T0001") is None
    assert list(people.installed_teams().values()) == ["T0PARTNER"]  # the code never exchanged


def test_a_forged_state_is_refused(oauth_saydo, people, engine):
    start_install(oauth_saydo)
    code = people.approve_install("T0001", "U0ALICE", "chat:write")

    never_issued = finish_install(oauth_saydo, code=code, state="forged-state")
    other_browser = finish_install(oauth_saydo, code=code, state="forged", cookie="other")

    assert never_issued.status_code == 401
    assert other_browser.status_code == 400
    assert stored_bot_token(engine, "T0001") is None


def test_each_request_is_authorised_by_its_own_workspaces_installation(oauth_saydo, people):
    install(oauth_saydo, people, "T0001", "U0ALICE")
    install(oauth_saydo, people, "T0PARTNER", "U0CAROL")
    token_of = {team: token for token, team in people.installed_teams().items()}
    people.clear()

    opened = oauth_saydo.command("/commit", user_id="U0CAROL", team_id="T0PARTNER")

    assert opened.status_code == 200
    (form,) = people.wait_for("views.open")
    assert form.token == token_of["T0PARTNER"]


def test_a_workspace_that_has_not_installed_saydo_is_told_to_install_it(oauth_saydo, people):
    install(oauth_saydo, people, "T0001", "U0ALICE")
    people.clear()

    answer = oauth_saydo.command("/saydo", "help", user_id="U0CAROL", team_id="T0PARTNER")

    assert answer.status_code == 200
    (told,) = people.wait_for("response_url")
    assert "not installed in your workspace" in told.args["text"]
    assert people.calls_to("views.open") == [] and people.calls_to("chat.postMessage") == []


def test_single_token_mode_serves_no_install_pages(saydo):
    assert requests.get(saydo.base_url + "/slack/install", timeout=10).status_code == 404


def test_doctor_reports_oauth_mode_and_each_installation(
    oauth_saydo, people, database_url, tmp_path
):
    install(oauth_saydo, people, "T0PARTNER", "U0CAROL")
    result = run_saydo("doctor", env=doctor_env(people, database_url), cwd=tmp_path)

    assert result.returncode == 0, result.stdout
    assert "ok    configuration: HTTP mode, installed through OAuth" in result.stdout
    assert (
        "ok    slack: 1 installation(s): Northshire NHS Trust (T0PARTNER): auth.test ok"
        in result.stdout
    )
    assert not any(token in result.stdout for token in people.installed_teams())


def token_of(slack) -> dict[str, str]:
    return {team: token for token, team in slack.installed_teams().items()}


def in_a_month() -> str:
    return f"{datetime.now(UTC) + timedelta(days=30):%d %b %Y}"


def test_commands_from_two_workspaces_in_one_shared_channel_are_one_partnership(
    oauth_saydo, people, engine
):
    install(oauth_saydo, people, "T0001", "U0ALICE")
    install(oauth_saydo, people, "T0PARTNER", "U0CAROL")

    oauth_saydo.command("/commit", f"send the budget by {in_a_month()}", user_id="U0ALICE")
    first = logged_message(people)
    oauth_saydo.command(
        "/commit", f"review the budget by {in_a_month()}", user_id="U0CAROL", team_id="T0PARTNER"
    )
    second = logged_message(people, count=2)

    assert "Logged *#1*" in first["text"] and "Logged *#2*" in second["text"]
    with transaction(engine) as session:
        channels = session.execute(select(Partnership.channel_id)).scalars().all()
    assert channels == ["C0PARTNER"]


def shared_channel(engine, *, home: str) -> tuple[PartnershipRef, dict[str, PersonRef]]:
    """C0PARTNER set up in workspace `home`, with Alice (T0001) and Carol (T0PARTNER)."""
    now = datetime.now(UTC)
    partnership = ensure_partnership(engine, team_id=home, channel_id="C0PARTNER")
    people = {}
    for team, user, name in (("T0001", "U0ALICE", "alice"), ("T0PARTNER", "U0CAROL", "carol")):
        people[user] = save_person(
            engine, team_id=team, user_id=user, name=name, tz="UTC", locale=None, now=now
        )
        upsert_member(
            engine, partnership_id=partnership.id, person=people[user], organisation=team, now=now
        )
    return partnership, people


def carols_first_nudge(engine, *, home: str = "T0PARTNER") -> datetime:
    """Carol's commitment in the shared channel, due in five days: when its first nudge is."""
    partnership, people = shared_channel(engine, home=home)
    now = datetime.now(UTC)
    log_commitment(
        engine,
        partnership=partnership,
        creator=people["U0CAROL"],
        owner=people["U0CAROL"],
        recipient=None,
        title=NUDGED_TITLE,
        due_at=(now + timedelta(days=5)).replace(hour=17, minute=0, second=0, microsecond=0),
        has_time=True,
        now=now,
    )
    with transaction(engine) as session:
        return session.execute(
            select(func.min(OutboxMessage.due_at)).where(OutboxMessage.kind == "nudge")
        ).scalar_one()


def nudges(engine) -> list[tuple[str, str, str | None, str | None]]:
    """The nudges sent (or failed): to whom, state, through which workspace, any fallback."""
    with transaction(engine) as session:
        return [
            (r.channel, r.state, r.sent_by_team, r.fallback or r.last_error)
            for r in session.execute(
                select(OutboxMessage)
                .where(OutboxMessage.kind == "nudge", OutboxMessage.state != "pending")
                .order_by(OutboxMessage.id)
            ).scalars()
        ]


def queue(engine, channels: list[str]) -> None:
    """A ready-made message to each of `channels`, due now, in this order."""
    now = datetime.now(UTC)
    with transaction(engine) as session:
        enqueue(
            session,
            [
                Planned(
                    f"test:{n}",
                    "announcement",
                    channel,
                    now + timedelta(microseconds=n),
                    payload={"text": f"message {n}"},
                )
                for n, channel in enumerate(channels)
            ],
            now=now,
        )


def rows(engine) -> list[tuple[str, str, str | None, str | None]]:
    """The queued test messages: channel, state, the workspace that sent it, last error."""
    with transaction(engine) as session:
        return [
            (r.channel, r.state, r.sent_by_team, r.last_error)
            for r in session.execute(
                select(OutboxMessage)
                .where(OutboxMessage.slot_key.startswith("test:"))
                .order_by(OutboxMessage.id)
            ).scalars()
        ]


def fallbacks(engine) -> list[str | None]:
    """The queued test messages' fallbacks (a DM told privately instead)."""
    with transaction(engine) as session:
        return list(
            session.execute(
                select(OutboxMessage.fallback)
                .where(OutboxMessage.slot_key.startswith("test:"))
                .order_by(OutboxMessage.id)
            ).scalars()
        )


def tick(slack, database_url, tmp_path, now: str | None = None, **extra) -> subprocess.Popen:
    env = {
        "DATABASE_URL": database_url,
        "SLACK_API_URL": slack.url,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "OUTBOX_CONCURRENCY": "1",
        **OAUTH_ENV,
        **extra,
    }
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "tick", *(["--now", now] if now else [])],
        env={**clean, **env},
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_each_message_is_sent_with_the_token_of_an_installation_that_reaches_it(
    oauth_saydo, people, engine, database_url, tmp_path
):
    install(oauth_saydo, people, "T0001", "U0ALICE")
    install(oauth_saydo, people, "T0PARTNER", "U0CAROL")
    shared_channel(engine, home="T0PARTNER")
    queue(engine, ["U0CAROL", "U0ALICE", "C0PARTNER"])
    people.clear()

    output, _ = tick(people, database_url, tmp_path).communicate(timeout=60)

    tokens = token_of(people)
    sent = {c.args["channel"]: c.token for c in people.calls_to("chat.postMessage")}
    assert sent == {
        "U0CAROL": tokens["T0PARTNER"],  # a DM through the person's own workspace
        "U0ALICE": tokens["T0001"],
        "C0PARTNER": tokens["T0PARTNER"],  # a channel through its partnership's workspace
    }, output
    assert [(channel, team) for channel, _, team, _ in rows(engine)] == [
        ("U0CAROL", "T0PARTNER"),
        ("U0ALICE", "T0001"),
        ("C0PARTNER", "T0PARTNER"),
    ]


def test_uninstall_mid_fan_out_sends_nothing_with_a_revoked_token_and_loses_nothing(
    oauth_saydo, people, engine, database_url, tmp_path
):
    install(oauth_saydo, people, "T0001", "U0ALICE")
    install(oauth_saydo, people, "T0PARTNER", "U0CAROL")
    shared_channel(engine, home="T0PARTNER")
    queue(engine, ["U0CAROL", "U0ALICE", "U0CAROL", "C0PARTNER", "C0PARTNER"])
    revoked = token_of(people)["T0PARTNER"]
    people.clear()
    people.hold("chat.postMessage")
    sending = tick(people, database_url, tmp_path)
    people.wait_until_held("chat.postMessage", timeout=30)
    waiting_since = time.monotonic()

    # The first DM to Carol is on its way when her workspace uninstalls Saydo.
    people.uninstall("T0PARTNER")
    assert oauth_saydo.event({"type": "app_uninstalled"}, team_id="T0PARTNER").status_code == 200
    while stored_bot_token(engine, "T0PARTNER") is not None:
        assert time.monotonic() - waiting_since < 30, "the installation was never deleted"
        time.sleep(0.05)
    people.release()
    output, _ = sending.communicate(timeout=60)

    with_revoked = [c for c in people.calls_to("chat.postMessage") if c.token == revoked]
    assert [c.answered for c in with_revoked] == ["error:token_revoked"], output  # in flight
    privately = "ephemeral in C0PARTNER: no installation of Saydo reaches this conversation"
    assert rows(engine) == [
        ("U0CAROL", "pending", None, "token_revoked"),  # routed afresh at the next sweep
        ("U0ALICE", "sent", "T0001", None),
        ("U0CAROL", "sent", "T0001", None),  # told privately in the shared channel instead
        ("C0PARTNER", "sent", "T0001", None),  # rerouted through Alice's workspace
        ("C0PARTNER", "sent", "T0001", None),
    ]
    assert fallbacks(engine) == [None, None, privately, None, None]

    later = f"{datetime.now(UTC) + timedelta(seconds=5):%Y-%m-%dT%H:%M:%S}Z"
    output, _ = tick(people, database_url, tmp_path, now=later).communicate(timeout=60)

    assert rows(engine)[0] == ("U0CAROL", "sent", "T0001", None), output
    assert fallbacks(engine)[0] == privately
    assert [c.args["user"] for c in people.calls_to("chat.postEphemeral")] == ["U0CAROL"] * 2
    assert not [c for c in people.calls if c.token == revoked and c.succeeded]


def test_revoked_bot_tokens_are_deleted_at_once(oauth_saydo, people, engine):
    install(oauth_saydo, people, "T0001", "U0ALICE")
    install(oauth_saydo, people, "T0PARTNER", "U0CAROL")

    revoked = oauth_saydo.event(
        {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT"]}}, team_id="T0PARTNER"
    )

    assert revoked.status_code == 200
    waiting_since = time.monotonic()
    while stored_bot_token(engine, "T0PARTNER") is not None:
        assert time.monotonic() - waiting_since < 30, "the revoked token was kept"
        time.sleep(0.05)
    assert stored_bot_token(engine, "T0001") == token_of(people)["T0001"]


def test_members_are_refreshed_through_an_installation_in_the_channel(oauth_saydo, people, engine):
    install(oauth_saydo, people, "T0PARTNER", "U0CAROL")
    shared_channel(engine, home="T0001")  # its own workspace never installed Saydo
    people.clear()
    settings = load_settings(
        {"SLACK_API_URL": people.url, **OAUTH_ENV}, dotenv_path=Path("absent.env")
    )

    client = build_web_client(settings)
    refresh_all_members(
        engine, directories(client, Routes(settings, engine)), now=datetime.now(UTC)
    )

    (read,) = people.calls_to("conversations.members")
    assert read.args["channel"] == "C0PARTNER" and read.token == token_of(people)["T0PARTNER"]


def doctor_env(slack, database_url) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "SLACK_API_URL": slack.url,
        "SLACK_CLIENT_ID": CLIENT_ID,
        "SLACK_CLIENT_SECRET": CLIENT_SECRET,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
    }


def test_doctor_lists_per_partnership_who_has_installed_saydo_and_what_the_others_can_do(
    oauth_saydo, people, engine, database_url, tmp_path
):
    install(oauth_saydo, people, "T0PARTNER", "U0CAROL")
    now = datetime.now(UTC)
    partnership = ensure_partnership(
        engine, team_id="T0001", channel_id="C0PARTNER", name="housing-partnership"
    )
    for team, user, name, organisation in (
        ("T0001", "U0ALICE", "alice", "Northshire County Council"),
        ("T0PARTNER", "U0CAROL", "carol", "Northshire NHS Trust"),
    ):
        person = save_person(
            engine, team_id=team, user_id=user, name=name, tz="UTC", locale=None, now=now
        )
        upsert_member(
            engine,
            partnership_id=partnership.id,
            person=person,
            organisation=organisation,
            now=now,
        )

    result = run_saydo("doctor", env=doctor_env(people, database_url), cwd=tmp_path)

    assert result.returncode == 0, result.stdout
    lines = result.stdout.splitlines()
    start = lines.index(
        "ok    partnerships: 1 partnership(s), 1 with organisations that have not installed Saydo"
    )
    listed, explained = lines[start + 1], lines[start + 2]
    assert listed == (
        "      #housing-partnership (C0PARTNER): installed: Northshire NHS Trust (T0PARTNER); "
        "not installed: Northshire County Council (T0001)"
    )
    assert explained.startswith("      Where an organisation has not installed Saydo, its people")
    assert "mention @saydo in the shared channel" in explained
    assert "private messages in the channel instead of DMs" in explained
    assert (
        "ok    erasure: data kept 30 day(s) after an uninstall (UNINSTALL_RETENTION_DAYS); "
        "no workspace is waiting to be erased" in lines
    )


def carols_name(engine) -> str | None:
    with transaction(engine) as session:
        return session.execute(
            select(Person.name).where(Person.team_id == "T0PARTNER")
        ).scalar_one_or_none()


def tick_at(slack, database_url, tmp_path, at: datetime) -> str:
    """`saydo tick --now at` in OAuth mode, keeping data 30 days after an uninstall."""
    result = run_saydo(
        "tick",
        "--now",
        at.isoformat(),
        env={
            "DATABASE_URL": database_url,
            "SLACK_API_URL": slack.url,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "UNINSTALL_RETENTION_DAYS": "30",
            **OAUTH_ENV,
        },
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def uninstalled(saydo: SaydoProcess, slack, engine, team_id: str) -> datetime:
    """`team_id` uninstalls Saydo; returns an instant just before Saydo heard of it."""
    before = datetime.now(UTC) - timedelta(seconds=1)
    slack.uninstall(team_id)
    assert saydo.event({"type": "app_uninstalled"}, team_id=team_id).status_code == 200
    waiting_since = time.monotonic()
    while stored_bot_token(engine, team_id) is not None:
        assert time.monotonic() - waiting_since < 30, "the installation was never deleted"
        time.sleep(0.05)
    return before


def test_a_workspace_is_erased_once_when_the_retention_period_after_its_uninstall_has_passed(
    oauth_saydo, people, engine, database_url, tmp_path
):
    install(oauth_saydo, people, "T0001", "U0ALICE")
    install(oauth_saydo, people, "T0PARTNER", "U0CAROL")
    shared_channel(engine, home="T0001")
    at = uninstalled(oauth_saydo, people, engine, "T0PARTNER")

    early = tick_at(people, database_url, tmp_path, at + timedelta(days=29, hours=23))
    assert "Erased" not in early and carols_name(engine) == "carol"

    due = tick_at(people, database_url, tmp_path, at + timedelta(days=30, minutes=1))
    assert due.splitlines()[0] == (
        "Erased workspace T0PARTNER, 30 day(s) after it uninstalled Saydo: "
        "1 person(s): name, Slack id and profile replaced by a tombstone"
    )
    assert carols_name(engine) == "Former member"
    with transaction(engine) as session:
        alice = session.execute(select(Person.name).where(Person.team_id == "T0001")).scalar()
    assert alice == "alice"  # the workspace that kept Saydo keeps its people

    again = tick_at(people, database_url, tmp_path, at + timedelta(days=31))
    assert "Erased" not in again  # once


def test_installing_again_before_the_period_ends_cancels_the_erasure(
    oauth_saydo, people, engine, database_url, tmp_path
):
    install(oauth_saydo, people, "T0001", "U0ALICE")
    install(oauth_saydo, people, "T0PARTNER", "U0CAROL")
    shared_channel(engine, home="T0001")
    at = uninstalled(oauth_saydo, people, engine, "T0PARTNER")
    install(oauth_saydo, people, "T0PARTNER", "U0CAROL")

    later = tick_at(people, database_url, tmp_path, at + timedelta(days=45))

    assert "Erased" not in later and carols_name(engine) == "carol"
    with transaction(engine) as session:
        assert session.execute(select(WorkspaceUninstall)).scalars().all() == []


def test_doctor_says_when_an_uninstalled_workspace_will_be_erased(
    oauth_saydo, people, engine, database_url, tmp_path
):
    install(oauth_saydo, people, "T0PARTNER", "U0CAROL")
    uninstalled(oauth_saydo, people, engine, "T0PARTNER")
    with transaction(engine) as session:
        at = session.execute(select(WorkspaceUninstall.uninstalled_at)).scalar_one()

    result = run_saydo("doctor", env=doctor_env(people, database_url), cwd=tmp_path)

    lines = result.stdout.splitlines()
    start = lines.index(
        "ok    erasure: data kept 30 day(s) after an uninstall (UNINSTALL_RETENTION_DAYS); "
        "1 workspace(s) waiting to be erased"
    )
    assert lines[start + 1] == (
        f"      T0PARTNER: uninstalled Saydo on {at:%Y-%m-%d}, its people's data is erased "
        f"from {at + timedelta(days=30):%Y-%m-%d %H:%M} UTC"
    )


def test_a_nudge_to_a_person_whose_workspace_has_no_installation_arrives_privately(
    oauth_saydo, people, engine, database_url, tmp_path
):
    install(oauth_saydo, people, "T0001", "U0ALICE")  # Carol's workspace never installs Saydo
    due = carols_first_nudge(engine)
    people.clear()

    output, _ = tick(people, database_url, tmp_path, now=f"{due:%Y-%m-%dT%H:%M:%S}Z").communicate(
        timeout=60
    )

    assert nudges(engine) == [
        (
            "U0CAROL",
            "sent",
            "T0001",
            "ephemeral in C0PARTNER: no installation of Saydo reaches this conversation",
        )
    ], output
    seen_by_carol = people.conversation("C0PARTNER", viewer="U0CAROL")
    (nudge,) = [m for m in seen_by_carol if is_nudge(m)]
    assert nudge["ephemeral"] and nudge["for"] == "U0CAROL" and NUDGED_TITLE in nudge["text"]
    everyone_sees = people.conversation("C0PARTNER", viewer="U0ALICE")
    assert not [m for m in everyone_sees if is_nudge(m)]  # never posted publicly
    assert not [c for c in people.calls_to("chat.postMessage") if is_nudge(c.args)]


def is_nudge(message: dict) -> bool:
    return any(b.get("block_id", "").startswith("nudge_") for b in message.get("blocks") or [])


def test_a_dm_slack_refuses_to_open_goes_privately_or_fails_saying_why(
    oauth_saydo, people, engine, database_url, tmp_path
):
    install(oauth_saydo, people, "T0001", "U0ALICE")
    install(oauth_saydo, people, "T0PARTNER", "U0CAROL")
    shared_channel(engine, home="T0001")
    save_person(  # Bob is in no partnership Saydo knows
        engine,
        team_id="T0001",
        user_id="U0BOB",
        name="bob",
        tz="UTC",
        locale=None,
        now=datetime.now(UTC),
    )
    queue(engine, ["U0CAROL", "U0BOB"])
    people.refuse_dms("U0CAROL")
    people.refuse_dms("U0BOB")
    people.clear()

    output, _ = tick(people, database_url, tmp_path).communicate(timeout=60)

    assert [(channel, state, team) for channel, state, team, _ in rows(engine)] == [
        ("U0CAROL", "sent", "T0001"),
        ("U0BOB", "failed", None),
    ], output
    assert fallbacks(engine) == ["ephemeral in C0PARTNER: cannot_dm_bot", None]
    assert rows(engine)[1][3] == (
        "cannot_dm_bot; no partnership channel of theirs to tell them privately"
    )
    (ephemeral,) = people.calls_to("chat.postEphemeral")
    assert (ephemeral.args["channel"], ephemeral.args["user"]) == ("C0PARTNER", "U0CAROL")


def test_an_expired_token_is_refreshed_before_commands_and_nudges_use_it(
    oauth_saydo, people, engine, database_url, tmp_path
):
    # Ten-minute tokens: inside the two hours before expiry, so Saydo refreshes before each use.
    people.rotate_tokens(expires_in=600)
    install(oauth_saydo, people, "T0001", "U0ALICE")
    install(oauth_saydo, people, "T0PARTNER", "U0CAROL")
    expired = people.newest_token("T0PARTNER")
    people.expire_tokens()
    people.clear()

    opened = oauth_saydo.command("/commit", user_id="U0CAROL", team_id="T0PARTNER")

    assert opened.status_code == 200
    (form,) = people.wait_for("views.open")
    refreshed = people.newest_token("T0PARTNER")
    assert form.token == refreshed != expired and form.succeeded
    assert stored_bot_token(engine, "T0PARTNER") == refreshed
    (refresh,) = people.calls_to("oauth.v2.access")
    assert refresh.args["grant_type"] == "refresh_token" and refresh.succeeded

    due = carols_first_nudge(engine)
    people.expire_tokens()
    people.clear()
    output, _ = tick(people, database_url, tmp_path, now=f"{due:%Y-%m-%dT%H:%M:%S}Z").communicate(
        timeout=60
    )

    assert nudges(engine) == [("U0CAROL", "sent", "T0PARTNER", None)], output
    (nudge,) = [c for c in people.calls_to("chat.postMessage") if c.args["channel"] == "U0CAROL"]
    assert nudge.succeeded and nudge.token not in (expired, refreshed)  # refreshed again
    assert stored_bot_token(engine, "T0PARTNER") == people.newest_token("T0PARTNER")
    assert not [c for c in people.calls if c.answered == "error:token_expired"]


def test_doctor_refreshes_an_expired_rotating_token_before_testing_it(
    oauth_saydo, people, database_url, tmp_path
):
    people.rotate_tokens(expires_in=600)
    install(oauth_saydo, people, "T0PARTNER", "U0CAROL")
    people.expire_tokens()
    people.clear()
    result = run_saydo("doctor", env=doctor_env(people, database_url), cwd=tmp_path)

    assert result.returncode == 0, result.stdout
    assert "Northshire NHS Trust (T0PARTNER): auth.test ok" in result.stdout
    (test,) = people.calls_to("auth.test")
    assert test.succeeded and test.token == people.newest_token("T0PARTNER")


def test_the_same_event_delivered_through_two_installations_is_handled_once(
    oauth_saydo, people, engine
):
    install(oauth_saydo, people, "T0001", "U0ALICE")
    install(oauth_saydo, people, "T0PARTNER", "U0CAROL")
    mention = people.post_as(
        "U0CAROL", "C0PARTNER", f"<@UBOT> I'll {NUDGED_TITLE} by {in_a_month()}"
    )
    event = doors.app_mention_event(
        user_id="U0CAROL",
        text=mention["text"],
        channel_id="C0PARTNER",
        ts=mention["ts"],
        team_id="T0PARTNER",
    )
    people.clear()

    for through in ("T0001", "T0PARTNER"):
        delivered = oauth_saydo.event(
            event,
            event_id="Ev0SHARED01",
            team_id=through,
            authorized_teams=people.authorizations_for("C0PARTNER", through=through),
        )
        assert delivered.status_code == 200
    waiting_since = time.monotonic()
    while "Skipping a repeated delivery" not in oauth_saydo.log():
        assert time.monotonic() - waiting_since < 30, "the second delivery was never handled"
        time.sleep(0.05)
    people.wait_for("chat.postMessage")

    replies = [c for c in people.calls_to("chat.postMessage") if c.args.get("thread_ts")]
    assert [(c.args["thread_ts"], c.succeeded) for c in replies] == [(mention["ts"], True)]
    assert "Logged *#1*" in replies[0].args["text"]
    with transaction(engine) as session:
        assert session.execute(select(func.count(Commitment.id))).scalar_one() == 1


def test_a_dm_from_a_listener_goes_through_the_persons_own_workspace(oauth_saydo, people):
    install(oauth_saydo, people, "T0001", "U0ALICE")
    install(oauth_saydo, people, "T0PARTNER", "U0CAROL")
    people.clear()

    oauth_saydo.command("/commit", f"<@U0CAROL> share the risk register by {in_a_month()}")

    posted = people.wait_for("chat.postMessage", count=2)  # "Logged" in the channel, her DM
    (proposal,) = [c for c in posted if c.args["channel"] == "U0CAROL"]
    tokens = token_of(people)
    assert proposal.token == tokens["T0PARTNER"] and proposal.succeeded
    (home,) = [c for c in people.wait_for("views.publish") if c.args["user_id"] == "U0CAROL"]
    assert home.token == tokens["T0PARTNER"] and home.succeeded


def test_a_dm_from_a_listener_to_a_workspace_without_saydo_arrives_privately_in_the_channel(
    oauth_saydo, people, engine
):
    install(oauth_saydo, people, "T0001", "U0ALICE")  # Carol's workspace never installs Saydo
    shared_channel(engine, home="T0001")
    people.clear()

    oauth_saydo.command("/commit", f"<@U0CAROL> share the risk register by {in_a_month()}")

    (proposal,) = people.wait_for("chat.postEphemeral")
    assert (proposal.args["channel"], proposal.args["user"]) == ("C0PARTNER", "U0CAROL")
    assert proposal.token == token_of(people)["T0001"] and proposal.succeeded, proposal.args
    seen_by_carol = people.conversation("C0PARTNER", viewer="U0CAROL")
    assert [m.get("ephemeral") for m in seen_by_carol if is_proposal(m)] == [True]
    seen_by_alice = people.conversation("C0PARTNER", viewer="U0ALICE")
    assert not [m for m in seen_by_alice if is_proposal(m)]  # never posted publicly


def is_proposal(message: dict) -> bool:
    return any(b.get("block_id", "").startswith("proposal_") for b in message.get("blocks") or [])
