"""The doors Slack uses to reach an app: signed HTTP requests to its events URL.

Builds the bodies Slack sends (slash commands, Events API callbacks, interaction payloads):
the one place they are made, checked against Slack's own samples by
tests/test_slack_payloads_shape.py. Signs them with the app's signing secret as Slack does
(``X-Slack-Signature`` over ``v0:<timestamp>:<body>``) and posts them. The playground uses it
to drive the real Saydo; the tests' ``SaydoProcess`` uses it to drive ``saydo run``.
"""

from __future__ import annotations

import html
import json
import re
import secrets
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from slack_sdk.signature import SignatureVerifier

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
APP_ID = "A0SAYDO"
VERIFICATION_TOKEN = "legacy-verification-token"  # deprecated by Slack; sent, never checked
INSTALL_PATH, OAUTH_REDIRECT_PATH = "/slack/install", "/slack/oauth_redirect"
STATE_COOKIE = "slack-app-oauth-state"  # Bolt's: ties the state to the installer's browser
_AUTHORIZE_LINK = re.compile(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"')


@dataclass(frozen=True)
class Answer:
    """What the app answered: the HTTP status and body (an acknowledgement's JSON, if any)."""

    status: int
    body: str

    def json(self) -> dict[str, Any] | None:
        """The body as JSON, or None when it is empty or not JSON."""
        try:
            value = json.loads(self.body) if self.body.strip() else None
        except json.JSONDecodeError:
            return None
        return value if isinstance(value, dict) else None


def new_trigger_id() -> str:
    return f"{secrets.randbelow(10**10)}.{secrets.token_hex(6)}"


def signed_headers(
    body: str, *, secret: str, timestamp: int | None = None, content_type: str = FORM
) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
    }


def slash_command_body(
    *,
    command: str,
    text: str,
    user_id: str,
    channel_id: str,
    team_id: str,
    response_url: str,
    trigger_id: str,
    channel_name: str = "",
    team_domain: str = "",
) -> str:
    return urlencode(
        {
            "token": VERIFICATION_TOKEN,
            "team_id": team_id,
            "team_domain": team_domain,
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )


def user_object(user_id: str, *, team_id: str, name: str | None = None) -> dict[str, str]:
    """The person who acted, as interaction payloads name them."""
    handle = name or user_id.lower()
    return {"id": user_id, "username": handle, "name": handle, "team_id": team_id}


def team_object(team_id: str, *, domain: str) -> dict[str, str]:
    return {"id": team_id, "domain": domain}


def event_envelope(
    event: dict[str, Any],
    *,
    team_id: str,
    bot_user_id: str,
    event_id: str,
    authorized_teams: list[str] | None = None,
) -> dict[str, Any]:
    """The Events API callback around `event`, delivered through `team_id`'s installation.
    Its `authorizations` name the installations the event is visible to (`authorized_teams`,
    `team_id` first; as `SlackStandIn.authorizations_for` lists them for a shared channel),
    by default that one alone."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
            for team in authorized_teams or [team_id]
        ],
        "event_context": f"4-{secrets.token_urlsafe(24)}",
    }


def event_body(
    event: dict[str, Any],
    *,
    team_id: str,
    bot_user_id: str,
    event_id: str,
    authorized_teams: list[str] | None = None,
) -> str:
    return json.dumps(
        event_envelope(
            event,
            team_id=team_id,
            bot_user_id=bot_user_id,
            event_id=event_id,
            authorized_teams=authorized_teams,
        )
    )


def app_mention_event(
    *, user_id: str, text: str, channel_id: str, ts: str, team_id: str
) -> dict[str, Any]:
    return {
        "client_msg_id": str(uuid.uuid4()),
        "type": "app_mention",
        "text": text,
        "user": user_id,
        "ts": ts,
        "team": team_id,
        "channel": channel_id,
        "event_ts": ts,
    }


def membership_event(
    kind: str, *, user_id: str, channel_id: str, team_id: str, inviter: str | None = None
) -> dict[str, Any]:
    """`member_joined_channel` (with `inviter` when someone added them) or
    `member_left_channel`."""
    event = {
        "type": kind,
        "user": user_id,
        "channel": channel_id,
        "channel_type": "G" if channel_id.startswith("G") else "C",
        "team": team_id,
    }
    return event if inviter is None else event | {"inviter": inviter}


def app_home_opened_event(*, user_id: str, channel_id: str, event_ts: str) -> dict[str, Any]:
    return {
        "type": "app_home_opened",
        "user": user_id,
        "channel": channel_id,
        "tab": "home",
        "event_ts": event_ts,
    }


def button_action(
    *, action_id: str, block_id: str, value: str, text: str = "Button"
) -> dict[str, Any]:
    """A button pressed, as `block_actions` lists it."""
    return {
        "action_id": action_id,
        "block_id": block_id,
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "value": value,
        "type": "button",
        "action_ts": f"{time.time():.6f}",
    }


def static_select_action(*, action_id: str, block_id: str, value: str, text: str) -> dict[str, Any]:
    """An option chosen in a static select menu, as `block_actions` lists it."""
    return {
        "type": "static_select",
        "action_id": action_id,
        "block_id": block_id,
        "selected_option": {"text": {"type": "plain_text", "text": text}, "value": value},
        "action_ts": f"{time.time():.6f}",
    }


def message_block_actions(
    actions: list[dict[str, Any]],
    *,
    user: dict[str, str],
    team: dict[str, str],
    channel: dict[str, str],
    message_ts: str,
    response_url: str,
    trigger_id: str,
    message: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A click on a message's element. Without `message` the message was ephemeral (Slack
    sends no copy of those)."""
    payload = {
        "type": "block_actions",
        "user": user,
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel["id"],
            "is_ephemeral": message is None,
        },
        "trigger_id": trigger_id,
        "team": team,
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": channel,
        "state": {"values": {}},
        "response_url": response_url,
        "actions": actions,
    }
    return payload if message is None else payload | {"message": message}


