"""`saydo run` end to end: real signed HTTP requests in, real Web API calls out."""

from __future__ import annotations

import json
import time

import pytest
import requests

from bot.playground import slack_requests as doors
from tests.saydo_process import SIGNING_SECRET, signed_headers

pytestmark = pytest.mark.share_saydo  # one `saydo run` per module


def test_saydo_help_is_answered_ephemerally(saydo):
    response = saydo.command("/saydo", "help")
    assert response.status_code == 200
    reply = response.json()
    assert reply["response_type"] == "ephemeral"
    assert "/saydo help" in reply["text"] or any(
        "/saydo help" in json.dumps(block) for block in reply["blocks"]
    )


def test_saydo_with_no_text_is_the_help(saydo):
    reply = saydo.command("/saydo", "").json()
    assert reply["response_type"] == "ephemeral"
    assert "I don't know" not in reply["text"]
    assert "/saydo help" in json.dumps(reply["blocks"])


def test_an_unknown_subcommand_says_so_then_helps(saydo):
    reply = saydo.command("/saydo", "frobnicate <!channel>").json()
    assert reply["text"].startswith("I don't know `frobnicate`")
    assert "/saydo help" in json.dumps(reply["blocks"])


def _help_body() -> str:
    return doors.slash_command_body(
        command="/saydo",
        text="help",
        user_id="U0ALICE",
        channel_id="C0PARTNER",
        team_id="T0001",
        response_url="http://127.0.0.1:9/r",
        trigger_id="1.2",
    )


def test_forged_stale_malformed_and_missing_signatures_get_401(saydo):
    url = saydo.base_url + "/slack/events"
    body = _help_body()
    forged = signed_headers(body, secret="0123456789abcdef0123456789abcdef")
    stale = signed_headers(body, timestamp=int(time.time()) - 6 * 60)
    malformed_timestamp = {**signed_headers(body), "X-Slack-Request-Timestamp": "yesterday"}
    malformed_signature = {**signed_headers(body), "X-Slack-Signature": "v0=not-hex"}
    missing = {"Content-Type": "application/x-www-form-urlencoded"}
    for headers in (forged, stale, malformed_timestamp, malformed_signature, missing):
        response = requests.post(url, data=body, headers=headers, timeout=10)
        assert response.status_code == 401, headers
    # A correct signature over the same body is accepted.
    assert requests.post(url, data=body, headers=signed_headers(body), timeout=10).ok


def test_rejected_requests_leave_no_secret_in_the_log(saydo):
    body = _help_body() + "&token=legacy-verification-secret"
    headers = signed_headers(body, secret="0123456789abcdef0123456789abcdef")
    requests.post(saydo.base_url + "/slack/events", data=body, headers=headers, timeout=10)
    saydo.stop()
    log = saydo.log()
    assert "Rejected a request" in log
    for secret in ("legacy-verification-secret", SIGNING_SECRET, saydo.env["SLACK_BOT_TOKEN"]):
        assert secret not in log


def test_healthz_reports_database_and_scheduler(saydo_with_scheduler):
    response = requests.get(saydo_with_scheduler.base_url + "/healthz", timeout=5)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "scheduler": "running"}


def test_other_paths_and_methods_are_refused(saydo):
    assert requests.get(saydo.base_url + "/slack/events", timeout=5).status_code == 405
    assert requests.get(saydo.base_url + "/admin", timeout=5).status_code == 404


def test_an_event_delivered_twice_is_handled_once(saydo, slack):
    event = doors.app_mention_event(
        user_id="U0ALICE",
        text="<@UBOT> help",
        channel_id="C0PARTNER",
        ts="1764000000.000100",
        team_id="T0001",
    )
    first = saydo.event(event, event_id="Ev0DUPLICATE")
    retry = saydo.event(event, event_id="Ev0DUPLICATE", retry_num=1)
    assert first.status_code == retry.status_code == 200
    slack.wait_for("chat.postMessage", count=1)
    saydo.settle()  # a wrongly handled retry would have been answered by now
    replies = slack.calls_to("chat.postMessage")
    assert len(replies) == 1
    assert replies[0].args["thread_ts"] == "1764000000.000100"
    saydo.event(event, event_id="Ev0DIFFERENT")
    slack.wait_for("chat.postMessage", count=2)


def test_sigterm_exits_cleanly_and_says_so(saydo_with_scheduler):
    saydo = saydo_with_scheduler
    assert saydo.command("/saydo", "help").status_code == 200
    assert saydo.terminate() == 0
    log = saydo.log()
    assert "Received SIGTERM, shutting down" in log
    assert "Scheduler stopped" in log
    assert "Saydo stopped" in log
    assert "will be unused" not in log  # Bolt's misleading warning about the token is filtered
