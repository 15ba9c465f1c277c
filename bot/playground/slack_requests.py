"""The doors Slack uses to reach an app: signed HTTP requests to its events URL.

Builds the bodies Slack sends (slash commands, Events API callbacks, interaction payloads),
signs them with the app's signing secret as Slack does (``X-Slack-Signature`` over
``v0:<timestamp>:<body>``) and posts them. The playground uses it to drive the real Saydo; the
tests' ``SaydoProcess`` uses it to drive ``saydo run``.
"""

from __future__ import annotations

import json
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
APP_ID = "A0SAYDO"
VERIFICATION_TOKEN = "legacy-verification-token"  # deprecated by Slack; sent, never checked


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


def event_body(event: dict[str, Any], *, team_id: str, bot_user_id: str, event_id: str) -> str:
    return json.dumps(
        {
            "token": VERIFICATION_TOKEN,
            "team_id": team_id,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [{"team_id": team_id, "user_id": bot_user_id, "is_bot": True}],
        }
    )


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
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return Answer(response.status, response.read().decode())
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.read().decode(errors="replace"))

    def command(self, **fields: str) -> Answer:
        """A slash command; ``fields`` as for :func:`slash_command_body`."""
        return self.post(slash_command_body(**fields))

    def event(
        self, event: dict[str, Any], *, team_id: str, bot_user_id: str, event_id: str
    ) -> Answer:
        body = event_body(event, team_id=team_id, bot_user_id=bot_user_id, event_id=event_id)
        return self.post(body, content_type=JSON)

    def interaction(self, payload: dict[str, Any]) -> Answer:
        return self.post(interaction_body(payload))