def view_block_actions(
    actions: list[dict[str, Any]],
    *,
    user: dict[str, str],
    team: dict[str, str],
    view: dict[str, Any],
    trigger_id: str,
) -> dict[str, Any]:
    """A click on an element of a modal or the Home tab."""
    return {
        "type": "block_actions",
        "user": user,
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": {"type": "view", "view_id": view["id"]},
        "trigger_id": trigger_id,
        "team": team,
        "enterprise": None,
        "is_enterprise_install": False,
        "view": view,
        "actions": actions,
    }


def view_submission(
    view: dict[str, Any], *, user: dict[str, str], team: dict[str, str], trigger_id: str
) -> dict[str, Any]:
    """A modal submitted: `view` as opened, with the state of its inputs."""
    return {
        "type": "view_submission",
        "team": team,
        "user": user,
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id,
        "view": view,
        "response_urls": [],
        "is_enterprise_install": False,
    }


def view_closed(view: dict[str, Any], *, user: dict[str, str], team: dict[str, str]) -> dict:
    """A modal cancelled (sent only when the modal asked with `notify_on_close`)."""
    return {
        "type": "view_closed",
        "team": team,
        "user": user,
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "view": view,
        "is_cleared": False,
        "is_enterprise_install": False,
    }


def message_shortcut(
    callback_id: str,
    *,
    user: dict[str, str],
    team: dict[str, str],
    channel: dict[str, str],
    message: dict[str, Any],
    response_url: str,
    trigger_id: str,
) -> dict[str, Any]:
    """A message shortcut (`message_action`) chosen on `message`; Slack names the person by
    id and name only."""
    return {
        "type": "message_action",
        "token": VERIFICATION_TOKEN,
        "action_ts": f"{time.time():.6f}",
        "team": team,
        "user": {"id": user["id"], "name": user["name"]},
        "channel": channel,
        "is_enterprise_install": False,
        "callback_id": callback_id,
        "trigger_id": trigger_id,
        "message_ts": message["ts"],
        "message": message,
        "response_url": response_url,
    }


def interaction_body(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


class Doors:
    """Posts signed requests to one app's events URL."""

    def __init__(self, events_url: str, *, signing_secret: str, timeout: float = 10) -> None:
        self.events_url = events_url
        self.signing_secret = signing_secret
        self.timeout = timeout

    def post(
        self, body: str, *, content_type: str = FORM, headers: dict[str, str] | None = None
    ) -> Answer:
        request = urllib.request.Request(
            self.events_url,
            data=body.encode(),
            headers={
                **signed_headers(body, secret=self.signing_secret, content_type=content_type),
                **(headers or {}),
            },
            method="POST",
        )
        return self._answer(request)

    def _answer(self, request: urllib.request.Request) -> Answer:
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return Answer(response.status, response.read().decode())
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.read().decode(errors="replace"))

    def command(self, **fields: str) -> Answer:
        """A slash command; ``fields`` as for :func:`slash_command_body`."""
        return self.post(slash_command_body(**fields))

    def event(
        self,
        event: dict[str, Any],
        *,
        team_id: str,
        bot_user_id: str,
        event_id: str,
        authorized_teams: list[str] | None = None,
    ) -> Answer:
        """An Events API delivery through `team_id`'s installation (see `event_envelope`)."""
        body = event_body(
            event,
            team_id=team_id,
            bot_user_id=bot_user_id,
            event_id=event_id,
            authorized_teams=authorized_teams,
        )
        return self.post(body, content_type=JSON)

    def interaction(self, payload: dict[str, Any]) -> Answer:
        return self.post(interaction_body(payload))

    def install(self, approve: Callable[[str], str]) -> Answer:
        """A workspace's admin installs the app through OAuth, as their browser does: opens its
        "Add to Slack" page, follows the link to Slack's authorize page, where `approve(scopes)`
        is their "Allow" (it returns the code Slack sends back), and returns to the app's
        redirect URL with that code and the page's state, carrying the state cookie."""
        url = urlsplit(self.events_url)
        base = f"{url.scheme}://{url.netloc}"
        page = self._get(base + INSTALL_PATH)
        link = _AUTHORIZE_LINK.search(page.body) if page.status == 200 else None
        if link is None:
            return page
        query = parse_qs(urlsplit(html.unescape(link.group(1))).query)
        state = query["state"][0]
        code = approve(query["scope"][0])
        return self._get(
            f"{base}{OAUTH_REDIRECT_PATH}?{urlencode({'code': code, 'state': state})}",
            headers={"Cookie": f"{STATE_COOKIE}={state}"},
        )

    def _get(self, url: str, *, headers: dict[str, str] | None = None) -> Answer:
        request = urllib.request.Request(url, headers=headers or {}, method="GET")
        return self._answer(request)
