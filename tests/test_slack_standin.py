"""Tests of the Slack Web API stand-in and the offline contract checks, via a real WebClient."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator

from bot.playground.standin import ACCEPTED_ARGUMENTS, SlackStandIn
from tests.slack_contract import (
    ALWAYS_ALLOWED,
    SPEC_GAPS,
    answer_problems,
    assert_valid_blocks,
    assert_valid_view,
    call_problems,
    check_call,
    validate_message_blocks,
    web_api_methods,
)

SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "*Agreed:* buy a kettle"}}
MODAL = {
    "type": "modal",
    "callback_id": "new_item",
    "title": {"type": "plain_text", "text": "New item"},
    "submit": {"type": "plain_text", "text": "Save"},
    "blocks": [
        {
            "type": "input",
            "block_id": "what",
            "label": {"type": "plain_text", "text": "What"},
            "element": {"type": "plain_text_input", "action_id": "what_input"},
        }
    ],
}
FAST = FixedValueRetryIntervalCalculator(fixed_internal=0.01)


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    """Overrides the conftest fixture: these tests provoke violations on purpose."""
    with SlackStandIn(contract=call_problems) as standin:
        yield standin


def client(slack: SlackStandIn, *handlers: object) -> WebClient:
    return WebClient(base_url=slack.url, token="xoxb-test", retry_handlers=list(handlers))


def test_url_is_a_local_api_base_with_trailing_slash(slack: SlackStandIn) -> None:
    assert slack.url.startswith("http://127.0.0.1:")
    assert slack.url.endswith("/api/")


def test_post_message_is_recorded_with_decoded_blocks_and_answered_like_slack(
    slack: SlackStandIn,
) -> None:
    web = client(slack)
    first = web.chat_postMessage(channel="C100", text="hello", blocks=[SECTION])
    second = web.chat_postMessage(channel="C100", text="again")

    assert first["channel"] == "C100"
    assert first["message"]["text"] == "hello"
    assert first["message"]["bot_id"] == "BBOT"
    assert float(second["ts"]) > float(first["ts"])
    [call, _] = slack.calls_to("chat.postMessage")
    assert call.args["blocks"] == [SECTION]
    assert call.args["channel"] == "C100"
    assert call.token == "xoxb-test"
    assert call.succeeded
    assert [c.args["text"] for c in slack.messages_to("C100")] == ["hello", "again"]
    slack.assert_clean()


def test_form_encoded_blocks_are_decoded_and_checked(slack: SlackStandIn) -> None:
    params = {"channel": "C1", "text": "x", "blocks": json.dumps([SECTION, {"type": "nope"}])}
    client(slack).api_call("chat.postMessage", params=params)

    [call] = slack.calls
    assert call.content_type.startswith("application/x-www-form-urlencoded")
    assert call.args["blocks"] == [SECTION, {"type": "nope"}]
    assert slack.violations == ["chat.postMessage: blocks $[1]: unknown or misplaced type 'nope'"]


def test_auth_test_and_team_info_answer_from_the_directory(slack: SlackStandIn) -> None:
    slack.add_team("T0002", "Other Council", "other")
    web = client(slack)

    auth = web.auth_test()
    assert (auth["team_id"], auth["user_id"], auth["bot_id"]) == ("T0001", "UBOT", "BBOT")
    assert auth["team"] == "Saydo Test Council"
    assert web.team_info(team="T0002")["team"]["domain"] == "other"
    slack.assert_clean()


def test_users_info_answers_tz_and_locale_from_the_directory(slack: SlackStandIn) -> None:
    slack.add_user("U1", name="ann", real_name="Ann Smith", tz="Asia/Kolkata", locale="fr-FR")
    web = client(slack)

    user = web.users_info(user="U1", include_locale=True)["user"]
    assert (user["tz"], user["tz_offset"], user["locale"]) == ("Asia/Kolkata", 19800, "fr-FR")
    assert user["profile"]["real_name"] == "Ann Smith"
    assert user["is_bot"] is False
    assert "locale" not in web.users_info(user="U1")["user"]
    assert web.users_info(user="UBOT")["user"]["is_bot"] is True
    with pytest.raises(SlackApiError) as excinfo:
        web.users_info(user="U404")
    assert excinfo.value.response["error"] == "user_not_found"
    slack.assert_clean()


def test_channel_directory_answers_conversation_methods(slack: SlackStandIn) -> None:
    slack.add_user("U1", name="ann")
    slack.add_user("U2", name="bob")
    slack.add_channel("C1", name="council", members=["U1", "U2", "UBOT"], is_ext_shared=True)
    slack.add_channel("C2", name="other", members=["U2"])
    web = client(slack)

    assert web.conversations_members(channel="C1")["members"] == ["U1", "U2", "UBOT"]
    info = web.conversations_info(channel="C1")["channel"]
    assert (info["name"], info["is_ext_shared"], info["is_member"]) == ("council", True, True)
    listed = web.users_conversations(user="U2")["channels"]
    assert sorted(c["id"] for c in listed) == ["C1", "C2"]
    dm = web.conversations_open(users="U1")["channel"]["id"]
    assert dm.startswith("D")
    assert web.conversations_open(users=["U1"])["channel"]["id"] == dm
    assert web.conversations_open(users=["U1", "U2"])["channel"]["id"][0] in "GC"
    slack.assert_clean()


def test_views_echo_the_submitted_view_with_an_id_and_hash(slack: SlackStandIn) -> None:
    slack.add_user("U1", name="ann")
    web = client(slack)

    opened = web.views_open(trigger_id="123.456", view=MODAL)["view"]
    assert opened["id"].startswith("V")
    assert opened["callback_id"] == "new_item"
    updated = web.views_update(view_id=opened["id"], view=MODAL, hash=opened["hash"])["view"]
    assert updated["id"] == opened["id"]
    home = {"type": "home", "blocks": [SECTION]}
    assert web.views_publish(user_id="U1", view=home)["view"]["type"] == "home"
    [call] = slack.calls_to("views.open")
    assert call.args["view"] == MODAL
    assert call.content_type.startswith("application/json")
    slack.assert_clean()


def test_unknown_method_answers_unknown_method_and_is_a_violation(slack: SlackStandIn) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client(slack).api_call("chat.nonsense", params={"channel": "C1"})

    assert excinfo.value.response["error"] == "unknown_method"
    assert any("chat.nonsense" in v for v in slack.violations)
    with pytest.raises(AssertionError, match=r"chat\.nonsense"):
        slack.assert_clean()


def test_unknown_argument_is_refused_like_slack_and_is_a_violation(slack: SlackStandIn) -> None:
    with pytest.raises(SlackApiError) as refused:
        client(slack).api_call(
            "chat.postMessage", params={"channel": "C1", "text": "x", "colour": 1}
        )

    assert refused.value.response["error"] == "invalid_arguments"
    assert refused.value.response["response_metadata"]["messages"] == [
        "[ERROR] unknown argument 'colour'"
    ]
    [violation] = slack.violations
    assert "chat.postMessage" in violation
    assert "'colour'" in violation


def test_raw_form_post_with_token_argument_is_parsed(slack: SlackStandIn) -> None:
    body = b"token=xoxb-raw&user=UBOT"
    request = urllib.request.Request(
        slack.url + "users.info",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(request) as response:
        answer = json.load(response)

    assert answer["user"]["id"] == "UBOT"
    [call] = slack.calls
    assert (call.method, call.token, call.args["user"]) == ("users.info", "xoxb-raw", "UBOT")
    slack.assert_clean()


@pytest.mark.parametrize(
    "blocks",
    [
        pytest.param([{"type": "section"}], id="section-without-text-or-fields"),
        pytest.param([SECTION | {"block_id": "a"}, SECTION | {"block_id": "a"}], id="dup-block-id"),
    ],
)
def test_invalid_blocks_are_violations(slack: SlackStandIn, blocks: list[dict]) -> None:
    client(slack).chat_postMessage(channel="C1", text="fallback", blocks=blocks)

    assert slack.violations
    assert all(v.startswith("chat.postMessage: blocks $") for v in slack.violations)


def test_more_than_fifty_blocks_are_refused_like_slack(slack: SlackStandIn) -> None:
    with pytest.raises(SlackApiError, match="invalid_blocks"):
        client(slack).chat_postMessage(channel="C1", text="x", blocks=[{"type": "divider"}] * 51)

    assert slack.violations
    assert all(v.startswith("chat.postMessage: blocks $") for v in slack.violations)


def test_invalid_view_is_a_violation(slack: SlackStandIn) -> None:
    modal_without_submit = {key: value for key, value in MODAL.items() if key != "submit"}

    client(slack).views_open(trigger_id="1.2", view=modal_without_submit)

    assert slack.violations == ["views.open: view $: 'submit' is a required property"]


def test_rate_limited_call_is_retried_after_retry_after(slack: SlackStandIn) -> None:
    slack.fail("chat.postMessage", status=429, retry_after=1)
    web = client(slack, RateLimitErrorRetryHandler(max_retry_count=1))

    assert web.chat_postMessage(channel="C1", text="hi")["ok"] is True

    first, second = slack.calls_to("chat.postMessage")
    assert (first.answered, second.answered) == ("429", "ok")
    assert second.at - first.at >= 1.0
    slack.assert_clean()


@pytest.mark.parametrize("status", [500, 503])
def test_server_error_is_retried(slack: SlackStandIn, status: int) -> None:
    slack.fail("chat.update", status=status)
    web = client(slack, ServerErrorRetryHandler(max_retry_count=1, interval_calculator=FAST))

    assert web.chat_update(channel="C1", ts="1700000000.000100", text="edited")["ok"] is True

    assert [c.answered for c in slack.calls_to("chat.update")] == [str(status), "ok"]


def test_connection_reset_is_retried(slack: SlackStandIn) -> None:
    slack.fail("auth.test", reset=True)
    web = client(slack, ConnectionErrorRetryHandler(max_retry_count=1, interval_calculator=FAST))

    assert web.auth_test()["user_id"] == "UBOT"

    assert [c.answered for c in slack.calls_to("auth.test")] == ["reset", "ok"]


def test_slack_error_raises_slack_api_error_once_then_recovers(slack: SlackStandIn) -> None:
    slack.fail("chat.postMessage", error="channel_not_found")
    web = client(slack)

    with pytest.raises(SlackApiError) as excinfo:
        web.chat_postMessage(channel="C404", text="hi")
    assert excinfo.value.response["error"] == "channel_not_found"
    assert web.chat_postMessage(channel="C404", text="hi")["ok"] is True
    assert [c.answered for c in slack.calls] == ["error:channel_not_found", "ok"]
    assert [c.args["text"] for c in slack.messages_to("C404")] == ["hi"]


def test_fail_needs_exactly_one_kind_of_failure(slack: SlackStandIn) -> None:
    with pytest.raises(ValueError):
        slack.fail("chat.postMessage", status=500, error="x")


def test_rate_limit_answers_429_beyond_the_limit(slack: SlackStandIn) -> None:
    slack.rate_limit("chat.postMessage", per_second=1.0)
    web = client(slack)

    web.chat_postMessage(channel="C1", text="one")
    with pytest.raises(SlackApiError) as excinfo:
        web.chat_postMessage(channel="C1", text="two")

    assert excinfo.value.response.status_code == 429
    assert excinfo.value.response.headers["Retry-After"] == "1"
    time.sleep(1.0)
    assert web.chat_postMessage(channel="C1", text="three")["ok"] is True
    assert [c.answered for c in slack.calls] == ["ok", "429", "ok"]


def test_response_url_posts_are_recorded_and_checked(slack: SlackStandIn) -> None:
    url = slack.response_url()
    assert url.startswith(slack.base + "/response/")
    assert slack.response_url() != url
    body = json.dumps({"replace_original": True, "text": "done", "blocks": [SECTION]}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})

    with urllib.request.urlopen(request) as response:
        assert json.load(response) == {"ok": True}

    [call] = slack.wait_for("response_url")
    assert call.args["blocks"] == [SECTION]
    assert call.path == url.removeprefix(slack.base)
    slack.assert_clean()


def test_wait_for_times_out_with_what_was_received(slack: SlackStandIn) -> None:
    client(slack).auth_test()

    with pytest.raises(AssertionError, match=r"got 0; received: auth\.test\(ok\)"):
        slack.wait_for("chat.postMessage", timeout=0.1)


def test_socket_mode_url_only_when_configured() -> None:
    with SlackStandIn() as slack, pytest.raises(SlackApiError, match="invalid_auth"):
        client(slack).apps_connections_open(app_token="xapp-test")
    with SlackStandIn(socket_mode_url="ws://127.0.0.1:1/socket") as slack:
        opened = client(slack).apps_connections_open(app_token="xapp-test")
        assert opened["url"] == "ws://127.0.0.1:1/socket"
        slack.assert_clean()


def test_spec_files_are_really_loaded() -> None:
    assert len(web_api_methods()) > 100
    assert check_call("chat.postMessage", {"channel": "C1", "text": "x", "team_id": "T1"}) == []
    assert check_call("chat.nonsense", {}) == [
        "chat.nonsense: unknown Web API method (not in slack_web_openapi_v2.json)"
    ]
    assert check_call("chat.postEphemeral", {"channel": "C1"}) == [
        "chat.postEphemeral: missing required argument 'user'"
    ]


def test_answers_are_checked_against_the_specs_response_schemas() -> None:
    posted = {
        "ok": True,
        "channel": "C0PARTNER",
        "ts": "1764000000.000100",
        "message": {"type": "message", "text": "hi", "ts": "1764000000.000100"},
    }
    assert answer_problems("chat.postMessage", posted) == []
    assert answer_problems("chat.postMessage", {**posted, "ts": "soon", "mood": "sunny"}) == [
        "chat.postMessage: answer $: Additional properties are not allowed ('mood' was unexpected)",
        "chat.postMessage: answer $.ts: 'soon' does not match '^\\\\d{10}\\\\.\\\\d{6}$'",
    ]
    assert answer_problems("chat.postMessage", {"ok": True})[0].startswith(
        "chat.postMessage: answer $: 'channel' is a required property"
    )


def test_the_stand_in_has_its_own_successful_answers_checked() -> None:
    seen: list[tuple[str, dict | None]] = []

    def contract(method: str, args: dict, answer: dict | None) -> list[str]:
        seen.append((method, answer))
        return call_problems(method, args, answer)

    with SlackStandIn(contract=contract) as slack:
        slack.add_channel("C0PARTNER", name="partnership", members=["UBOT"])
        slack.set_answer("chat.postEphemeral", {"message_ts": "1764000000.000200"})
        slack.fail("chat.update", error="message_not_found")
        web = client(slack)
        web.chat_postMessage(channel="C0PARTNER", text="hello")
        web.chat_postEphemeral(channel="C0PARTNER", user="UBOT", text="psst")
        with pytest.raises(SlackApiError):
            web.chat_update(channel="C0PARTNER", ts="1764000000.000100", text="edited")
        slack.assert_clean()
    [(_, answer), ephemeral, update] = seen
    assert answer is not None and answer["message"]["text"] == "hello"
    assert ephemeral == ("chat.postEphemeral", None)  # set by the test: its own business
    assert update == ("chat.update", None)  # a failure: the spec's schemas are for success


def test_block_kit_problems_point_at_json_paths() -> None:
    button = {"type": "button", "text": {"type": "mrkdwn", "text": "Go"}, "action_id": "go"}
    problems = validate_message_blocks([SECTION, {"type": "actions", "elements": [button]}])

    assert problems == ["$[1].elements[0].text.type: 'plain_text' was expected"]
    with pytest.raises(AssertionError, match=r"\$\[0\]: unknown or misplaced type 'bogus'"):
        assert_valid_blocks([{"type": "bogus"}])
    assert_valid_blocks([SECTION])
    assert_valid_view(MODAL)


def test_known_method_without_answer_needs_set_answer(slack: SlackStandIn) -> None:
    web = client(slack)
    with pytest.raises(SlackApiError, match="unknown_method"):
        web.reactions_add(channel="C1", name="thumbsup", timestamp="1700000000.000100")
    assert [v.split(":")[0] for v in slack.violations] == ["reactions.add"]

    slack.clear()
    slack.set_answer("reactions.get", lambda args: {"type": "message", "channel": args["channel"]})
    assert web.reactions_get(channel="C1", timestamp="1.2")["channel"] == "C1"
    slack.assert_clean()


def test_the_stand_ins_argument_table_is_the_specs() -> None:
    """What the stand-in accepts (and so what the playground accepts) is what Slack documents:
    the spec's names for each method answered, plus the spec's known gaps."""
    for method, (names, required) in ACCEPTED_ARGUMENTS.items():
        spec_names, spec_required = web_api_methods().get(method, (frozenset(), frozenset()))
        documented = (spec_names | SPEC_GAPS.get(method, frozenset())) - ALWAYS_ALLOWED
        assert names == documented, method
        assert required == spec_required, method


def test_missing_required_argument_is_refused(slack: SlackStandIn) -> None:
    with pytest.raises(SlackApiError) as refused:
        client(slack).api_call("chat.getPermalink", params={"channel": "C1"})

    assert refused.value.response["error"] == "invalid_arguments"
    assert "missing required argument 'message_ts'" in str(refused.value.response.data)


APP_ID, APP_SECRET = "1.2", "secret"


def installed(slack: SlackStandIn, team_id: str) -> dict:
    """Install the app in `team_id` as Slack's OAuth flow does: the answer to the exchange."""
    slack.accept_oauth_client(APP_ID, APP_SECRET)
    code = slack.approve_install(team_id, "U1", "chat:write")
    return (
        WebClient(base_url=slack.url)
        .oauth_v2_access(client_id=APP_ID, client_secret=APP_SECRET, code=code)
        .data
    )


