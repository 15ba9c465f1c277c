"""A real local HTTP server standing in for the Slack Web API (and ``response_url``).

Two users: the tests (``WebClient(base_url=slack.url)`` or Saydo's ``SLACK_API_URL`` pointed at
it) and the playground, which shows people what Saydo does without a Slack workspace.

It answers the Web API methods Saydo calls like Slack does, from a small directory of teams,
users and channels, and keeps what a workspace would show: the messages in each conversation
(ephemeral ones visible to one person only), the modals open for each person and each person's
Home tab. Unknown methods get ``unknown_method``, unknown or missing arguments
``invalid_arguments``, more than 50 blocks in a message ``invalid_blocks``, as on Slack.

Every request is recorded as a :class:`RecordedCall`. Tests pass ``contract=`` a checker of
their own (Slack's OpenAPI spec and the Block Kit schema), which checks each request and the
stand-in's own answer to it; what it reports is collected in ``violations`` and raised by
``assert_clean()``.
"""

from __future__ import annotations

import base64
import contextlib
import copy
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

# Arguments that form-encoded calls send as JSON strings; RecordedCall.args holds them decoded.
JSON_ARGS = ("blocks", "attachments", "view", "metadata")
RESPONSE_URL = "response_url"
BOT_USER, BOT_ID, APP_ID = "UBOT", "BBOT", "A0001"
HOST_TEAM = "T0001"
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100

# Every method answered, with its argument names and the required ones: the OpenAPI spec's
# (tests/test_slack_standin.py checks they agree), plus `metadata`, which Slack added after the
# spec was generated. `token` and `team_id` are accepted everywhere (Bolt adds `team_id`).
ACCEPTED_ARGUMENTS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    method: (frozenset(names.split()), frozenset(required.split()))
    for method, names, required in (
        ("auth.test", "", ""),
        ("apps.uninstall", "client_id client_secret", ""),
        ("apps.connections.open", "", ""),
        (
            "chat.postMessage",
            "as_user attachments blocks channel icon_emoji icon_url link_names metadata mrkdwn "
            "parse reply_broadcast text thread_ts unfurl_links unfurl_media username",
            "channel",
        ),
        (
            "chat.postEphemeral",
            "as_user attachments blocks channel icon_emoji icon_url link_names parse text "
            "thread_ts user username",
            "channel user",
        ),
        (
            "chat.update",
            "as_user attachments blocks channel link_names metadata parse text ts",
            "channel ts",
        ),
        ("chat.delete", "as_user channel ts", ""),
        ("chat.getPermalink", "channel message_ts", "channel message_ts"),
        ("users.info", "include_locale user", ""),
        ("users.conversations", "cursor exclude_archived limit types user", ""),
        ("conversations.info", "channel include_locale include_num_members", ""),
        ("conversations.members", "channel cursor limit", ""),
        ("conversations.open", "channel return_im users", ""),
        ("views.open", "trigger_id view", "trigger_id view"),
        ("views.push", "trigger_id view", "trigger_id view"),
        ("views.update", "external_id hash view view_id", ""),
        ("views.publish", "hash user_id view", "user_id view"),
        ("team.info", "team", ""),
        # Slack's external upload flow (2024), absent from the 2020 spec: see SPEC_GAPS in
        # tests/slack_contract.py. Their required arguments are checked by the answers.
        ("files.getUploadURLExternal", "alt_txt filename length snippet_type", ""),
        (
            "files.completeUploadExternal",
            "channel_id channels files initial_comment thread_ts",
            "",
        ),
        # `grant_type` and `refresh_token` (token rotation, 2021) postdate the spec, and with
        # them `code` became optional: see SPEC_GAPS in tests/slack_contract.py.
        (
            "oauth.v2.access",
            "client_id client_secret code grant_type redirect_uri refresh_token",
            "",
        ),
    )
}
UPLOAD_PATH = "/upload/"  # where files.getUploadURLExternal tells clients to POST the bytes
# Answered without a token: the app authenticates with its client id and secret.
WITHOUT_TOKEN = frozenset({"oauth.v2.access"})
ALWAYS_ACCEPTED = frozenset({"token", "team_id"})

Answer = dict[str, Any]
AnswerFn = Callable[[dict[str, Any]], Answer]
# contract(method, args, answer): problems with a call and, when given, with the stand-in's own
# successful built-in answer to it (None for failures, test-set answers and response_url).
ContractCheck = Callable[[str, dict[str, Any], Answer | None], list[str]]


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
class ResponseContext:
    """Where a ``response_url`` answers: the person who acted, in which conversation, and the
    message they acted on (``message_ts``; ``ephemeral`` when it was visible to them only)."""

    channel: str
    user: str
    message_ts: str | None = None
    ephemeral: bool = False


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


def _error(code: str, *messages: str) -> Answer:
    answer: Answer = {"ok": False, "error": code}
    if messages:
        answer["response_metadata"] = {"messages": [f"[ERROR] {m}" for m in messages]}
    return answer


def stable_id(prefix: str, *parts: str) -> str:
    """The id Slack would give a conversation (or anything) identified by ``parts``."""
    return prefix + hashlib.sha1(",".join(parts).encode()).hexdigest()[:10].upper()


def dm_id(user_id: str) -> str:
    """The id of the direct message between the bot and ``user_id``."""
    return stable_id("D", user_id)


