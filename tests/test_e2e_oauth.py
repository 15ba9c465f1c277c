"""OAuth mode end to end: workspaces install Saydo through `/slack/install`, and each request
is authorised with the installation of the workspace it comes from."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

from bot.installations import bot_scopes
from tests.saydo_process import SIGNING_SECRET, SaydoProcess
from tests.test_cli import run_saydo

CLIENT_ID = "1111111111.2222222222"
CLIENT_SECRET = "0123456789abcdef0123456789abcdef"
STATE_COOKIE = "slack-app-oauth-state"


@pytest.fixture
def oauth_saydo(people, database_url, tmp_path):
    """`saydo run` with app credentials instead of one workspace's token."""
    people.accept_oauth_client(CLIENT_ID, CLIENT_SECRET)
    process = SaydoProcess(
        slack_api_url=people.url,
        database_url=database_url,
        workdir=tmp_path,
        response_url_factory=people.response_url,
        extra_env={
            "SLACK_BOT_TOKEN": "",
            "SLACK_CLIENT_ID": CLIENT_ID,
            "SLACK_CLIENT_SECRET": CLIENT_SECRET,
        },
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
