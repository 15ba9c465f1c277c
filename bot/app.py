"""The Bolt app factory: settings (and optionally a client and engine) in, a wired `App` out."""

from __future__ import annotations

import logging

from slack_bolt import App, BoltResponse
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.middleware.request_verification import RequestVerification
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Engine

import handlers
from bot.config import Settings
from bot.slack_client import SlackDirectory, build_web_client
from handlers.common import Services
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
    # HTTP requests must be signed; Socket Mode requests are not. Bolt's own check is replaced
    # by `_SignedRequestsOnly`, which runs at the same point.
    verification = None if settings.socket_mode else _SignedRequestsOnly(settings.signing_secret)
    app = App(
        client=client or build_web_client(settings),
        signing_secret=settings.signing_secret,
        request_verification_enabled=False,
        before_authorize=verification,
        # auth.test runs on the first request, not at construction: start-up never hangs on Slack.
        token_verification_enabled=False,
        process_before_response=process_before_response,
    )
    app.middleware(_once_per_event(engine))
    services = Services(engine=engine, directory=SlackDirectory(app.client))
    handlers.register_all(app, services)
    return app


class _StrictSignatureVerifier(SignatureVerifier):
    """Treats a malformed timestamp as an invalid signature (the SDK raises ValueError)."""

    def is_valid(self, body, timestamp, signature) -> bool:
        if timestamp is None or not timestamp.strip().isdigit():
            return False
        return super().is_valid(body, timestamp, signature)


class _SignedRequestsOnly(RequestVerification):
    """Bolt's request verification, answering 401 to any bad signature and never logging it.

    Bolt's version answers 500 to a non-numeric timestamp and logs the rejected body, which can
    carry a verification token. Socket Mode requests are not signed and pass through.
    """

    def __init__(self, signing_secret: str):
        super().__init__(signing_secret)
        self._verifier = _StrictSignatureVerifier(signing_secret)

    def _debug_log_error(self, signature, timestamp, body) -> None:
        logger.warning("Rejected a request with a missing, stale or invalid Slack signature")


def _once_per_event(engine: Engine):
    """Middleware: an Events API delivery whose `event_id` was already processed is dropped.

    Covers Slack's HTTP retries (`X-Slack-Retry-Num`), Socket Mode `retry_attempt` and two
    replicas receiving the same event: the database decides which delivery wins.
    """

    def middleware(body: dict, next, logger: logging.Logger) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not claim_event(engine, event_id=event_id):
            logger.info("Skipping event %s: already processed", event_id)
            return BoltResponse(status=200, body="")
        return next()

    return middleware
