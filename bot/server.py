"""HTTP mode: one WSGI app (`POST /slack/events`, `GET /healthz`) served by cheroot.

cheroot is CherryPy's production HTTP server: a thread pool in this process, and a `stop()`
that stops accepting, lets in-flight requests finish and joins its workers, which is what a
clean SIGTERM needs.
"""

from __future__ import annotations

import errno
import json
import logging
import socket
from collections.abc import Callable, Iterable

from cheroot import wsgi
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.config import ConfigError

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
SERVER_THREADS = 16
SHUTDOWN_TIMEOUT_SECONDS = 20

HealthCheck = Callable[[], tuple[bool, dict]]


def make_wsgi_app(app: App | None, health: HealthCheck):
    """Route Slack's requests to Bolt and health probes to `health`; in Socket Mode `app` is
    None and only `/healthz` is served."""
    slack = SlackRequestHandler(app, path=EVENTS_PATH) if app is not None else None

    def application(environ: dict, start_response) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            healthy, report = health()
            return _json(start_response, 200 if healthy else 503, report)
        if path == EVENTS_PATH and slack is not None:
            if method != "POST":
                return _json(start_response, 405, {"error": "use POST"}, [("Allow", "POST")])
            return slack(environ, start_response)
        return _json(start_response, 404, {"error": "not found"})

    return application


def _json(start_response, status: int, payload: dict, extra_headers=()) -> list[bytes]:
    body = json.dumps(payload).encode()
    reason = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}
    start_response(
        f"{status} {reason[status]}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body))), *extra_headers],
    )
    return [body]


def build_server(wsgi_app, *, host: str, port: int, threads: int = SERVER_THREADS) -> wsgi.Server:
    server = wsgi.Server(
        (host, port),
        wsgi_app,
        numthreads=threads,
        shutdown_timeout=SHUTDOWN_TIMEOUT_SECONDS,
        server_name="saydo",
        # cheroot's defaults (a backlog of 5, ten kept-alive connections) drop and reset
        # connections from a few dozen concurrent clients; see bench/README.md.
        request_queue_size=socket.SOMAXCONN,
    )
    server.keep_alive_conn_limit = None
    return server


def listen(server: wsgi.Server, *, choose_another: str) -> None:
    """Bind the server's port; a port in use is a `ConfigError` saying how to choose another."""
    try:
        server.prepare()
    except OSError as error:
        if error.errno == errno.EADDRINUSE or "already in use" in str(error).lower():
            port = server.bind_addr[1]
            raise ConfigError(f"port {port} is already in use; {choose_another}.") from None
        raise
