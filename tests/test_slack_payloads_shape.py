"""The requests the playground and the tests send into Saydo have the shape Slack's do.

Each builder in `bot.playground.slack_requests` is compared with a real sample (tests/slack/samples,
see its README): the same keys at every level, with the same JSON types. A builder that drops or
renames a key Slack sends fails here.
"""

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

from bot.playground import slack_requests as doors

SAMPLES = Path(__file__).parent / "slack" / "samples"

# Keys a sample has that a builder may leave out (or send as null), and why.
OPTIONAL = {
    # Enterprise Grid only: Saydo's workspaces are not on a Grid (the authorization's
    # `enterprise_id` is then null, as Slack sends it).
    "enterprise_id": "Enterprise Grid only",
    "enterprise_name": "Enterprise Grid only",
    # On buttons that have a style; most of Saydo's have none.
    "style": "only on a styled button",
    # bolt-python's block_actions sample is a button in a workflow function's message; these
    # three come only with such functions, which Saydo does not have.
    "function_data": "workflow functions only",
    "interactivity": "workflow functions only",
    "bot_access_token": "workflow functions only",
    # bolt-python's view_closed sample copies view_submission's `response_urls`; Slack's
    # view_closed reference has none.
    "response_urls": "not part of view_closed",
}

# Keys a builder sends that its (older) sample lacks, and why Slack sends them.
BEYOND_SAMPLE = {
    # In every Events API callback since 2020 (Events API reference: "event_context").
    "event_context": "Events API envelope",
    # On every request since org-wide installs (2020); the older samples predate it.
    "is_enterprise_install": "org-wide installs",
    # The slash command reference lists `api_app_id`; bolt-python's sample leaves it out.
    "api_app_id": "slash command reference",
    # view_closed reference: whether the whole stack of views was closed.
    "is_cleared": "view_closed reference",
}

# Objects keyed by the app's own ids (block id, then action id): only their type is compared.
MAPS = {"values"}


def json_type(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number"
    )


def shape_differences(sample: Any, built: Any, path: str = "") -> list[str]:
    """Where `built` differs in shape from `sample`: missing or unknown keys, other types."""
    key = path.rsplit(".", 1)[-1]
    if json_type(built) != json_type(sample):
        if built is None and key in OPTIONAL:
            return []
        return [f"{path}: {json_type(built)} where Slack sends {json_type(sample)}"]
    if isinstance(sample, list):
        if sample and built:
            return shape_differences(sample[0], built[0], f"{path}[0]")
        return []
    if not isinstance(sample, dict) or key in MAPS:
        return []
    missing = [f"{path}.{k}: missing" for k in sample if k not in built and k not in OPTIONAL]
    unknown = [f"{path}.{k}: not sent by Slack" for k in built if k not in sample]
    unknown = [u for u in unknown if u.split(".")[-1].split(":")[0] not in BEYOND_SAMPLE]
    shared = [k for k in sample if k in built]
    return (
        missing
        + unknown
        + [d for k in shared for d in shape_differences(sample[k], built[k], f"{path}.{k}")]
    )


def sample(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / f"{name}.json").read_text())


USER = doors.user_object("U0ALICE", team_id="T0001")
TEAM = doors.team_object("T0001", domain="saydo-test")
CHANNEL = {"id": "C0PARTNER", "name": "housing"}
BUTTON = doors.button_action(action_id="commitment_deliver", block_id="commitment_1", value="1")


def envelope(event: dict[str, Any]) -> dict[str, Any]:
    return doors.event_envelope(event, team_id="T0001", bot_user_id="UBOT", event_id="Ev0001")


