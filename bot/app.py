"""The Bolt app factory: settings (and optionally a client and engine) in, a wired `App` out."""

from __future__ import annotations

import functools
import logging

from slack_bolt import App, BoltContext, BoltResponse
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.middleware.request_verification import RequestVerification
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Engine

import handlers
from bot.config import Settings
from bot.slack_client import build_web_client
from handlers.common import FIRST_DELIVERY, Workers
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
    workers: Workers | None = None,
) -> App:
    """The Saydo Bolt app. Each request is acknowledged in its own thread and its work runs on
    `workers` (default: pools sized by `settings`); see `handlers.common.Listening`.
    `process_before_response=True` finishes that work before the HTTP answer instead (for
    tests and the playground, which dispatch in-process)."""
    if process_before_response:
        workers = Workers.inline()
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
        # The acknowledgement is sent as soon as the listener returns, with no polling; the
        # listeners hand their work to `workers` themselves.
        process_before_response=True,
    )
    app.middleware(_once_per_event(engine))
    handlers.register_all(app, engine, workers or workers_for(settings))
    return app


def workers_for(settings: Settings) -> Workers:
    return Workers.threads(work=settings.worker_threads, forms=settings.form_threads)


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
    replicas receiving the same event: the database decides which delivery wins. The claim is
    a durable write, so it is made with the listener's work, after the acknowledgement
    (`handlers.common.FIRST_DELIVERY`); a dropped delivery is acknowledged all the same.
    """

    def middleware(body: dict, context: BoltContext, next) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id:
            context[FIRST_DELIVERY] = functools.partial(claim_event, engine, event_id=event_id)
        return next()

    return middleware
