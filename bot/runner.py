"""`saydo run`: migrate, start the scheduler, connect to Slack, and stop cleanly on a signal."""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass

from apscheduler.schedulers.background import BackgroundScheduler
from cheroot.wsgi import Server
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine

from bot.app import create_app, workers_for
from bot.config import ConfigError, Settings
from bot.installations import router_for
from bot.server import build_server, listen, make_wsgi_app
from bot.slack_client import build_web_client
from scheduler import build_scheduler, jobs
from storage import migrate
from storage.db import create_db_engine, ping

logger = logging.getLogger(__name__)


@dataclass
class Health:
    engine: Engine
    scheduler: BackgroundScheduler | None

    def __call__(self) -> tuple[bool, dict]:
        scheduler = (
            "disabled"
            if self.scheduler is None
            else "running"
            if self.scheduler.running
            else "stopped"
        )
        try:
            ping(self.engine)
        except Exception as error:  # noqa: BLE001  (any failure means unhealthy)
            return False, {
                "status": "unavailable",
                "database": f"unreachable ({type(error).__name__})",
                "scheduler": scheduler,
            }
        return True, {"status": "ok", "database": "ok", "scheduler": scheduler}


def run(settings: Settings, *, with_scheduler: bool = True) -> int:
    engine = create_db_engine(settings.database_url)
    migrate.upgrade(engine)
    logger.info("Database ready at %s", settings.redacted_database_url())
    client = build_web_client(settings)
    scheduler = (
        build_scheduler(
            jobs.scheduled(
                jobs.build_sweeper(
                    engine,
                    client,
                    concurrency=settings.outbox_concurrency,
                    router=router_for(settings, engine),
                ),
                retention=settings.uninstall_retention,
            )
        )
        if with_scheduler
        else None
    )
    workers = workers_for(settings)
    app = create_app(settings, engine=engine, client=client, workers=workers)
    # In Socket Mode the port serves only /healthz; it is bound before anything starts.
    server = build_server(
        make_wsgi_app(
            None if settings.socket_mode else app,
            Health(engine, scheduler),
            signing_secret=settings.signing_secret,
        ),
        host=settings.host,
        port=settings.port,
    )
    listen(server, choose_another="set PORT to another (PORT=0 picks a free one)")
    stop = stop_on_signals()
    if scheduler is not None:
        scheduler.start()
        logger.info("Scheduler started")
    serve = _serve_socket_mode if settings.socket_mode else _serve_http
    try:
        status = serve(settings, app, server, stop)
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=True)  # waits for a running job to finish
            logger.info("Scheduler stopped")
        workers.shutdown()  # work whose acknowledgement was sent is finished, not dropped
        engine.dispose()
    logger.info("Saydo stopped")
    return status


def stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def request_stop(signum, _frame) -> None:
        logger.info("Received %s, shutting down", signal.Signals(signum).name)
        stop.set()
        signal.signal(signum, signal.SIG_DFL)  # a second signal stops the process at once

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    return stop


def wait_for_stop(stop: threading.Event) -> None:
    # A short timeout keeps the main thread responsive to signals.
    while not stop.wait(0.5):
        pass


def _serve_http(settings: Settings, app, server: Server, stop: threading.Event) -> int:
    serving = threading.Thread(target=server.serve, name="http", daemon=True)
    serving.start()
    host, port = server.bind_addr[:2]
    logger.info("Listening for Slack on http://%s:%s/slack/events (HTTP mode)", host, port)
    wait_for_stop(stop)
    server.stop()  # stops accepting; in-flight requests finish first
    serving.join()
    return 0


def _serve_socket_mode(settings: Settings, app, server: Server, stop: threading.Event) -> int:
    handler = SocketModeHandler(
        app,
        app_token=settings.app_token,
        web_client=build_web_client(settings, token=settings.app_token),
    )
    serving = threading.Thread(target=server.serve, name="health", daemon=True)
    serving.start()
    try:
        handler.connect()
    except (SlackApiError, OSError) as error:  # refused, or Slack unreachable (URLError)
        handler.close()  # its worker threads would keep the process alive
        server.stop()
        reason = (
            error.response.get("error")
            if isinstance(error, SlackApiError)
            else getattr(error, "reason", error)
        )
        raise ConfigError(
            f"cannot connect to Slack in Socket Mode: {reason} "
            "(check SLACK_APP_TOKEN and SLACK_API_URL)."
        ) from None
    logger.info("Connected to Slack (Socket Mode); health on port %s", server.bind_addr[1])
    wait_for_stop(stop)
    handler.close()
    server.stop()
    serving.join()
    return 0
