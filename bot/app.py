"""The Bolt app factory: settings (and optionally a client and engine) in, a wired `App` out."""

from __future__ import annotations

import hashlib
import logging
import re

from slack_bolt import App, BoltResponse, Respond
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine
from sqlalchemy.exc import InterfaceError, OperationalError

import handlers
from bot.config import Settings
from bot.slack_client import build_web_client
from storage.events import claim_event

logger = logging.getLogger(__name__)


class _TokenComesWithTheClient(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN itself and, given a client too, warns that the token "will be
    unused". Saydo's client carries that same token, so the warning only misleads operators."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


logging.getLogger("slack_bolt.App").addFilter(_TokenComesWithTheClient())


def create_app(
    settings: Settings,
    *,
    engine: Engine,
    client: WebClient | None = None,
    process_before_response: bool = False,
) -> App:
    """The Saydo Bolt app. `process_before_response=True` finishes each listener before the
    HTTP answer (for FaaS hosts, and for tests that dispatch in-process)."""
    # HTTP requests are size-checked and signature-checked on their raw bytes before Bolt
    # parses them (`bot.server`); Socket Mode requests are not signed.
    app = App(
        client=client or build_web_client(settings),
        signing_secret=settings.signing_secret,
        request_verification_enabled=False,
        # auth.test runs on the first request, not at construction: start-up never hangs on Slack.
        token_verification_enabled=False,
        process_before_response=process_before_response,
    )
    app.middleware(_once_per_delivery(engine))
    app.error(_answer_unexpected_error)
    handlers.register_all(app, engine)
    # Last, so it only sees what no listener took: a signed event Saydo ignores is still
    # answered 200, or Slack retries it and may switch off the app's event subscriptions.
    app.event(re.compile(".*"))(_ignore_event)
    return app


def _ignore_event(event: dict, logger: logging.Logger) -> None:
    logger.debug("Ignoring a %s event", event.get("subtype") or event.get("type"))


def _once_per_delivery(engine: Engine):
    """Middleware: a delivery Saydo already processed is answered 200 and dropped.

    An Events API delivery is known by its `event_id` (Slack's HTTP retries, Socket Mode's
    `retry_attempt`, two replicas receiving the same event); a slash command by its
    `trigger_id`, unique per invocation, so a signed request replayed inside the signature
    window changes nothing. The database decides which delivery wins.
    """

    def middleware(body: dict, next, logger: logging.Logger) -> BoltResponse | None:
        key = _delivery_key(body)
        if key and not claim_event(engine, event_id=key):
            logger.info("Skipping %s: already processed", key)
            return BoltResponse(status=200, body="")
        return next()

    return middleware


def _delivery_key(body: dict) -> str | None:
    if body.get("type") == "event_callback":
        return body.get("event_id")
    trigger_id = body.get("trigger_id") if body.get("command") else None
    if not trigger_id:
        return None
    return "command:" + hashlib.sha256(str(trigger_id).encode()).hexdigest()[:48]


DATABASE_DOWN = (
    "Saydo can't save that right now, nothing was recorded, please try again in a minute."
)
SOMETHING_WENT_WRONG = (
    "Sorry, something went wrong on Saydo's side and nothing was changed. Please try again in "
    "a minute; if it keeps happening, tell whoever runs Saydo."
)


def _answer_unexpected_error(
    error: Exception,
    body: dict,
    response: BoltResponse | None,
    respond: Respond | None,
    client: WebClient,
    logger: logging.Logger,
) -> BoltResponse | None:
    """The global error handler: one log line, and the person is told privately.

    Before the acknowledgement (`response` given) the answer is the acknowledgement itself;
    after it, the message goes through the request's `response_url`, or the person's DM.
    """
    unreachable = isinstance(error, OperationalError | InterfaceError)
    logger.error(
        "%s while handling a %s: %s",
        "Database unreachable" if unreachable else "Unexpected error",
        body.get("command") or body.get("type") or "request",
        f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}",
    )
    text = DATABASE_DOWN if unreachable else SOMETHING_WENT_WRONG
    user_id = body.get("user_id") or (body.get("user") or {}).get("id")
    if body.get("command") and response is not None:
        return BoltResponse(status=200, body={"response_type": "ephemeral", "text": text})
    if body.get("type") == "event_callback":
        return None  # a 500 makes Slack deliver the event again later
    try:
        if respond is not None:
            respond(response_type="ephemeral", replace_original=False, text=text)
        elif user_id:
            client.chat_postMessage(channel=user_id, text=text)
    except (SlackApiError, OSError) as failure:
        logger.warning("Could not tell %s about the error: %s", user_id, failure)
    return BoltResponse(status=200, body="") if response is not None else None
