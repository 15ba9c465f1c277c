"""The Bolt app factory: settings (and optionally a client and engine) in, a wired `App` out."""

from __future__ import annotations

import functools
import hashlib
import logging
import re

from slack_bolt import App, BoltContext, BoltResponse, Respond
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk import WebClient
from sqlalchemy import Engine

import handlers
from bot.config import Settings
from bot.erasure import note_uninstalled
from bot.installations import (
    NOT_INSTALLED,
    authorize,
    home_teams,
    oauth_flow,
    partnership_teams_of,
    router_for,
)
from bot.outbox.sending import Router
from bot.partnerships.members import shared_channels
from bot.slack_client import SlackDirectory, ThroughTheirWorkspace, build_web_client
from handlers.common import FIRST_DELIVERY, SHARED_CHANNEL_HOME, Services, Workers
from handlers.errors import answer_unexpected_error
from storage import clock
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
    client = client or build_web_client(settings)
    # HTTP requests are size-checked and signature-checked on their raw bytes before Bolt
    # parses them (`bot.server`); Socket Mode requests are not signed.
    app = App(
        client=client,
        # OAuth mode: each request is authorised with its workspace's installation, whose
        # token is refreshed first when it is about to expire (token rotation).
        oauth_flow=oauth_flow(settings, engine, client) if settings.oauth else None,
        authorize=authorize(settings, engine, client) if settings.oauth else None,
        user_facing_authorize_error_message=NOT_INSTALLED,
        signing_secret=settings.signing_secret,
        request_verification_enabled=False,
        # auth.test runs on the first request, not at construction: start-up never hangs on Slack.
        token_verification_enabled=False,
        # The acknowledgement is sent as soon as the listener returns, with no polling; the
        # listeners hand their work to `workers` themselves.
        process_before_response=True,
    )
    app.middleware(_once_per_delivery(engine))
    router = router_for(settings, engine)
    if router is not None:
        app.middleware(_shared_channel_home(engine))
        app.middleware(_through_their_workspace(engine, router))
        _listen_for_uninstalls(app, engine)
    app.error(_answer_unexpected_error)
    services = Services(engine=engine, directory=SlackDirectory(app.client))
    handlers.register_all(app, services, workers or workers_for(settings))
    # Last, so it only sees what no listener took: a signed event Saydo ignores is still
    # answered 200, or Slack retries it and may switch off the app's event subscriptions.
    app.event(re.compile(".*"))(_ignore_event)
    return app


def _listen_for_uninstalls(app: App, engine: Engine) -> None:
    """`app_uninstalled`, and `tokens_revoked` naming a bot token: Bolt's own listeners delete
    the workspace's installations from the store at once (the outbox reads the store for every
    send, so nothing more goes out with them); then the workspace's retention period starts,
    after which its people's data is erased (`bot.erasure`)."""
    delete_all = app.default_app_uninstalled_event_listener()
    delete_revoked = app.default_tokens_revoked_event_listener()

    @app.event("app_uninstalled")
    def uninstalled(context: BoltContext) -> None:
        delete_all(context)
        if context.team_id:
            note_uninstalled(engine, team_id=context.team_id, now=clock.now())

    @app.event("tokens_revoked")
    def revoked(event: dict, context: BoltContext) -> None:
        delete_revoked(event, context)
        if context.team_id and event.get("tokens", {}).get("bot"):
            note_uninstalled(engine, team_id=context.team_id, now=clock.now())


def workers_for(settings: Settings) -> Workers:
    return Workers.threads(work=settings.worker_threads, forms=settings.form_threads)


def _ignore_event(event: dict, logger: logging.Logger) -> None:
    logger.debug("Ignoring a %s event", event.get("subtype") or event.get("type"))


def _once_per_delivery(engine: Engine):
    """Middleware: a delivery Saydo already processed is acknowledged and dropped.

    An Events API delivery is known by its `event_id` (Slack's HTTP retries, Socket Mode's
    `retry_attempt`, two replicas receiving the same event); a slash command by its
    `trigger_id`, unique per invocation, so a signed request replayed inside the signature
    window changes nothing. The database decides which delivery wins. The claim is a durable
    write, so it is made with the listener's work, after the acknowledgement
    (`handlers.common.FIRST_DELIVERY`).
    """

    def middleware(body: dict, context: BoltContext, next) -> BoltResponse | None:
        key = _delivery_key(body)
        if key:
            context[FIRST_DELIVERY] = functools.partial(claim_event, engine, event_id=key)
        return next()

    return middleware


def _shared_channel_home(engine: Engine):
    """Middleware (OAuth mode): a request in a channel that is already a partnership is
    scoped to that partnership's workspace (`handlers.common.workspace_id`). Elsewhere (a
    direct message with Saydo, the Home tab), a request of someone whose partnerships were all
    set up in one workspace is scoped to that workspace, so a partner acting through their own
    workspace's installation reaches the commitments they made in the shared channel. One or
    two small reads before the acknowledgement."""

    def middleware(context: BoltContext, next) -> BoltResponse | None:
        home = home_teams(engine, context.channel_id) if context.channel_id else []
        if not home and context.user_id:
            theirs = partnership_teams_of(engine, context.user_id)
            home = theirs if len(theirs) == 1 else []
        if home:
            context[SHARED_CHANNEL_HOME] = home[0]
        return next()

    return middleware


def _through_their_workspace(engine: Engine, router: Router):
    """Middleware (OAuth mode): the listeners' client sends what is addressed to one person (a
    DM, their Home tab) through an installation of that person's own workspace; a DM none can
    send goes privately to them in a partnership channel, this request's channel first."""

    def middleware(context: BoltContext, next) -> BoltResponse | None:
        def channels_of(person: str) -> list[str]:
            found = shared_channels(engine, person, None)
            return sorted(found, key=lambda channel: channel != context.channel_id)

        if context.client is not None:
            context["client"] = ThroughTheirWorkspace(context.client, router, channels_of)
        return next()

    return middleware


def _delivery_key(body: dict) -> str | None:
    if body.get("type") == "event_callback":
        return body.get("event_id")
    trigger_id = body.get("trigger_id") if body.get("command") else None
    if not trigger_id:
        return None
    return "command:" + hashlib.sha256(str(trigger_id).encode()).hexdigest()[:48]


def _answer_unexpected_error(
    error: Exception,
    body: dict,
    response: BoltResponse | None,
    respond: Respond | None,
    client: WebClient,
) -> BoltResponse | None:
    """Bolt's global error handler: whatever a listener raised before its work was handed
    over (`handlers.errors.answer_unexpected_error`)."""
    return answer_unexpected_error(
        error, body=body, respond=respond, client=client, acknowledging=response is not None
    )
