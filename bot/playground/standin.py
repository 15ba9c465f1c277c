"""A real local HTTP server standing in for the Slack Web API (and response_url) in tests.

Point ``WebClient(base_url=slack.url)`` or the app's ``SLACK_API_URL`` at it. Every request is
recorded as a :class:`RecordedCall` and checked against the shared Slack specs
(:mod:`tests.slack_contract`); problems go to ``slack.violations`` and ``slack.assert_clean()``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import secrets
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from tests.slack_contract import (
    SPEC_GAPS,
    check_call,
    validate_message_blocks,
    validate_view,
    web_api_methods,
)

# Arguments that form-encoded calls send as JSON strings; RecordedCall.args holds them decoded.
JSON_ARGS = ("blocks", "attachments", "view", "metadata")
RESPONSE_URL = "response_url"
_MESSAGE_METHODS = ("chat.postMessage", "chat.postEphemeral", "chat.update", "chat.scheduleMessage")
_FIRST_TS_MICROS = 1_700_000_000_000_100
_BOT_USER, _BOT_ID, _APP_ID = "UBOT", "BBOT", "A0001"

Answer = dict[str, Any]
AnswerFn = Callable[[dict[str, Any]], Answer]


@dataclass(frozen=True)
class RecordedCall:
    """One request received by the stand-in.

    ``args`` merges query string and body (form or JSON); string values of ``JSON_ARGS``
    (``blocks``, ``attachments``, ``view``, ``metadata``) are decoded, so ``args["blocks"]``
    is a list whichever encoding the client used. For ``method == "response_url"`` args is
    the JSON body. ``answered`` says how the stand-in replied: ``"ok"``, ``"error:<code>"``
    (HTTP 200 with ok=false), an HTTP status such as ``"429"``/``"500"``, or ``"reset"``.
    """

    method: str
    args: dict[str, Any]
    content_type: str
    token: str | None
    at: float
    answered: str
    path: str

    @property
    def succeeded(self) -> bool:
        """True when the call was answered ``ok: true``."""
        return self.answered == "ok"


@dataclass(frozen=True)
class _Reply:
    status: int = 200
    body: Answer | None = None  # None: drop the connection without answering
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def answered(self) -> str:
        if self.body is None:
            return "reset"
        if self.status != 200:
            return str(self.status)
        return "ok" if self.body.get("ok") else f"error:{self.body.get('error')}"


def _rate_limited(retry_after: int) -> _Reply:
    return _Reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)})


def _stable_id(prefix: str, *parts: str) -> str:
    return prefix + hashlib.sha1(",".join(parts).encode()).hexdigest()[:10].upper()


def _decode_json_args(args: dict[str, Any]) -> dict[str, Any]:
    decoded = dict(args)
    for name in JSON_ARGS:
        value = decoded.get(name)
        if isinstance(value, str) and value.lstrip()[:1] in ("[", "{"):
            with contextlib.suppress(json.JSONDecodeError):  # else kept: Block Kit checks report it
                decoded[name] = json.loads(value)
    return decoded


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, standin: SlackStandIn) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.standin = standin


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def _handle(self) -> None:
        url = urlsplit(self.path)
        content_type = self.headers.get("Content-Type", "")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        args: dict[str, Any] = {
            k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()
        }
        if "json" in content_type:
            args.update(json.loads(body or b"{}"))
        elif "x-www-form-urlencoded" in content_type:
            form = parse_qs(body.decode(), keep_blank_values=True)
            args.update({k: v[-1] for k, v in form.items()})
        auth = self.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else args.get("token")
        if url.path.startswith("/api/"):
            method = url.path.removeprefix("/api/")
        elif url.path.startswith("/response/"):
            method = RESPONSE_URL
        else:
            self._send(_Reply(404, {"ok": False, "error": "not_found"}))
            return
        self._send(self.server.standin._serve(method, args, content_type, token, url.path))

    def _send(self, reply: _Reply) -> None:
        if reply.body is None:  # abort the connection with a TCP reset
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        data = json.dumps(reply.body).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class SlackStandIn:
    """Local Slack Web API: records calls, answers like Slack, checks the contract.

    Use as ``with SlackStandIn() as slack:`` (or ``start()``/``stop()``). Starts with team
    T0001 "Saydo Test Council" and the bot user UBOT (bot_id BBOT).
    """

    def __init__(self, *, socket_mode_url: str | None = None, check_contract: bool = True) -> None:
        """`check_contract=False` skips the spec and Block Kit checks (about 9 ms a call): for
        benchmarks that measure Saydo's sending, not its payloads, which the tests check."""
        self.socket_mode_url = socket_mode_url
        self.check_contract = check_contract
        self._lock = threading.Lock()
        self._calls: list[RecordedCall] = []
        self._violations: list[str] = []
        self._teams: dict[str, dict[str, Any]] = {}
        self._users: dict[str, dict[str, Any]] = {}
        self._channels: dict[str, dict[str, Any]] = {}
        self._views: dict[str, dict[str, Any]] = {}
        self._home_views: dict[str, str] = {}  # user id -> view id
        self._failures: dict[str, list[_Reply]] = {}
        self._intervals: dict[str, float] = {}
        self._next_allowed: dict[str, float] = {}
        self._windows: dict[str, tuple[int, float]] = {}  # method -> (calls, seconds)
        self._window_use: dict[str, tuple[float, int]] = {}  # method -> (window start, calls)
        self._custom: dict[str, AnswerFn] = {}
        self._messages_sent = 0
        self._views_made = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._builtin: dict[str, AnswerFn] = {
            "auth.test": self._auth_test,
            "apps.connections.open": self._apps_connections_open,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": lambda a: {"channel": a.get("channel"), "ts": a.get("ts")},
            "chat.getPermalink": self._chat_get_permalink,
            "users.info": self._users_info,
            "users.conversations": self._users_conversations,
            "conversations.info": self._conversations_info,
            "conversations.members": self._conversations_members,
            "conversations.open": self._conversations_open,
            "views.open": self._store_view,
            "views.push": self._store_view,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "team.info": self._team_info,
            RESPONSE_URL: lambda _args: {},
        }
        self.add_team("T0001", "Saydo Test Council", "saydo-test")
        self.add_user(_BOT_USER, name="saydo", real_name="Saydo", is_bot=True, bot_id=_BOT_ID)

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> SlackStandIn:
        """Start serving on 127.0.0.1 at an OS-chosen port, in a daemon thread."""
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> SlackStandIn:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base(self) -> str:
        """``http://127.0.0.1:PORT`` of the running server."""
        if self._server is None:
            raise RuntimeError(
                "SlackStandIn is not running; call start() or use it as a context manager"
            )
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        """Web API base URL for ``WebClient(base_url=...)``/``SLACK_API_URL``."""
        return f"{self.base}/api/"

    def response_url(self) -> str:
        """A fresh response_url; POSTs to it are recorded with method ``"response_url"``."""
        return f"{self.base}/response/{secrets.token_hex(8)}"

    # -- directory -----------------------------------------------------------------------------

    def add_team(self, team_id: str, name: str, domain: str | None = None) -> None:
        """Add (or replace) a workspace answered by ``team.info`` and ``auth.test``."""
        with self._lock:
            self._teams[team_id] = {
                "id": team_id,
                "name": name,
                "domain": domain or team_id.lower(),
            }

    def add_user(
        self,
        user_id: str,
        *,
        name: str,
        team_id: str = "T0001",
        real_name: str | None = None,
        tz: str = "Europe/London",
        locale: str = "en-GB",
        is_bot: bool = False,
        deleted: bool = False,
        bot_id: str | None = None,
    ) -> None:
        """Add (or replace) a user answered by ``users.info``."""
        ZoneInfo(tz)  # fail fast on a bad zone name
        with self._lock:
            self._users[user_id] = {
                "id": user_id,
                "team_id": team_id,
                "name": name,
                "real_name": real_name or name,
                "tz": tz,
                "locale": locale,
                "is_bot": is_bot,
                "deleted": deleted,
                "bot_id": bot_id,
            }

    def add_channel(
        self,
        channel_id: str,
        *,
        name: str,
        members: list[str] | tuple[str, ...] = (),
        is_private: bool = False,
        is_ext_shared: bool = False,
    ) -> None:
        """Add (or replace) a channel for ``conversations.*`` and ``users.conversations``."""
        with self._lock:
            self._channels[channel_id] = {
                "id": channel_id,
                "name": name,
                "members": list(members),
                "is_private": is_private,
                "is_ext_shared": is_ext_shared,
            }

    # -- behaviour -----------------------------------------------------------------------------

    def fail(
        self,
        method: str,
        *,
        status: int | None = None,
        error: str | None = None,
        retry_after: int | None = None,
        reset: bool = False,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail.

        Exactly one of: ``status`` (HTTP error; 429 or ``retry_after`` alone sends ``Retry-After``,
        default 1 s, Slack never sends less), ``error`` (HTTP 200 ``ok: false``), ``reset=True``
        (connection dropped unanswered). ``method`` may also be ``"response_url"``.
        """
        if retry_after is not None and status is None:
            status = 429
        if (status is not None) + (error is not None) + reset != 1:
            raise ValueError("give exactly one of status/retry_after, error or reset=True")
        if reset:
            reply = _Reply(body=None)
        elif error is not None:
            reply = _Reply(200, {"ok": False, "error": error})
        elif status == 429:
            reply = _rate_limited(1 if retry_after is None else retry_after)
        else:
            reply = _Reply(status or 500, {"ok": False, "error": "internal_error"})
        with self._lock:
            self._failures.setdefault(method, []).extend([reply] * times)

    def rate_limit(self, method: str, per_second: float) -> None:
        """Answer calls beyond ``per_second`` with 429 and a sufficient Retry-After, like Slack."""
        with self._lock:
            self._intervals[method] = 1.0 / per_second

    def rate_limit_window(self, method: str, calls: int, seconds: float) -> None:
        """Allow ``calls`` calls of ``method`` per fixed window of ``seconds``, like Slack's
        per-minute tiers (bursts allowed); beyond that answer 429 with ``Retry-After`` = whole
        seconds until the window resets (rounded up, at least 1).

        Windows are consecutive and anchored at the first call after this is set: the k-th
        window is ``[t0 + k * seconds, t0 + (k + 1) * seconds)``. Answers 429 do not count.
        """
        if calls < 1 or seconds <= 0:
            raise ValueError("calls must be at least 1 and seconds positive")
        with self._lock:
            self._windows[method] = (calls, seconds)
            self._window_use.pop(method, None)

    def set_answer(self, method: str, answer: Answer | AnswerFn) -> None:
        """Answer ``method`` with a fixed body or ``answer(args)``; ``ok: true`` unless given."""
        with self._lock:
            self._custom[method] = answer if callable(answer) else (lambda _args: dict(answer))

    # -- inspection ----------------------------------------------------------------------------

    @property
    def calls(self) -> list[RecordedCall]:
        """Snapshot of every recorded call, in arrival order (failed attempts included)."""
        with self._lock:
            return list(self._calls)

    @property
    def violations(self) -> list[str]:
        """Snapshot of the contract problems found so far."""
        with self._lock:
            return list(self._violations)

    def calls_to(self, method: str) -> list[RecordedCall]:
        """Recorded calls (attempts, failed or not) of one method."""
        return [call for call in self.calls if call.method == method]

    def messages_to(self, channel: str) -> list[RecordedCall]:
        """Successful chat.postMessage/postEphemeral calls whose ``channel`` arg is ``channel``."""
        return [
            call
            for call in self.calls
            if call.method in ("chat.postMessage", "chat.postEphemeral")
            and call.succeeded
            and call.args.get("channel") == channel
        ]

    def clear(self) -> None:
        """Forget recorded calls and violations (directories and failure plans are kept)."""
        with self._lock:
            self._calls.clear()
            self._violations.clear()

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[RecordedCall]:
        """Wait until at least ``count`` calls of ``method`` arrived; return them all."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.calls_to(method)
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                received = ", ".join(f"{c.method}({c.answered})" for c in self.calls) or "nothing"
                raise AssertionError(
                    f"expected {count} {method} call(s) within {timeout}s, got {len(found)}; "
                    f"received: {received}"
                )
            time.sleep(0.02)

    def assert_clean(self) -> None:
        """Raise AssertionError listing every contract violation recorded."""
        violations = self.violations
        if violations:
            raise AssertionError("Slack contract violations:\n  " + "\n  ".join(violations))

    # -- serving -------------------------------------------------------------------------------

    def _serve(
        self, method: str, raw_args: dict[str, Any], content_type: str, token: str | None, path: str
    ) -> _Reply:
        at = time.time()
        args = _decode_json_args(raw_args)
        problems = self._contract_problems(method, args) if self.check_contract else []
        with self._lock:
            reply = (
                self._injected(method)
                or self._throttled(method)
                or self._answer(method, args, token)
            )
            self._calls.append(
                RecordedCall(method, args, content_type, token, at, reply.answered, path)
            )
            self._violations.extend(problems)
        return reply

    def _contract_problems(self, method: str, args: dict[str, Any]) -> list[str]:
        problems = [] if method == RESPONSE_URL else check_call(method, args)
        if "blocks" in args and (method in _MESSAGE_METHODS or method == RESPONSE_URL):
            problems += [f"{method}: blocks {p}" for p in validate_message_blocks(args["blocks"])]
        if "view" in args and method.startswith("views."):
            problems += [f"{method}: view {p}" for p in validate_view(args["view"])]
        return problems

    def _injected(self, method: str) -> _Reply | None:
        pending = self._failures.get(method)
        return pending.pop(0) if pending else None

    def _throttled(self, method: str) -> _Reply | None:
        return self._over_interval(method) or self._over_window(method)

    def _over_window(self, method: str) -> _Reply | None:
        limit = self._windows.get(method)
        if limit is None:
            return None
        calls, seconds = limit
        now = time.monotonic()
        anchor, used = self._window_use.get(method, (now, 0))
        if now - anchor >= seconds:  # move to the window containing `now`
            anchor += (now - anchor) // seconds * seconds
            used = 0
        if used >= calls:
            self._window_use[method] = (anchor, used)
            return _rate_limited(max(1, math.ceil(anchor + seconds - now)))
        self._window_use[method] = (anchor, used + 1)
        return None

    def _over_interval(self, method: str) -> _Reply | None:
        interval = self._intervals.get(method)
        if interval is None:
            return None
        now = time.monotonic()
        wait = self._next_allowed.get(method, now) - now
        if wait > 0:
            return _rate_limited(max(1, math.ceil(wait)))
        self._next_allowed[method] = now + interval
        return None

    def _answer(self, method: str, args: dict[str, Any], token: str | None) -> _Reply:
        answer_fn = self._custom.get(method) or self._builtin.get(method)
        if answer_fn is None:
            if method in web_api_methods() or method in SPEC_GAPS:
                self._violations.append(
                    f"{method}: SlackStandIn has no answer for this method; "
                    "use slack.set_answer() or add one to tests/slack_standin.py"
                )
                return _Reply(200, {"ok": True})
            return _Reply(200, {"ok": False, "error": "unknown_method"})
        if not token and method != RESPONSE_URL:
            return _Reply(200, {"ok": False, "error": "not_authed"})
        return _Reply(200, {"ok": True, **answer_fn(args)})

    # -- answers (called with the lock held) ---------------------------------------------------

    def _next_ts(self) -> str:
        micros = _FIRST_TS_MICROS + 100 * self._messages_sent
        self._messages_sent += 1
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _bot_message(self, args: dict[str, Any], ts: str) -> dict[str, Any]:
        message = {
            "type": "message",
            "subtype": "bot_message",
            "text": args.get("text", ""),
            "user": _BOT_USER,
            "bot_id": _BOT_ID,
            "app_id": _APP_ID,
            "team": "T0001",
            "ts": ts,
        }
        return message | {
            k: args[k] for k in ("blocks", "attachments", "thread_ts", "metadata") if k in args
        }

    def _channel_for(self, channel: str) -> str:
        """Posting to a user id lands in the DM with that user, as on Slack."""
        return _stable_id("D", channel) if channel[:1] in ("U", "W") else channel

    def _auth_test(self, _args: dict[str, Any]) -> Answer:
        team = self._teams["T0001"]
        return {
            "url": f"https://{team['domain']}.slack.com/",
            "team": team["name"],
            "user": self._users[_BOT_USER]["name"],
            "team_id": team["id"],
            "user_id": _BOT_USER,
            "bot_id": _BOT_ID,
            "is_enterprise_install": False,
        }

    def _apps_connections_open(self, _args: dict[str, Any]) -> Answer:
        if self.socket_mode_url is None:
            return {"ok": False, "error": "invalid_auth"}
        return {"url": self.socket_mode_url}

    def _chat_post_message(self, args: dict[str, Any]) -> Answer:
        if not args.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not any(args.get(k) for k in ("text", "blocks", "attachments")):
            return {"ok": False, "error": "no_text"}
        ts = self._next_ts()
        return {
            "channel": self._channel_for(args["channel"]),
            "ts": ts,
            "message": self._bot_message(args, ts),
        }

    def _chat_post_ephemeral(self, args: dict[str, Any]) -> Answer:
        if not args.get("user"):
            return {"ok": False, "error": "user_not_found"}
        return {"message_ts": self._next_ts()}

    def _chat_update(self, args: dict[str, Any]) -> Answer:
        ts = args.get("ts", "")
        return {
            "channel": args.get("channel"),
            "ts": ts,
            "text": args.get("text", ""),
            "message": self._bot_message(args, ts),
        }

    def _chat_get_permalink(self, args: dict[str, Any]) -> Answer:
        channel, ts = args.get("channel", ""), args.get("message_ts", "")
        domain = self._teams["T0001"]["domain"]
        link = f"https://{domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
        return {"channel": channel, "permalink": link}

    def _users_info(self, args: dict[str, Any]) -> Answer:
        record = self._users.get(args.get("user", ""))
        if record is None:
            return {"ok": False, "error": "user_not_found"}
        now = datetime.now(ZoneInfo(record["tz"]))
        offset = now.utcoffset()
        user: dict[str, Any] = {
            "id": record["id"],
            "team_id": record["team_id"],
            "name": record["name"],
            "deleted": record["deleted"],
            "real_name": record["real_name"],
            "tz": record["tz"],
            "tz_label": now.tzname(),
            "tz_offset": int(offset.total_seconds()) if offset else 0,
            "is_bot": record["is_bot"],
            "is_app_user": False,
            "profile": {
                "display_name": record["name"],
                "real_name": record["real_name"],
                "team": record["team_id"],
            },
        }
        if record["bot_id"]:
            user["profile"]["bot_id"] = record["bot_id"]
        if str(args.get("include_locale", "")).lower() in ("1", "true"):
            user["locale"] = record["locale"]
        return {"user": user}

    def _channel_object(self, record: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": record["id"],
            "name": record["name"],
            "is_channel": not record["is_private"],
            "is_group": False,
            "is_im": False,
            "is_private": record["is_private"],
            "is_archived": False,
            "is_ext_shared": record["is_ext_shared"],
            "is_shared": record["is_ext_shared"],
            "is_member": _BOT_USER in record["members"],
            "num_members": len(record["members"]),
        }

    def _users_conversations(self, args: dict[str, Any]) -> Answer:
        user = args.get("user", _BOT_USER)
        types = str(args.get("types") or "public_channel").split(",")
        channels = [
            self._channel_object(record)
            for record in self._channels.values()
            if user in record["members"]
            and ("private_channel" if record["is_private"] else "public_channel") in types
        ]
        return {"channels": channels, "response_metadata": {"next_cursor": ""}}

    def _conversations_info(self, args: dict[str, Any]) -> Answer:
        record = self._channels.get(args.get("channel", ""))
        if record is None:
            return {"ok": False, "error": "channel_not_found"}
        return {"channel": self._channel_object(record)}

    def _conversations_members(self, args: dict[str, Any]) -> Answer:
        record = self._channels.get(args.get("channel", ""))
        if record is None:
            return {"ok": False, "error": "channel_not_found"}
        return {"members": list(record["members"]), "response_metadata": {"next_cursor": ""}}

    def _conversations_open(self, args: dict[str, Any]) -> Answer:
        if args.get("channel"):
            return {"channel": {"id": args["channel"]}}
        users = sorted(u for u in str(args.get("users", "")).split(",") if u)
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        unknown = [u for u in users if u not in self._users]
        if unknown:
            return {"ok": False, "error": "user_not_found"}
        return {"channel": {"id": _stable_id("D" if len(users) == 1 else "G", *users)}}

    def _store_view(self, args: dict[str, Any], view_id: str | None = None) -> Answer:
        submitted = args.get("view")
        if not isinstance(submitted, dict):
            return {"ok": False, "error": "invalid_arguments"}
        if view_id is None:
            self._views_made += 1
            view_id = f"V{self._views_made:09d}"
        previous = self._views.get(view_id, {})
        view = {
            "id": view_id,
            "team_id": "T0001",
            **submitted,
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "root_view_id": previous.get("root_view_id", view_id),
            "previous_view_id": None,
            "app_id": _APP_ID,
            "bot_id": _BOT_ID,
        }
        self._views[view_id] = view
        return {"view": view, "response_metadata": {"messages": []}}

    def _views_update(self, args: dict[str, Any]) -> Answer:
        view_id = args.get("view_id")
        if not view_id and args.get("external_id"):
            external = args["external_id"]
            view_id = next(
                (v["id"] for v in self._views.values() if v.get("external_id") == external), None
            )
        if view_id not in self._views:
            return {"ok": False, "error": "not_found"}
        if args.get("hash") and args["hash"] != self._views[view_id]["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        return self._store_view(args, view_id)

    def _views_publish(self, args: dict[str, Any]) -> Answer:
        user_id = args.get("user_id", "")
        if user_id not in self._users:
            return {"ok": False, "error": "user_not_found"}
        current = self._home_views.get(user_id)
        if args.get("hash") and current and args["hash"] != self._views[current]["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        answer = self._store_view(args, current)
        if "view" in answer:
            self._home_views[user_id] = answer["view"]["id"]
        return answer

    def _team_info(self, args: dict[str, Any]) -> Answer:
        team = self._teams.get(args.get("team") or "T0001")
        if team is None:
            return {"ok": False, "error": "team_not_found"}
        return {"team": {**team, "email_domain": "", "icon": {"image_default": True}}}
