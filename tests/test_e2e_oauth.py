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
from sqlalchemy import select

from bot.commitments.service import ensure_partnership, save_person
from bot.config import load_settings
from bot.installations import Routes, bot_scopes
from bot.outbox.sending import Planned, enqueue
from bot.partnerships.members import refresh_all_members, upsert_member
from bot.slack_client import build_web_client, directories
from storage.db import transaction
from storage.models import OutboxMessage, Partnership
from tests.saydo_process import SIGNING_SECRET, SaydoProcess
from tests.test_cli import run_saydo
from tests.waiting import logged_message

CLIENT_ID = "1111111111.2222222222"
CLIENT_SECRET = "0123456789abcdef0123456789abcdef"
STATE_COOKIE = "slack-app-oauth-state"


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
    env = {
        "DATABASE_URL": database_url,
        "SLACK_API_URL": people.url,
        "SLACK_CLIENT_ID": CLIENT_ID,
        "SLACK_CLIENT_SECRET": CLIENT_SECRET,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
    }

    result = run_saydo("doctor", env=env, cwd=tmp_path)

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


def shared_channel(engine, *, home: str) -> None:
    """C0PARTNER set up in workspace `home`, with Alice (T0001) and Carol (T0PARTNER)."""
    now = datetime.now(UTC)
    partnership = ensure_partnership(engine, team_id=home, channel_id="C0PARTNER")
    for team, user, name in (("T0001", "U0ALICE", "alice"), ("T0PARTNER", "U0CAROL", "carol")):
        person = save_person(
            engine, team_id=team, user_id=user, name=name, tz="UTC", locale=None, now=now
        )
        upsert_member(
            engine, partnership_id=partnership.id, person=person, organisation=team, now=now
        )


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


def tick(slack, database_url, tmp_path, **extra) -> subprocess.Popen:
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
        [sys.executable, "-m", "bot", "tick"],
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
    assert rows(engine) == [
        ("U0CAROL", "pending", None, "token_revoked"),  # routed afresh at the next sweep
        ("U0ALICE", "sent", "T0001", None),
        ("U0CAROL", "failed", None, "no installation of Saydo reaches this conversation"),
        ("C0PARTNER", "sent", "T0001", None),  # rerouted through Alice's workspace
        ("C0PARTNER", "sent", "T0001", None),
    ]


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