def test_auth_test_answers_each_tokens_own_team_and_a_token_reaches_only_its_own(
    slack: SlackStandIn,
) -> None:
    slack.add_team("T0002", "Other Council", "other")
    slack.add_user("U2", name="bea", team_id="T0002")
    token = installed(slack, "T0002")["access_token"]
    web = WebClient(base_url=slack.url, token=token)

    assert web.auth_test()["team_id"] == "T0002"
    assert client(slack).auth_test()["team_id"] == "T0001"  # the single-workspace token
    assert web.chat_postMessage(channel="U2", text="hi")["ok"]
    slack.add_user("U1", name="ann")  # of the host team
    with pytest.raises(SlackApiError) as refused:
        web.chat_postMessage(channel="U1", text="hi")
    assert refused.value.response["error"] == "channel_not_found"
    slack.assert_clean()


def test_with_token_rotation_a_token_expires_and_its_refresh_token_works_once(
    slack: SlackStandIn,
) -> None:
    slack.rotate_tokens(expires_in=43200)
    first = installed(slack, "T0001")
    assert first["expires_in"] == 43200 and first["access_token"].startswith("xoxe.xoxb-")
    slack.expire_tokens()
    with pytest.raises(SlackApiError) as expired:
        WebClient(base_url=slack.url, token=first["access_token"]).auth_test()
    assert expired.value.response["error"] == "token_expired"

    app = WebClient(base_url=slack.url)
    refresh = {"client_id": APP_ID, "client_secret": APP_SECRET, "grant_type": "refresh_token"}
    second = app.oauth_v2_access(**refresh, refresh_token=first["refresh_token"])

    assert second["token_type"] == "bot" and second["team"]["id"] == "T0001"
    assert second["refresh_token"] != first["refresh_token"]
    assert slack.newest_token("T0001") == second["access_token"]
    assert WebClient(base_url=slack.url, token=second["access_token"]).auth_test()["ok"]
    with pytest.raises(SlackApiError) as reused:
        app.oauth_v2_access(**refresh, refresh_token=first["refresh_token"])
    assert reused.value.response["error"] == "invalid_refresh_token"
    slack.assert_clean()


