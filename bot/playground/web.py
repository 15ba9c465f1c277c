"""The playground's page and its small JSON API, as one WSGI app (served on loopback only).

``GET /`` is the page (``static/``: hand-written HTML, CSS and JavaScript, no build step).
``GET /files/<id>`` is a file Saydo uploaded (a chart), as the stand-in Slack keeps it.
``GET /api/state`` is what one person sees in one place (a conversation or the Home tab),
with Saydo's Block Kit already rendered to HTML; with ``since=<version>`` it waits (up to
``LONG_POLL_SECONDS``) until something changes. ``POST /api/<action>`` does what a person
does in Slack. Requests must come from the page itself: JSON bodies only (a cross-site form
cannot send one without the browser asking first) and a loopback ``Host`` header.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from bot.playground import render
from bot.playground import workspace as cast
from bot.playground.playground import CHOOSING, Playground, PlaygroundError
from bot.playground.seed_quarter import WEEKS, seed_quarter
from bot.playground.standin import BOT_USER, dm_id
from storage import clock

logger = logging.getLogger(__name__)

LONG_POLL_SECONDS = 15
HOME = "home"
STATIC = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/static/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/static/app.css": ("app.css", "text/css; charset=utf-8"),
}
STEPS = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
_REASONS = {
    200: "OK",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    500: "Internal Server Error",
}


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class _Seeding:
    """The quarter being played, if one is: the weeks played so far, for the page to show."""

    week: int | None = None
    one_at_a_time: threading.Lock = field(default_factory=threading.Lock)

    def played(self, week: int) -> None:
        self.week = week

    def shown(self) -> dict[str, int] | None:
        return None if self.week is None else {"week": self.week, "of": WEEKS}


def make_app(playground: Playground) -> Callable:
    """The WSGI app serving the page and the API for `playground`."""
    seeding = _Seeding()
    actions: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
        "type": lambda body: _type(playground, body),
        "click": lambda body: _click(playground, body),
        "shortcut": lambda body: _shortcut(playground, body),
        "submit": lambda body: {"errors": _submit(playground, body)},
        "close": lambda body: _close(playground, body),
        "home": lambda body: _home(playground, body),
        "advance": lambda body: _advance(playground, body),
        "seed": lambda body: _seed(playground, seeding),
        "install": lambda body: _install(playground, body),
    }

    def application(environ: dict, start_response) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", "/"), environ.get("REQUEST_METHOD", "GET")
        try:
            _check_host(environ)
            if path in STATIC and method in ("GET", "HEAD"):
                name, content_type = STATIC[path]
                page = resources.files("bot.playground").joinpath("static", name).read_bytes()
                return _reply(start_response, 200, page, content_type)
            if path.startswith(render.FILES_PATH) and method in ("GET", "HEAD"):
                return _file(start_response, playground, path.removeprefix(render.FILES_PATH))
            if path == "/api/state" and method == "GET":
                state = _state(playground, _query(environ)) | {"seeding": seeding.shown()}
                return _json(start_response, 200, state)
            action = actions.get(path.removeprefix("/api/")) if path.startswith("/api/") else None
            if action is None:
                raise _Refused(404, "There is nothing here.")
            if method != "POST":
                raise _Refused(405, "Use POST.")
            answer = action(_body(environ))
            playground.save()
            return _json(start_response, 200, {"ok": True, **answer})
        except _Refused as refused:
            return _json(start_response, refused.status, {"ok": False, "error": str(refused)})
        except PlaygroundError as error:
            return _json(start_response, 400, {"ok": False, "error": str(error)})
        except Exception:
            logger.exception("The playground failed on %s %s", method, path)
            return _json(
                start_response,
                500,
                {"ok": False, "error": "Something went wrong in the playground; see its console."},
            )

    return application


# -- reading requests --------------------------------------------------------------------------


def _check_host(environ: dict) -> None:
    """Refuse requests addressed to another name (DNS rebinding): only loopback names."""
    host = environ.get("HTTP_HOST", "")
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    if name not in _LOOPBACK_HOSTS:
        raise _Refused(403, "The playground answers on 127.0.0.1 only.")


def _query(environ: dict) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}


def _body(environ: dict) -> dict[str, Any]:
    if not environ.get("CONTENT_TYPE", "").startswith("application/json"):
        raise _Refused(400, "Send JSON (Content-Type: application/json).")
    length = int(environ.get("CONTENT_LENGTH") or 0)
    try:
        body = json.loads(environ["wsgi.input"].read(length) or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise _Refused(400, "The request body is not JSON.") from None
    if not isinstance(body, dict):
        raise _Refused(400, "The request body must be a JSON object.")
    return body


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise PlaygroundError(f"'{name}' is missing.")
    return value


def _viewer(body: dict[str, Any]) -> str:
    user_id = _text(body, "as")
    try:
        cast.member(user_id)
    except KeyError:
        raise PlaygroundError(f"No one in the playground has the id {user_id}.") from None
    return user_id


def _submitted(body: dict[str, Any]) -> dict[str, dict[str, list[str]]]:
    values = body.get("values") or {}
    if not isinstance(values, dict):
        raise PlaygroundError("'values' must be an object.")
    return {
        str(block): {str(action): [str(v) for v in given] for action, given in inputs.items()}
        for block, inputs in values.items()
        if isinstance(inputs, dict)
    }


# -- actions -----------------------------------------------------------------------------------


def _type(playground: Playground, body: dict[str, Any]) -> dict[str, Any]:
    playground.type(_viewer(body), _text(body, "in"), _text(body, "text"))
    return {}


def _click(playground: Playground, body: dict[str, Any]) -> dict[str, Any]:
    playground.click(
        _viewer(body),
        block_id=_text(body, "block_id"),
        action_id=_text(body, "action_id"),
        value=body.get("value") if isinstance(body.get("value"), str) else None,
        conversation=body.get("in") if body.get("in") != HOME else None,
        message_ts=body.get("ts"),
        view_id=body.get("view_id"),
        submitted=_submitted(body),
    )
    return {}


def _shortcut(playground: Playground, body: dict[str, Any]) -> dict[str, Any]:
    playground.shortcut(_viewer(body), _text(body, "in"), _text(body, "ts"))
    return {}


def _submit(playground: Playground, body: dict[str, Any]) -> dict[str, str]:
    return playground.submit(_viewer(body), _text(body, "view_id"), _submitted(body))


def _close(playground: Playground, body: dict[str, Any]) -> dict[str, Any]:
    playground.close(_viewer(body), _text(body, "view_id"))
    return {}


def _home(playground: Playground, body: dict[str, Any]) -> dict[str, Any]:
    playground.open_home(_viewer(body))
    return {}


def _advance(playground: Playground, body: dict[str, Any]) -> dict[str, Any]:
    """Move the clock on by a step (`by`: hour, day, week) or to a local date and time (`to`,
    `YYYY-MM-DDTHH:MM` in the viewer's time zone)."""
    viewer = cast.member(_viewer(body))
    if body.get("by") in STEPS:
        target = clock.now() + STEPS[body["by"]]
    else:
        try:
            local = datetime.fromisoformat(_text(body, "to"))
        except ValueError:
            raise PlaygroundError("Choose a date and time to move the clock to.") from None
        target = local.replace(tzinfo=ZoneInfo(viewer.tz)).astimezone(UTC)
    done = playground.advance(target)
    return {
        "advanced": f"Moved on to {_local(done.reached, viewer.tz)}: {done.sent} message"
        f"{'' if done.sent == 1 else 's'} sent."
    }


def _install(playground: Playground, body: dict[str, Any]) -> dict[str, Any]:
    """Choose whether an organisation (`team`) has installed Saydo (`installed`: true/false)."""
    installed = body.get("installed")
    if not isinstance(installed, bool):
        raise PlaygroundError("'installed' must be true or false.")
    playground.choose_install(_text(body, "team"), installed)
    return {}


def _seed(playground: Playground, seeding: _Seeding) -> dict[str, Any]:
    if not seeding.one_at_a_time.acquire(blocking=False):
        raise PlaygroundError("A quarter is already being played; wait for it to finish.")
    seeding.week = 0
    try:
        return {"advanced": seed_quarter(playground, progress=seeding.played)}
    finally:
        seeding.week = None
        seeding.one_at_a_time.release()


# -- state ---------------------------------------------------------------------------------------


def _state(playground: Playground, query: dict[str, str]) -> dict[str, Any]:
    viewer = cast.member(query.get("as") or cast.MEMBERS[0].user_id)
    since = query.get("since")
    if since is not None and since.lstrip("-").isdigit():
        playground.slack.wait_for_change(int(since), LONG_POLL_SECONDS)
    version = playground.slack.version
    names = _names(playground)
    place = query.get("in") or cast.CHANNEL_ID
    sidebar = _sidebar(playground, viewer.user_id, names)
    with_saydo = playground.has_saydo(viewer.user_id)
    if place not in {entry["id"] for entry in sidebar} and not (place == HOME and with_saydo):
        place = cast.CHANNEL_ID
    state: dict[str, Any] = {
        "version": version,
        "clock": {
            "local": _local(clock.now(), viewer.tz),
            "utc": clock.now().isoformat(timespec="minutes"),
            "tz": viewer.tz,
        },
        "me": _person(viewer) | {"has_saydo": with_saydo},
        "members": [_person(m) for m in cast.MEMBERS],
        "installs": _installs(playground),
        "sidebar": sidebar,
        "in": place,
        "modal": _modal(playground, viewer.user_id, names),
    }
    if place == HOME:
        view = playground.slack.home_view(viewer.user_id)
        state["title"] = "Saydo · Home"
        state["home"] = (
            {"view_id": view["id"], "html": render.view_html(view, names=names, users=_users())}
            if view
            else None
        )
    else:
        entry = next(e for e in sidebar if e["id"] == place)
        state["title"] = entry["label"]
        state["messages"] = [
            _message(m, names, viewer.tz)
            for m in playground.slack.conversation(place, viewer=viewer.user_id)
        ]
    return state


def _sidebar(playground: Playground, viewer: str, names: dict[str, str]) -> list[dict[str, str]]:
    entries = []
    for record in playground.slack.conversations_of(viewer):
        if record["kind"] in ("public_channel", "private_channel"):
            entries.append({"id": record["id"], "label": f"#{record['name']}", "kind": "channel"})
        elif record["kind"] == "mpim":
            others = [names.get(u, u) for u in record["members"] if u not in (viewer, BOT_USER)]
            entries.append({"id": record["id"], "label": ", ".join(others), "kind": "group"})
    if playground.has_saydo(viewer):
        entries.append({"id": dm_id(viewer), "label": "Saydo", "kind": "app"})
    return entries


def _installs(playground: Playground) -> dict[str, Any]:
    """Who has installed Saydo: `oauth` false while the council's single token serves all."""
    installed = playground.installed
    return {
        "oauth": installed is not None,
        "choices": [
            {
                "team": organisation.team_id,
                "name": organisation.name,
                "installed": installed is not None and organisation.team_id in installed,
            }
            for organisation in CHOOSING
        ],
    }


def _modal(playground: Playground, viewer: str, names: dict[str, str]) -> dict[str, str] | None:
    stack = playground.slack.modals_of(viewer)
    if not stack:
        return None
    view = stack[-1]
    return {"view_id": view["id"], "html": render.view_html(view, names=names, users=_users())}


def _message(message: dict[str, Any], names: dict[str, str], tz: str) -> dict[str, Any]:
    author = message.get("user", "")
    posted = datetime.fromtimestamp(float(message["ts"]), UTC)
    is_bot = "bot_id" in message
    return {
        "ts": message["ts"],
        "author": "Saydo" if is_bot else names.get(author, author),
        "organisation": "" if is_bot else cast.organisation_of(author).name,
        "app": is_bot,
        "when": _local(posted, tz),
        "ephemeral": bool(message.get("ephemeral")),
        "edited": bool(message.get("edited")),
        "in_thread": message.get("thread_ts", message["ts"]) != message["ts"],
        "html": render.message_html(message, names=names),
    }


def _names(playground: Playground) -> dict[str, str]:
    names = {user["id"]: user["real_name"] for user in playground.slack.users()}
    names[cast.CHANNEL_ID] = cast.CHANNEL_NAME
    return names


def _users() -> list[tuple[str, str]]:
    return [(m.user_id, m.real_name) for m in cast.MEMBERS]


def _person(member: cast.Member) -> dict[str, str]:
    return {
        "id": member.user_id,
        "name": member.real_name,
        "organisation": cast.organisation_of(member.user_id).name,
        "role": member.role,
        "tz": member.tz,
        "locale": member.locale,
    }


def _local(instant: datetime, tz: str) -> str:
    return f"{instant.astimezone(ZoneInfo(tz)):%a %d %b %Y, %H:%M}"


# -- answering -----------------------------------------------------------------------------------


def _file(start_response, playground: Playground, file_id: str) -> list[bytes]:
    """A file Saydo uploaded and shared, as the stand-in Slack keeps it (images inline)."""
    shared = next((f for f in playground.slack.uploaded() if f["id"] == file_id), None)
    if shared is None or shared["data"] is None:
        raise _Refused(404, "There is no such file.")
    kind, _ = mimetypes.guess_type(shared["name"])
    if not (kind or "").startswith("image/"):
        kind = "application/octet-stream"
    return _reply(start_response, 200, shared["data"], kind)


def _json(start_response, status: int, payload: dict[str, Any]) -> list[bytes]:
    return _reply(start_response, status, json.dumps(payload).encode(), "application/json")


def _reply(start_response, status: int, body: bytes, content_type: str) -> list[bytes]:
    start_response(
        f"{status} {_REASONS[status]}",
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
        ],
    )
    return [body]