BUILT = {
    "sample_slash_command": lambda: dict(
        parse_qsl(
            doors.slash_command_body(
                command="/saydo",
                text="help",
                user_id="U0ALICE",
                channel_id="C0PARTNER",
                team_id="T0001",
                response_url="https://hooks.slack.com/commands/T0001/1/x",
                trigger_id=doors.new_trigger_id(),
            ),
            keep_blank_values=True,
        )
    ),
    "sample_event_app_mention": lambda: envelope(
        doors.app_mention_event(
            user_id="U0ALICE",
            text="<@UBOT> help",
            channel_id="C0PARTNER",
            ts="1764000000.000100",
            team_id="T0001",
        )
    ),
    "sample_event_member_joined_channel": lambda: envelope(
        doors.membership_event(
            "member_joined_channel",
            user_id="U0BOB",
            channel_id="C0PARTNER",
            team_id="T0001",
            inviter="U0ALICE",
        )
    ),
    "sample_event_member_left_channel": lambda: envelope(
        doors.membership_event(
            "member_left_channel", user_id="U0BOB", channel_id="C0PARTNER", team_id="T0001"
        )
    ),
    "sample_event_app_home_opened": lambda: envelope(
        doors.app_home_opened_event(
            user_id="U0ALICE", channel_id="D0ALICE", event_ts="1764000000.000100"
        )
    ),
    "sample_block_actions": lambda: doors.message_block_actions(
        [BUTTON],
        user=USER,
        team=TEAM,
        channel=CHANNEL,
        message_ts="1764000000.000100",
        response_url="https://hooks.slack.com/actions/T0001/1/x",
        trigger_id=doors.new_trigger_id(),
    ),
    "sample_view_submission": lambda: doors.view_submission(
        sample("sample_view_submission")["view"],
        user=USER,
        team=TEAM,
        trigger_id=doors.new_trigger_id(),
    ),
    "sample_view_closed": lambda: doors.view_closed(
        sample("sample_view_closed")["view"], user=USER, team=TEAM
    ),
    "sample_message_action": lambda: doors.message_shortcut(
        "make_commitment",
        user=USER,
        team=TEAM,
        channel=CHANNEL,
        message=sample("sample_message_action")["message"],
        response_url="https://hooks.slack.com/app/T0001/1/x",
        trigger_id=doors.new_trigger_id(),
    ),
}


@pytest.mark.parametrize("name", sorted(BUILT))
def test_each_builder_has_the_shape_of_slacks_sample(name):
    assert shape_differences(sample(name), BUILT[name]()) == []


def test_every_sample_has_a_builder():
    assert {p.stem for p in SAMPLES.glob("sample_*.json")} == set(BUILT)


def test_channel_rename_is_delivered_in_the_envelope_slack_uses():
    """The documented `channel_rename` event, in the builders' envelope, has the shape of the
    sample's whole callback."""
    renamed = sample("payload_channel_rename")
    assert shape_differences(renamed, envelope(renamed["event"])) == []


def test_a_button_on_a_channel_message_carries_the_message_as_slack_sends_it():
    clicked = doors.message_block_actions(
        [BUTTON],
        user=USER,
        team=TEAM,
        channel=CHANNEL,
        message_ts="1583636382.000300",
        response_url="https://hooks.slack.com/actions/T0001/1/x",
        trigger_id=doors.new_trigger_id(),
        message=sample("sample_message_action")["message"],
    )
    assert clicked["container"]["is_ephemeral"] is False
    block_actions = sample("sample_block_actions")
    assert shape_differences(block_actions | {"message": clicked["message"]}, clicked) == []


def test_a_click_in_a_view_has_the_payload_and_the_view_slack_sends():
    """No sample has a click in a view: the keys common to every `block_actions` payload are
    checked against the message sample, and the view against view_submission's."""
    view = sample("sample_view_submission")["view"]
    clicked = doors.view_block_actions(
        [BUTTON], user=USER, team=TEAM, view=view, trigger_id=doors.new_trigger_id()
    )
    assert clicked["container"] == {"type": "view", "view_id": view["id"]}
    message_only = {"container", "channel", "state", "response_url"}
    common = {k: v for k, v in sample("sample_block_actions").items() if k not in message_only}
    rest = {k: v for k, v in clicked.items() if k != "container"}
    assert shape_differences(common | {"view": view}, rest) == []


@pytest.mark.parametrize(
    "broken",
    [
        pytest.param(lambda p: p.pop("trigger_id"), id="dropped"),
        pytest.param(lambda p: p.update(trigger=p.pop("trigger_id")), id="renamed"),
        pytest.param(lambda p: p["user"].update(id=1), id="retyped"),
    ],
)
def test_a_builder_that_drops_renames_or_retypes_a_key_would_fail(broken):
    built = BUILT["sample_view_submission"]()
    broken(built)
    assert shape_differences(sample("sample_view_submission"), built) != []