def _decode_json_args(args: dict[str, Any]) -> dict[str, Any]:
    decoded = dict(args)
    for name in JSON_ARGS:
        value = decoded.get(name)
        if isinstance(value, str) and value.lstrip()[:1] in ("[", "{"):
            with contextlib.suppress(json.JSONDecodeError):  # else kept: Block Kit checks report it
                decoded[name] = json.loads(value)
    return decoded


def _argument_problems(method: str, args: dict[str, Any]) -> list[str]:
    names, required = ACCEPTED_ARGUMENTS[method]
    unknown = sorted(set(args) - names - ALWAYS_ACCEPTED)
    missing = sorted(required - {name for name, value in args.items() if value not in ("", None)})
    return [f"unknown argument '{name}'" for name in unknown] + [
        f"missing required argument '{name}'" for name in missing
    ]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, standin: SlackStandIn, port: int) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.standin = standin


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        """Keep output quiet."""

    def _handle(self) -> None:
        url = urlsplit(self.path)
        content_type = self.headers.get("Content-Type", "")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if url.path.startswith(UPLOAD_PATH):  # raw file bytes, whatever the content type says
            self._send(self.server.standin._receive_upload(url.path, body))
            return
        args: dict[str, Any] = {
            k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()
        }
        if "json" in content_type:
            args.update(json.loads(body or b"{}"))
        elif "x-www-form-urlencoded" in content_type:
            form = parse_qs(body.decode(), keep_blank_values=True)
            args.update({k: v[-1] for k, v in form.items()})
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):  # app credentials (oauth.v2.access), as Slack accepts them
            client_id, _, client_secret = base64.b64decode(auth[6:]).decode().partition(":")
            args.update(client_id=client_id, client_secret=client_secret)
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
    """Local Slack Web API: answers like Slack, keeps the workspace's state, records calls.

    Use as ``with SlackStandIn() as slack:`` (or ``start()``/``stop()``). Starts with the host
    team T0001 "Saydo Test Council" and the bot user UBOT (bot_id BBOT).
    """

    def __init__(
        self,
        *,
        socket_mode_url: str | None = None,
        contract: ContractCheck | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``contract(method, args)`` returns problems with a call (tests check the shared
        specs with it); without one only the built-in argument table is enforced. ``clock``
        gives the epoch seconds that message timestamps (``ts``) are made from."""
        self.socket_mode_url = socket_mode_url
        self.contract = contract
        self.clock = clock
        self._last_ts_micros = 0
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._version = 0
        self._not_waiting = False
        self._calls: list[RecordedCall] = []
        self._violations: list[str] = []
        self._teams: dict[str, dict[str, Any]] = {}
        self._users: dict[str, dict[str, Any]] = {}
        self._channels: dict[str, dict[str, Any]] = {}
        self._messages: dict[str, list[dict[str, Any]]] = {}
        self._ephemerals: dict[str, list[dict[str, Any]]] = {}  # channel -> messages + "for"
        self._views: dict[str, dict[str, Any]] = {}
        self._home_views: dict[str, str] = {}  # user id -> view id
        self._modal_stacks: dict[str, list[str]] = {}  # user id -> open modal view ids
        self._triggers: dict[str, str] = {}  # trigger id -> user id
        self._response_contexts: dict[str, ResponseContext] = {}
        self._failures: dict[str, list[_Reply]] = {}
        self._intervals: dict[str, float] = {}
        self._next_allowed: dict[str, float] = {}
        self._windows: dict[str, tuple[int, float]] = {}  # method -> (calls, seconds)
        self._window_use: dict[str, tuple[float, int]] = {}  # method -> (window start, calls)
        self._custom: dict[str, AnswerFn] = {}
        self._delay_seconds = 0.0
        self._held: set[str] = set()
        self._waiting: dict[str, int] = {}  # method -> calls held
        self._released = threading.Condition(self._lock)
        self._views_made = 0
        self._oauth_client: tuple[str, str] | None = None
        self._codes: dict[str, tuple[str, str, str]] = {}  # code -> (team, installer, scopes)
        self._installed_tokens: dict[str, str] = {}  # bot token issued by OAuth -> its team
        self._revoked_tokens: set[str] = set()
        self._granted_scopes: dict[str, str] = {}  # team -> the scopes its installer allowed
        self._rotation_seconds: int | None = None  # token rotation: how long a token lives
        self._token_expiry: dict[str, float] = {}  # expiring token -> epoch second it expires
        self._refresh_tokens: dict[str, str] = {}  # unused refresh token -> its team
        self._caller: str | None = None  # the token of the call being answered (lock held)
        self._dms_refused: dict[str, str] = {}  # user id -> Slack's error for a DM to them
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._builtin: dict[str, AnswerFn] = {
            "auth.test": lambda _args: self._auth_test(self._caller_team() or HOST_TEAM),
            "apps.uninstall": self._apps_uninstall,
            "apps.connections.open": self._apps_connections_open,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.getPermalink": self._chat_get_permalink,
            "users.info": self._users_info,
            "users.conversations": self._users_conversations,
            "conversations.info": self._conversations_info,
            "conversations.members": self._conversations_members,
            "conversations.open": self._conversations_open,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "team.info": self._team_info,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
            "oauth.v2.access": self._oauth_v2_access,
        }
        self._files: dict[str, dict[str, Any]] = {}  # file id -> name, length, bytes, where
        self.add_team(HOST_TEAM, "Saydo Test Council", "saydo-test")
        self.add_user(BOT_USER, name="saydo", real_name="Saydo", is_bot=True, bot_id=BOT_ID)

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self, port: int = 0) -> SlackStandIn:
        """Start serving on 127.0.0.1 (an OS-chosen port by default), in a daemon thread."""
        self._server = _Server(self, port)
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

    def response_url(self, context: ResponseContext | None = None) -> str:
        """A fresh response_url; POSTs to it are recorded with method ``"response_url"`` and,
        given the ``context`` of the action, shown where Slack would show them."""
        token = secrets.token_hex(8)
        if context is not None:
            with self._lock:
                self._response_contexts[token] = context
        return f"{self.base}/response/{token}"

    # -- installing through OAuth --------------------------------------------------------------

    def accept_oauth_client(self, client_id: str, client_secret: str) -> None:
        """The app credentials ``oauth.v2.access`` accepts (its Basic Information page)."""
        with self._lock:
            self._oauth_client = (client_id, client_secret)

    def approve_install(self, team_id: str, installer: str, scopes: str) -> str:
        """A person of ``team_id`` clicked "Allow" on Slack's authorize page: the one-use code
        Slack sends to the app's redirect URL."""
        code = f"{team_id}.{secrets.token_hex(8)}"
        with self._lock:
            self._codes[code] = (team_id, installer, scopes)
        return code

    def installed_teams(self) -> dict[str, str]:
        """Each bot token issued through ``oauth.v2.access``, with its team (a refreshed
        token too, so a team may have several)."""
        with self._lock:
            return dict(self._installed_tokens)

    def newest_token(self, team_id: str) -> str | None:
        """The bot token issued to ``team_id`` last (by an install or a refresh)."""
        with self._lock:
            issued = [t for t, team in self._installed_tokens.items() if team == team_id]
            return issued[-1] if issued else None

    def uninstall(self, team_id: str) -> None:
        """A workspace's admin removes the app: every token issued to it stops working
        (``token_revoked``) at once, and so do its refresh tokens. Slack then sends the app
        ``app_uninstalled``; tests send that event to Saydo themselves."""
        with self._lock:
            self._revoke(team_id)

    def _revoke(self, team_id: str) -> None:
        self._revoked_tokens.update(
            token for token, team in self._installed_tokens.items() if team == team_id
        )
        for refresh, team in list(self._refresh_tokens.items()):
            if team == team_id:
                del self._refresh_tokens[refresh]

    def rotate_tokens(self, *, expires_in: int | None) -> None:
        """Turn token rotation on (the app's "Opt in" under OAuth & Permissions) or off
        (``None``): from now on, installs and refreshes issue bot tokens that expire
        ``expires_in`` seconds later (Slack's are 12 hours), each with a one-use refresh
        token that ``oauth.v2.access`` with ``grant_type=refresh_token`` exchanges."""
        with self._lock:
            self._rotation_seconds = expires_in

    def expire_tokens(self, team_id: str | None = None) -> None:
        """Every expiring token issued so far (to ``team_id``, or to anyone) expires now, as
        after their lifetime: calls with them are answered ``token_expired``."""
        with self._lock:
            now = self.clock()
            for token in self._token_expiry:
                if team_id is None or self._installed_tokens[token] == team_id:
                    self._token_expiry[token] = min(self._token_expiry[token], now)

    def authorizations_for(self, channel_id: str, *, through: str) -> list[str]:
        """The teams of the installations an event in ``channel_id`` is visible to, as the
        ``authorizations`` of its Events API delivery list them: the one it is delivered
        ``through`` first, then each other workspace that installed the app (a live token)
        and has people in the channel."""
        with self._lock:
            record = self._channels.get(channel_id) or {"members": []}
            teams = {self._users[m]["team_id"] for m in record["members"] if m in self._users}
            live = {
                team
                for token, team in self._installed_tokens.items()
                if token not in self._revoked_tokens
            }
            return [through, *sorted((teams & live) - {through})]

    def refuse_dms(self, user_id: str, error: str = "cannot_dm_bot") -> None:
        """The app cannot DM ``user_id`` (e.g. a Slack Connect partner whose organisation
        does not allow it): a post to them or opening their DM is answered ``error``."""
        with self._lock:
            self._dms_refused[user_id] = error

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
        team_id: str = HOST_TEAM,
        real_name: str | None = None,
        tz: str = "Europe/London",
        locale: str = "en-GB",
        is_bot: bool = False,
        deleted: bool = False,
        bot_id: str | None = None,
        display_name: str | None = None,
    ) -> None:
        """Add (or replace) a user answered by ``users.info`` (``display_name`` defaults to the
        handle ``name``)."""
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
                "display_name": display_name or name,
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
                "kind": "private_channel" if is_private else "public_channel",
                "is_ext_shared": is_ext_shared,
            }
            self._touch()

    def users(self) -> list[dict[str, Any]]:
        """Every user of the directory (bot included), as added."""
        with self._lock:
            return [dict(user) for user in self._users.values()]

    def user(self, user_id: str) -> dict[str, Any] | None:
        with self._lock:
            record = self._users.get(user_id)
            return dict(record) if record else None

    def team(self, team_id: str) -> dict[str, Any] | None:
        with self._lock:
            record = self._teams.get(team_id)
            return dict(record) if record else None

    def channel(self, channel_id: str) -> dict[str, Any] | None:
        with self._lock:
            record = self._channels.get(channel_id)
            return copy.deepcopy(record) if record else None

    def conversations_of(self, user_id: str) -> list[dict[str, Any]]:
        """The channels, direct messages and group DMs ``user_id`` is in, in creation order."""
        with self._lock:
            return [
                copy.deepcopy(record)
                for record in self._channels.values()
                if user_id in record["members"]
            ]

    def join(self, channel_id: str, user_id: str) -> None:
        """Add a member to a channel (as `/invite` would)."""
        with self._lock:
            members = self._channels[channel_id]["members"]
            if user_id not in members:
                members.append(user_id)
            self._touch()

    def leave(self, channel_id: str, user_id: str) -> None:
        """Remove a member from a channel."""
        with self._lock:
            members = self._channels[channel_id]["members"]
            if user_id in members:
                members.remove(user_id)
            self._touch()

    # -- what people see -----------------------------------------------------------------------

    def post_as(self, user_id: str, channel: str, text: str) -> dict[str, Any]:
        """A person's own message in a conversation (typed in Slack's composer)."""
        with self._lock:
            ts = self._next_ts()
            message = {
                "type": "message",
                "user": user_id,
                "team": self._users[user_id]["team_id"] if user_id in self._users else HOST_TEAM,
                "text": text,
                "ts": ts,
            }
            self._messages.setdefault(channel, []).append(message)
            self._touch()
            return dict(message)

    def conversation(self, channel: str, *, viewer: str) -> list[dict[str, Any]]:
        """The messages of a conversation as ``viewer`` sees them, oldest first; ephemeral
        ones (visible to the viewer only) are marked ``"ephemeral": True``."""
        with self._lock:
            visible = [copy.deepcopy(m) for m in self._messages.get(channel, [])]
            visible += [
                {**copy.deepcopy(m), "ephemeral": True}
                for m in self._ephemerals.get(channel, [])
                if m["for"] == viewer
            ]
        return sorted(visible, key=lambda m: float(m["ts"]))

    def message(self, channel: str, ts: str, *, viewer: str) -> dict[str, Any] | None:
        """One message as ``viewer`` sees it, or None."""
        return next((m for m in self.conversation(channel, viewer=viewer) if m["ts"] == ts), None)

    def show_reply(self, context: ResponseContext, message: dict[str, Any]) -> None:
        """Show an app's reply that came back in its HTTP acknowledgement (a slash command's
        ``ack(text)``), where Slack would: to the person alone unless ``in_channel``."""
        with self._lock:
            self._show_response(context, _decode_json_args(message))
            self._touch()

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        """The Home tab Saydo last published for ``user_id``."""
        with self._lock:
            view_id = self._home_views.get(user_id)
            return copy.deepcopy(self._views[view_id]) if view_id else None

    def view(self, view_id: str) -> dict[str, Any] | None:
        with self._lock:
            view = self._views.get(view_id)
            return copy.deepcopy(view) if view else None

    def register_trigger(self, trigger_id: str, user_id: str) -> None:
        """Say whose action a trigger_id came from, so the modal it opens is theirs."""
        with self._lock:
            self._triggers[trigger_id] = user_id

    def modals_of(self, user_id: str) -> list[dict[str, Any]]:
        """The modals open for ``user_id``, bottom of the stack first."""
        with self._lock:
            return [copy.deepcopy(self._views[v]) for v in self._modal_stacks.get(user_id, [])]

    def push_modal(self, user_id: str, view: dict[str, Any]) -> dict[str, Any]:
        """Push a view onto a person's modal stack (a ``response_action: push``)."""
        with self._lock:
            stored = self._store_view({"view": view})["view"]
            self._modal_stacks.setdefault(user_id, []).append(stored["id"])
            return copy.deepcopy(stored)

    def replace_modal(self, view_id: str, view: dict[str, Any]) -> dict[str, Any]:
        """Replace an open modal in place (a ``response_action: update``)."""
        with self._lock:
            return copy.deepcopy(self._store_view({"view": view}, view_id)["view"])

    def close_modal(self, user_id: str, *, everything: bool = False) -> None:
        """Close the top modal (a cancel or a plain submission), or the whole stack."""
        with self._lock:
            stack = self._modal_stacks.get(user_id, [])
            if everything:
                stack.clear()
            elif stack:
                stack.pop()
            self._touch()

    @property
    def version(self) -> int:
        """A number that grows whenever anything a person could see changes."""
        with self._lock:
            return self._version

    def wait_for_change(self, since: int, timeout: float) -> int:
        """Wait until ``version`` exceeds ``since`` (or ``timeout`` passes, or
        :meth:`stop_waiting` is called); return it."""
        with self._changed:
            self._changed.wait_for(
                lambda: self._version > since or self._not_waiting, timeout=timeout
            )
            return self._version

    def stop_waiting(self) -> None:
        """Release every :meth:`wait_for_change`, now and later (before shutting down)."""
        with self._changed:
            self._not_waiting = True
            self._changed.notify_all()

    # -- saving and restoring --------------------------------------------------------------------

    _STATE = (
        "_teams",
        "_users",
        "_channels",
        "_messages",
        "_ephemerals",
        "_views",
        "_home_views",
        "_modal_stacks",
        "_last_ts_micros",
        "_views_made",
    )

    def snapshot(self) -> dict[str, Any]:
        """The workspace's state (directory, conversations, views) as JSON-ready data."""
        with self._lock:
            return copy.deepcopy({name.lstrip("_"): getattr(self, name) for name in self._STATE})

    def restore(self, state: dict[str, Any]) -> None:
        """Bring back a :meth:`snapshot`."""
        with self._lock:
            for name in self._STATE:
                setattr(self, name, copy.deepcopy(state[name.lstrip("_")]))
            self._touch()

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

    def delay(self, seconds: float) -> None:
        """Answer every call (``response_url`` included) ``seconds`` late, as a slow Slack does
        (its Web API often takes 100-300 ms, at times 1-2 s); calls are recorded, and rate
        limits decided, at the time they arrived, and calls overlap meanwhile."""
        if seconds < 0:
            raise ValueError("seconds must not be negative")
        with self._lock:
            self._delay_seconds = seconds

    def hold(self, *methods: str) -> None:
        """Leave calls of ``methods`` (``"response_url"`` too) unanswered until ``release()``:
        a Slack that has not answered yet, for tests of what happens meanwhile."""
        with self._lock:
            self._held.update(methods)

    def release(self) -> None:
        """Answer the held calls, and those that arrive from now on."""
        with self._lock:
            self._held.clear()
            self._released.notify_all()

    def wait_until_held(self, method: str, timeout: float = 5.0) -> None:
        """Return once a call of ``method`` is waiting for ``release()``."""
        with self._lock:
            if not self._changed.wait_for(lambda: self._waiting.get(method), timeout):
                raise AssertionError(f"no {method} call arrived in {timeout} s")

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

    def wait_for(self, method: str, count: int = 1, timeout: float = 30.0) -> list[RecordedCall]:
        """Wait until at least ``count`` calls of ``method`` arrived; return them all. The timeout
        is generous: a loaded machine may take seconds to answer."""
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
        with self._lock:
            if method in self._held:
                self._waiting[method] = self._waiting.get(method, 0) + 1
                self._changed.notify_all()
                while method in self._held:
                    self._released.wait()
                self._waiting[method] -= 1
        args = _decode_json_args(raw_args)
        with self._lock:
            reply = (
                self._injected(method)
                or self._throttled(method)
                or self._answer(method, args, token, path)
            )
            own = reply.answered == "ok" and method in self._builtin and method not in self._custom
        # Checked outside the lock (schemas are slow), recorded with the call it is about.
        problems = self.contract(method, args, reply.body if own else None) if self.contract else []
        with self._lock:
            self._calls.append(
                RecordedCall(method, args, content_type, token, at, reply.answered, path)
            )
            self._violations.extend(problems)
            if reply.answered == "ok":
                self._touch()
            delay = self._delay_seconds
        time.sleep(delay)  # decided and recorded on arrival, answered late: as Slack's limits count
        return reply

    def _touch(self) -> None:
        """Note a visible change (lock held) and wake whoever waits for one."""
        self._version += 1
        self._changed.notify_all()

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

    def _answer(self, method: str, args: dict[str, Any], token: str | None, path: str) -> _Reply:
        if method == RESPONSE_URL:
            return _Reply(200, {"ok": True, **self._response(path.rsplit("/", 1)[-1], args)})
        custom = self._custom.get(method)
        if custom is None and method not in self._builtin:
            self._violations.append(
                f"{method}: the stand-in does not answer this method; "
                "use slack.set_answer() or add one to bot/playground/standin.py"
            )
            return _Reply(200, _error("unknown_method"))
        if not token and method not in WITHOUT_TOKEN:
            return _Reply(200, _error("not_authed"))
        if custom is None:
            problems = _argument_problems(method, args)
            if problems:
                return _Reply(200, _error("invalid_arguments", *problems))
        if token in self._revoked_tokens:
            return _Reply(200, _error("token_revoked"))
        if self._token_expiry.get(token or "", math.inf) <= self.clock():
            return _Reply(200, _error("token_expired"))
        team = self._installed_tokens.get(token or "")
        refused = (self._out_of_reach(team, args) if team is not None else None) or (
            self._dm_refused(method, args)
        )
        if refused:
            return _Reply(200, _error(refused))
        self._caller = token
        answer = (custom or self._builtin[method])(args)
        return _Reply(200, {"ok": True, **answer})

    def _out_of_reach(self, team: str, args: dict[str, Any]) -> str | None:
        """Why a token issued to ``team`` cannot reach what a call names, as Slack answers a
        token used for another workspace: a channel none of its people are in, a DM or Home
        tab of someone of another workspace."""
        channel = args.get("channel")
        if isinstance(channel, str) and channel[:1] in ("U", "W"):
            if self._users.get(channel, {}).get("team_id", team) != team:
                return "channel_not_found"
        elif isinstance(channel, str) and channel in self._channels:
            people = [
                self._users[m]["team_id"]
                for m in self._channels[channel]["members"]
                if m in self._users and not self._users[m]["is_bot"]
            ]
            if people and team not in people:
                return "channel_not_found"
        users = [args.get("user_id"), *str(args.get("users") or "").split(",")]
        for user in filter(None, users):
            if self._users.get(user, {}).get("team_id", team) != team:
                return "user_not_found"
        return None

    def _dm_refused(self, method: str, args: dict[str, Any]) -> str | None:
        """Slack's error for a DM to someone the app may not DM (`refuse_dms`)."""
        if method == "chat.postMessage":
            person = str(args.get("channel") or "")
            refused = [e for u, e in self._dms_refused.items() if person in (u, dm_id(u))]
        elif method == "conversations.open":
            users = str(args.get("users") or "").split(",")
            refused = [self._dms_refused[u] for u in users if u in self._dms_refused]
        else:
            return None
        return refused[0] if refused else None

    # -- answers (called with the lock held) ---------------------------------------------------

    def _next_ts(self) -> str:
        """Slack's message id: the posting time in epoch seconds, unique in the workspace."""
        micros = max(int(self.clock() * 1_000_000), self._last_ts_micros + 1)
        self._last_ts_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _bot_message(self, args: dict[str, Any], ts: str) -> dict[str, Any]:
        message = {
            "type": "message",
            "subtype": "bot_message",
            "text": args.get("text", ""),
            "user": BOT_USER,
            "bot_id": BOT_ID,
            "team": HOST_TEAM,
            "ts": ts,
        }
        return message | {
            k: args[k] for k in ("blocks", "attachments", "thread_ts", "metadata") if k in args
        }

    def _conversation_for(self, channel: str) -> str:
        """Posting to a user id lands in the DM with that user, as on Slack."""
        if channel[:1] in ("U", "W"):
            return self._open_conversation([channel])
        return channel

    def _open_conversation(self, users: list[str]) -> str:
        """The DM (one user) or group DM (several) with the bot, created on first use."""
        conversation_id = stable_id("D" if len(users) == 1 else "G", *users)
        if conversation_id not in self._channels:
            self._channels[conversation_id] = {
                "id": conversation_id,
                "name": "",
                "members": [*users, BOT_USER],
                "kind": "im" if len(users) == 1 else "mpim",
                "is_ext_shared": False,
            }
        return conversation_id

    def _message_problem(self, args: dict[str, Any]) -> Answer | None:
        blocks = args.get("blocks")
        if isinstance(blocks, list) and len(blocks) > MAX_MESSAGE_BLOCKS:
            return _error("invalid_blocks", f"{len(blocks)} blocks, at most 50 allowed")
        if not any(args.get(k) for k in ("text", "blocks", "attachments")):
            return _error("no_text")
        return None

    def _auth_test(self, team_id: str) -> Answer:
        team = self._teams[team_id]
        return {
            "url": f"https://{team['domain']}.slack.com/",
            "team": team["name"],
            "user": self._users[BOT_USER]["name"],
            "team_id": team["id"],
            "user_id": BOT_USER,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _caller_team(self) -> str | None:
        """The team the token of the call being answered was issued to (None: not by OAuth)."""
        return self._installed_tokens.get(self._caller or "")

    def _client_problem(self, args: dict[str, Any]) -> Answer | None:
        """Whether the app's credentials (client id and secret) are wrong, as Slack says so."""
        if self._oauth_client is None or args.get("client_id") != self._oauth_client[0]:
            return _error("invalid_client_id")
        if args.get("client_secret") != self._oauth_client[1]:
            return _error("bad_client_secret")
        return None

    def _oauth_v2_access(self, args: dict[str, Any]) -> Answer:
        problem = self._client_problem(args)
        if problem:
            return problem
        if args.get("grant_type") == "refresh_token":
            team_id = self._refresh_tokens.pop(args.get("refresh_token") or "", None)
            if team_id is None:  # unknown, used already, or its workspace uninstalled the app
                return _error("invalid_refresh_token")
            installer = None
        else:
            grant = self._codes.pop(args.get("code") or "", None)
            if grant is None:  # unknown, or already exchanged: a code is good once
                return _error("invalid_code")
            team_id, installer, self._granted_scopes[team_id] = grant
        answer = {
            "app_id": APP_ID,
            "scope": self._granted_scopes[team_id],
            "token_type": "bot",
            **self._issue_token(team_id),
            "bot_user_id": BOT_USER,
            "team": {"id": team_id, "name": self._teams[team_id]["name"]},
            "enterprise": None,
            "is_enterprise_install": False,
        }
        return answer | ({"authed_user": {"id": installer}} if installer else {})

    def _issue_token(self, team_id: str) -> Answer:
        """A new bot token for ``team_id``: with token rotation, one that expires, and the
        refresh token that replaces it (Slack's ``xoxe.xoxb-`` and ``xoxe-`` forms)."""
        if self._rotation_seconds is None:
            token = f"xoxb-{team_id}-{secrets.token_hex(12)}"
            self._installed_tokens[token] = team_id
            return {"access_token": token}
        token = f"xoxe.xoxb-{team_id}-{secrets.token_hex(12)}"
        refresh = f"xoxe-1-{secrets.token_hex(16)}"
        self._installed_tokens[token] = team_id
        self._token_expiry[token] = self.clock() + self._rotation_seconds
        self._refresh_tokens[refresh] = team_id
        return {
            "access_token": token,
            "expires_in": self._rotation_seconds,
            "refresh_token": refresh,
        }

    def _apps_uninstall(self, args: dict[str, Any]) -> Answer:
        """The app uninstalls itself from the workspace of the token it calls with."""
        problem = self._client_problem(args)
        if problem:
            return problem
        self._revoke(self._caller_team() or HOST_TEAM)
        self._revoked_tokens.add(self._caller or "")
        return {}

    def _apps_connections_open(self, _args: dict[str, Any]) -> Answer:
        if self.socket_mode_url is None:
            return _error("invalid_auth")
        return {"url": self.socket_mode_url}

    def _chat_post_message(self, args: dict[str, Any]) -> Answer:
        problem = self._message_problem(args)
        if problem:
            return problem
        channel = self._conversation_for(args["channel"])
        known = self._channels.get(channel)
        if known is not None and BOT_USER not in known["members"]:
            return _error("not_in_channel")
        ts = self._next_ts()
        message = self._bot_message(args, ts)
        self._messages.setdefault(channel, []).append(message)
        return {"channel": channel, "ts": ts, "message": message}

    # -- files: the external upload flow -----------------------------------------------------

    def _files_get_upload_url(self, args: dict[str, Any]) -> Answer:
        """Step 1: reserve a file id and a URL to POST exactly `length` bytes to."""
        length = str(args.get("length") or "")
        if not args.get("filename") or not length.isdigit() or int(length) <= 0:
            return _error("invalid_arguments", "filename and a positive length are required")
        file_id = f"F{len(self._files) + 1:010d}"
        self._files[file_id] = {
            "id": file_id,
            "name": args["filename"],
            "length": int(length),
            "alt_txt": args.get("alt_txt"),
            "data": None,
            "channels": [],
        }
        return {"upload_url": f"{self.base}{UPLOAD_PATH}{file_id}", "file_id": file_id}

    def _receive_upload(self, path: str, body: bytes) -> _Reply:
        """Step 2: the bytes, POSTed to the upload URL (answered 200 with a plain body)."""
        file_id = path.removeprefix(UPLOAD_PATH)
        with self._lock:
            reserved = self._files.get(file_id)
            if reserved is None:
                return _Reply(404, {"ok": False, "error": "file_not_found"})
            if len(body) != reserved["length"]:
                return _Reply(400, {"ok": False, "error": "length_mismatch"})
            reserved["data"] = body
        return _Reply(200, {"ok": True})

    def _files_complete_upload(self, args: dict[str, Any]) -> Answer:
        """Step 3: share the uploaded files (with titles) in a conversation."""
        try:
            listed = json.loads(args.get("files") or "[]")
        except json.JSONDecodeError:
            return _error("invalid_arguments", "files must be a JSON array")
        if not listed or any(not isinstance(f, dict) or "id" not in f for f in listed):
            return _error("invalid_arguments", "files must list objects with an id")
        found = [self._files.get(f["id"]) for f in listed]
        if any(f is None or f["data"] is None for f in found):
            return _error("file_not_found")
        channel = args.get("channel_id")
        if channel and channel not in self._channels:
            return _error("channel_not_found")
        shared = []
        for entry, stored in zip(listed, found, strict=True):
            stored["title"] = entry.get("title") or stored["name"]
            if channel:
                stored["channels"].append(channel)
            shared.append({k: v for k, v in stored.items() if k != "data"})
        if channel:
            ts = self._next_ts()
            message = {
                "type": "message",
                "user": BOT_USER,
                "bot_id": BOT_ID,
                "text": args.get("initial_comment") or "",
                "ts": ts,
                "files": shared,
            }
            self._messages.setdefault(channel, []).append(message)
        return {"files": shared}

    def uploaded(self) -> list[dict[str, Any]]:
        """Every file uploaded and shared: id, name, title, alt_txt, channels and `data`."""
        with self._lock:
            return [dict(f) for f in self._files.values() if f.get("title")]

    def _chat_post_ephemeral(self, args: dict[str, Any]) -> Answer:
        problem = self._message_problem(args)
        if problem:
            return problem
        if args["user"] not in self._users:
            return _error("user_not_found")
        ts = self._next_ts()
        channel = self._conversation_for(args["channel"])
        message = self._bot_message(args, ts) | {"for": args["user"]}
        self._ephemerals.setdefault(channel, []).append(message)
        return {"message_ts": ts}

    def _find(self, channel: str, ts: str) -> dict[str, Any] | None:
        return next((m for m in self._messages.get(channel, []) if m["ts"] == ts), None)

    def _chat_update(self, args: dict[str, Any]) -> Answer:
        channel, ts = args["channel"], args["ts"]
        problem = self._message_problem(args)
        if problem:
            return problem
        updated = self._bot_message(args, ts)
        stored = self._find(channel, ts)
        if stored is not None:  # a message this stand-in never saw is answered, not kept
            stored.clear()
            stored.update(updated | {"edited": True})
        return {"channel": channel, "ts": ts, "text": args.get("text", ""), "message": updated}

    def _chat_delete(self, args: dict[str, Any]) -> Answer:
        channel, ts = args.get("channel", ""), args.get("ts", "")
        stored = self._find(channel, ts)
        if stored is not None:
            self._messages[channel].remove(stored)
        return {"channel": channel, "ts": ts}

    def _chat_get_permalink(self, args: dict[str, Any]) -> Answer:
        channel, ts = args["channel"], args["message_ts"]
        domain = self._teams[HOST_TEAM]["domain"]
        link = f"https://{domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
        return {"channel": channel, "permalink": link}

    def _users_info(self, args: dict[str, Any]) -> Answer:
        record = self._users.get(args.get("user", ""))
        if record is None:
            return _error("user_not_found")
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
                "display_name": record.get("display_name", record["name"]),
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
        kind = record["kind"]
        return {
            "id": record["id"],
            "name": record["name"],
            "is_channel": kind == "public_channel",
            "is_group": False,
            "is_im": kind == "im",
            "is_mpim": kind == "mpim",
            "is_private": kind != "public_channel",
            "is_archived": False,
            "is_ext_shared": record["is_ext_shared"],
            "is_shared": record["is_ext_shared"],
            "is_member": BOT_USER in record["members"],
            "num_members": len(record["members"]),
        }

    def _users_conversations(self, args: dict[str, Any]) -> Answer:
        user = args.get("user", BOT_USER)
        types = str(args.get("types") or "public_channel").split(",")
        channels = [
            self._channel_object(record)
            for record in self._channels.values()
            if user in record["members"] and record["kind"] in types
        ]
        return {"channels": channels, "response_metadata": {"next_cursor": ""}}

    def _conversations_info(self, args: dict[str, Any]) -> Answer:
        record = self._channels.get(args.get("channel", ""))
        if record is None:
            return _error("channel_not_found")
        return {"channel": self._channel_object(record)}

    def _conversations_members(self, args: dict[str, Any]) -> Answer:
        record = self._channels.get(args.get("channel", ""))
        if record is None:
            return _error("channel_not_found")
        return {"members": list(record["members"]), "response_metadata": {"next_cursor": ""}}

    def _conversations_open(self, args: dict[str, Any]) -> Answer:
        if args.get("channel"):
            return {"channel": {"id": args["channel"]}}
        users = sorted(u for u in str(args.get("users", "")).split(",") if u)
        if not users:
            return _error("users_list_not_supplied")
        if any(u not in self._users for u in users):
            return _error("user_not_found")
        return {"channel": {"id": self._open_conversation(users)}}

    def _view_problem(self, view: Any) -> Answer | None:
        if not isinstance(view, dict):
            return _error("invalid_arguments", "view must be a JSON object")
        if len(view.get("blocks") or []) > MAX_VIEW_BLOCKS:
            return _error("invalid_arguments", "a view allows at most 100 blocks")
        return None

    def _store_view(self, args: dict[str, Any], view_id: str | None = None) -> Answer:
        submitted = args["view"]
        if view_id is None:
            self._views_made += 1
            view_id = f"V{self._views_made:09d}"
        previous = self._views.get(view_id, {})
        view = {
            "id": view_id,
            "team_id": HOST_TEAM,
            **submitted,
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "root_view_id": previous.get("root_view_id", view_id),
            "previous_view_id": None,
            "app_id": APP_ID,
            "bot_id": BOT_ID,
        }
        self._views[view_id] = view
        self._touch()
        return {"view": view, "response_metadata": {"messages": []}}

    def _views_open(self, args: dict[str, Any]) -> Answer:
        problem = self._view_problem(args["view"])
        if problem:
            return problem
        answer = self._store_view(args)
        user = self._triggers.get(args["trigger_id"])
        if user is not None:
            self._modal_stacks[user] = [answer["view"]["id"]]
        return answer

    def _views_push(self, args: dict[str, Any]) -> Answer:
        problem = self._view_problem(args["view"])
        if problem:
            return problem
        answer = self._store_view(args)
        user = self._triggers.get(args["trigger_id"])
        if user is not None:
            self._modal_stacks.setdefault(user, []).append(answer["view"]["id"])
        return answer

    def _views_update(self, args: dict[str, Any]) -> Answer:
        problem = self._view_problem(args.get("view"))
        if problem:
            return problem
        view_id = args.get("view_id")
        if not view_id and args.get("external_id"):
            external = args["external_id"]
            view_id = next(
                (v["id"] for v in self._views.values() if v.get("external_id") == external), None
            )
        if view_id not in self._views:
            return _error("not_found")
        if args.get("hash") and args["hash"] != self._views[view_id]["hash"]:
            return _error("hash_conflict")
        return self._store_view(args, view_id)

    def _views_publish(self, args: dict[str, Any]) -> Answer:
        problem = self._view_problem(args["view"])
        if problem:
            return problem
        user_id = args["user_id"]
        if user_id not in self._users:
            return _error("user_not_found")
        current = self._home_views.get(user_id)
        if args.get("hash") and current and args["hash"] != self._views[current]["hash"]:
            return _error("hash_conflict")
        answer = self._store_view(args, current)
        self._home_views[user_id] = answer["view"]["id"]
        return answer

    def _team_info(self, args: dict[str, Any]) -> Answer:
        team = self._teams.get(args.get("team") or HOST_TEAM)
        if team is None:
            return _error("team_not_found")
        return {"team": {**team, "email_domain": "", "icon": {"image_default": True}}}

    def _response(self, token: str, args: dict[str, Any]) -> Answer:
        """A POST to a response_url, shown where Slack shows it when its context is known."""
        context = self._response_contexts.get(token)
        if context is not None:
            self._show_response(context, args)
        return {}

    def _show_response(self, context: ResponseContext, args: dict[str, Any]) -> None:
        """Replace or delete the message acted on, post in the channel, or show the person
        alone (the default), as Slack does with a response."""
        channel = self._conversation_for(context.channel)
        source = None
        if context.message_ts is not None:
            pool = self._ephemerals if context.ephemeral else self._messages
            source = next((m for m in pool.get(channel, []) if m["ts"] == context.message_ts), None)
        if source is not None and args.get("delete_original"):
            pool[channel].remove(source)
        elif source is not None and args.get("replace_original"):
            kept = {k: source[k] for k in ("ts", "for") if k in source}
            source.clear()
            source.update(self._bot_message(args, kept["ts"]) | kept | {"edited": True})
        elif args.get("response_type") == "in_channel":
            ts = self._next_ts()
            self._messages.setdefault(channel, []).append(self._bot_message(args, ts))
        else:
            ts = self._next_ts()
            message = self._bot_message(args, ts) | {"for": context.user}
            self._ephemerals.setdefault(channel, []).append(message)