def test_apps_uninstall_revokes_the_workspaces_tokens(slack: SlackStandIn) -> None:
    slack.rotate_tokens(expires_in=43200)
    answer = installed(slack, "T0001")
    web = WebClient(base_url=slack.url, token=answer["access_token"])

    with pytest.raises(SlackApiError) as wrong_secret:
        web.apps_uninstall(client_id=APP_ID, client_secret="guess")
    assert wrong_secret.value.response["error"] == "bad_client_secret"
    assert web.apps_uninstall(client_id=APP_ID, client_secret=APP_SECRET)["ok"]

    with pytest.raises(SlackApiError) as revoked:
        web.auth_test()
    assert revoked.value.response["error"] == "token_revoked"
    with pytest.raises(SlackApiError) as no_refresh:
        WebClient(base_url=slack.url).oauth_v2_access(
            client_id=APP_ID,
            client_secret=APP_SECRET,
            grant_type="refresh_token",
            refresh_token=answer["refresh_token"],
        )
    assert no_refresh.value.response["error"] == "invalid_refresh_token"
    slack.assert_clean()


def test_a_person_the_app_may_not_dm_is_refused_as_slack_does(slack: SlackStandIn) -> None:
    slack.add_user("U1", name="ann")
    slack.refuse_dms("U1")
    web = client(slack)

    for call in (
        lambda: web.chat_postMessage(channel="U1", text="hi"),
        lambda: web.conversations_open(users="U1"),
    ):
        with pytest.raises(SlackApiError) as refused:
            call()
        assert refused.value.response["error"] == "cannot_dm_bot"
    assert web.chat_postEphemeral(channel="C1", user="U1", text="psst")["ok"]
    slack.assert_clean()


def test_authorizations_list_the_installations_an_event_in_a_channel_is_visible_to(
    slack: SlackStandIn,
) -> None:
    slack.add_team("T0002", "Other Council", "other")
    slack.add_team("T0003", "Third Council", "third")
    slack.add_user("U1", name="ann")
    slack.add_user("U2", name="bea", team_id="T0002")
    slack.add_user("U3", name="cat", team_id="T0003")
    slack.add_channel("C1", name="shared", members=["U1", "U2", "U3", "UBOT"])
    installed(slack, "T0001")
    installed(slack, "T0002")  # T0003 never installs the app

    assert slack.authorizations_for("C1", through="T0002") == ["T0002", "T0001"]
    slack.uninstall("T0001")
    assert slack.authorizations_for("C1", through="T0002") == ["T0002"]
