"""HTTP mode: one WSGI app (`POST /slack/events`, `GET /healthz`, and in OAuth mode
`GET /slack/install` and `GET /slack/oauth_redirect`) served by cheroot.

cheroot is CherryPy's production HTTP server: a thread pool in this process, and a `stop()`
that stops accepting, lets in-flight requests finish and joins its workers, which is what a
clean SIGTERM needs.
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import json
import logging
import socket
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus

from cheroot import wsgi
from slack_bolt import App
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse
from slack_bolt.request import BoltRequest
from slack_bolt.request.internals import parse_body
from slack_bolt.response import BoltResponse

from bot.config import ConfigError

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
SERVER_THREADS = 16
SHUTDOWN_TIMEOUT_SECONDS = 20
# Slack's requests are a few KiB (a modal's state at most tens); anything larger is refused
# unread, so a flood of huge bodies costs neither memory nor time.
MAX_BODY_BYTES = 1024 * 1024
# Slack's own window: a request signed longer ago than this is refused as a possible replay.
SIGNATURE_WINDOW_SECONDS = 5 * 60
READ_CHUNK_BYTES = 64 * 1024

HealthCheck = Callable[[], tuple[bool, dict]]


def make_wsgi_app(app: App | None, health: HealthCheck, *, signing_secret: str | None = None):
    """Route Slack's requests to Bolt and health probes to `health`; in Socket Mode `app` is
    None and only `/healthz` is served.

    A request for Bolt is checked in this order, each before any work the next needs: its size
    (413), its signature over the raw bytes (401), then that it parses (400).
    """
    if app is not None and not signing_secret:
        raise ValueError("Serving Slack's requests needs the signing secret to check them")

    def application(environ: dict, start_response) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            healthy, report = health()
            return _json(start_response, 200 if healthy else 503, report)
        flow = app.oauth_flow if app is not None else None
        if flow is not None and path in (flow.install_path, flow.redirect_uri_path):
            if method != "GET":
                return _json(start_response, 405, {"error": "use GET"}, [("Allow", "GET")])
            return _install_request(app, environ, start_response)
        if path == EVENTS_PATH and app is not None:
            if method != "POST":
                return _json(start_response, 405, {"error": "use POST"}, [("Allow", "POST")])
            return _slack_request(app, signing_secret.encode(), environ, start_response)
        return _json(start_response, 404, {"error": "not found"})

    return application


def _slack_request(app: App, secret: bytes, environ: dict, start_response) -> Iterable[bytes]:
    raw = _read_body(environ)
    if raw is None:
        logger.warning("Refused a request body over %d bytes", MAX_BODY_BYTES)
        # The rest of the body is never read: the connection cannot be reused.
        return _json(start_response, 413, {"error": "too large"}, [("Connection", "close")])
    if not _is_signed(
        secret,
        raw,
        environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP"),
        environ.get("HTTP_X_SLACK_SIGNATURE"),
    ):
        logger.warning("Rejected a request with a missing, stale or invalid Slack signature")
        return _json(start_response, 401, {"error": "invalid signature"})
    request = _bolt_request(environ, raw)
    if request is None:
        logger.warning("Refused a signed request whose body is not a Slack payload")
        return _json(start_response, 400, {"error": "malformed body"})
    return _bolt_response(app.dispatch(request), start_response)


def _install_request(app: App, environ: dict, start_response) -> Iterable[bytes]:
    """Bolt's OAuth flow: the "Add to Slack" page, or Slack's redirect back with a code (its
    state checked against the one issued and the installer's browser cookie)."""
    http = WsgiHttpRequest(environ)
    request = BoltRequest(body="", query=http.query_string, headers=http.get_headers())
    flow = app.oauth_flow
    if http.path == flow.install_path:
        answer = flow.handle_installation(request)
    else:
        answer = flow.handle_callback(request)
    return _bolt_response(answer, start_response)


def _bolt_response(answer: BoltResponse, start_response) -> Iterable[bytes]:
    response = WsgiHttpResponse(status=answer.status, headers=answer.headers, body=answer.body)
    start_response(response.status, response.get_headers())
    return response.get_body()


def _read_body(environ: dict) -> bytes | None:
    """The request body, or None when it is over `MAX_BODY_BYTES` (by its declared length,
    or, for a chunked body, as soon as that much has arrived)."""
    declared = environ.get("CONTENT_LENGTH") or ""
    if declared.strip().isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    stream = environ["wsgi.input"]
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_BODY_BYTES:
        chunk = stream.read(min(READ_CHUNK_BYTES, MAX_BODY_BYTES + 1 - size))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
    return None


def _is_signed(secret: bytes, raw: bytes, timestamp: str | None, signature: str | None) -> bool:
    """Slack's request signature (`v0=` HMAC-SHA256 of `v0:<timestamp>:<body>`), recent."""
    if not timestamp or not signature or not (timestamp.isascii() and timestamp.isdigit()):
        return False
    if abs(time.time() - int(timestamp)) > SIGNATURE_WINDOW_SECONDS:
        return False
    digest = hmac.new(secret, b"v0:" + timestamp.encode() + b":" + raw, hashlib.sha256)
    expected = ("v0=" + digest.hexdigest()).encode()
    return hmac.compare_digest(expected, signature.encode("latin-1", "replace"))


def _bolt_request(environ: dict, raw: bytes) -> BoltRequest | None:
    """The request as Bolt sees it, or None when the body is not a JSON object, a form, or a
    form whose `payload` is a JSON object (Bolt would fail on it with a 500)."""
    http = WsgiHttpRequest(environ)
    headers = http.get_headers()
    content_type = (headers.get("content-type") or [""])[0].split(";")[0]
    try:
        body = raw.decode("utf-8")
        if not isinstance(parse_body(body, content_type or None), dict):
            return None
        return BoltRequest(body=body, query=http.query_string, headers=headers)
    except (ValueError, TypeError, AttributeError, KeyError):  # what malformed input raises
        return None


def _json(start_response, status: int, payload: dict, extra_headers=()) -> list[bytes]:
    body = json.dumps(payload).encode()
    start_response(
        f"{status} {HTTPStatus(status).phrase}",
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
