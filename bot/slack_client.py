"""The Slack Web API client Saydo uses (the configured base URL and retries built in), and the
directory the domain reads people and channels from (`bot.partnerships.members.Directory`)."""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.config import Settings
from bot.outbox.sending import DM_IMPOSSIBLE, EPHEMERAL_FIELDS, Router
from bot.partnerships.members import DirectoryUnavailable
from bot.partnerships.people import Profile, UnknownPerson, profile_from_users_info

logger = logging.getLogger(__name__)

WEB_API_TIMEOUT_SECONDS = 15


class RetryAfterPause:
    """Per Web API method, the instant before which no call may be made: a 429's
    `Retry-After`, whichever thread received it.

    A 429 to a call that was already on its way when the current pause began says nothing
    new, so it does not lengthen the pause: otherwise the whole-second rounding of each
    in-flight call's `Retry-After` would keep every thread waiting well into the next window.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._until: dict[str, float] = {}
        self._began: dict[str, float] = {}
        self._asked = threading.local()  # when this thread's current attempt was sent

    def hold(self, method: str, seconds: float) -> None:
        """No call of `method` for `seconds` from now, unless this thread's refused call was
        made before the pause in force began."""
        with self._lock:
            now = time.monotonic()
            in_force = self._until.get(method, 0.0) > now
            if in_force and getattr(self._asked, "at", now) < self._began[method]:
                return
            self._until[method] = max(self._until.get(method, 0.0), now + seconds)
            self._began[method] = now

    def wait(self, method: str) -> None:
        """Return once `method` may be called; the call this thread makes next counts as sent
        then."""
        while True:
            with self._lock:
                remaining = self._until.get(method, 0.0) - time.monotonic()
            if remaining <= 0:
                self._asked.at = time.monotonic()
                return
            time.sleep(remaining)


class RetryAfterExactly(RateLimitErrorRetryHandler):
    """Retry a 429 after exactly `Retry-After` seconds, and hold every other call of the same
    method (from any thread) until then too.

    slack_sdk's handler adds up to a second of random jitter to every wait; under a sustained
    rate limit that jitter alone made a 1,000-message fan-out 15% slower (bench/README.md).
    """

    def __init__(self, pause: RetryAfterPause, *, max_retry_count: int) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.pause = pause

    def prepare_for_next_attempt(self, *, state, request, response=None, error=None) -> None:
        if response is None:
            raise error
        state.next_attempt_requested = True
        retry_after = next(
            (v for k, v in response.headers.items() if k.lower() == "retry-after"), ["1"]
        )
        method = urlsplit(request.url).path.rsplit("/", 1)[-1]
        self.pause.hold(method, max(1, int(retry_after[0])))
        self.pause.wait(method)
        state.increment_current_attempt()


class PausingWebClient(WebClient):
    """A `WebClient` whose every call first waits out its method's `Retry-After`."""

    def __init__(self, *, pause: RetryAfterPause, **kwargs) -> None:
        super().__init__(**kwargs)
        self.pause = pause

    def api_call(self, api_method: str, **kwargs):
        self.pause.wait(api_method)
        return super().api_call(api_method, **kwargs)


def build_web_client(settings: Settings, *, token: str | None = None) -> WebClient:
    """A `WebClient` that retries HTTP 429 (after `Retry-After`, which then holds back every
    thread's calls of that method), 5xx and connection errors."""
    pause = RetryAfterPause()
    return PausingWebClient(
        pause=pause,
        token=token if token is not None else settings.bot_token,
        base_url=settings.slack_api_url,
        timeout=WEB_API_TIMEOUT_SECONDS,
        retry_handlers=[
            RetryAfterExactly(pause, max_retry_count=2),
            ServerErrorRetryHandler(max_retry_count=2),
            ConnectionErrorRetryHandler(max_retry_count=2),
        ],
    )


class ThroughTheirWorkspace(WebClient):
    """OAuth mode: a request's client (its installation's token), except that a call addressed
    to one person (a DM to their user id, opening that DM, publishing their Home tab) goes
    through an installation of the person's own workspace when there is one (`router`, the
    rule the outbox follows too). A DM that no installation can send goes to the person
    privately (`chat.postEphemeral`) in the first of `shared_channels(person)` an installation
    reaches, as the outbox does. Listeners and `handlers.notify` use it without knowing."""

    def __init__(
        self,
        request_client: WebClient,
        router: Router,
        shared_channels: Callable[[str], list[str]],
    ) -> None:
        super().__init__(
            token=request_client.token,
            base_url=request_client.base_url,
            timeout=request_client.timeout,
            ssl=request_client.ssl,
            proxy=request_client.proxy,
            headers=dict(request_client.headers),
            team_id=request_client.default_params.get("team_id"),
            logger=request_client.logger,
            retry_handlers=request_client.retry_handlers,
        )
        self.router = router
        self.shared_channels = shared_channels

    def api_call(self, api_method: str, **kwargs):
        person = addressee(api_method, kwargs)
        route = self.router(person) if person else None
        try:
            if route is not None and route.client.token != self.token:
                return route.client.api_call(api_method, **kwargs)
            return super().api_call(api_method, **kwargs)
        except SlackApiError as error:
            impossible = error.response.get("error") in DM_IMPOSSIBLE
            if person is None or api_method != "chat.postMessage" or not impossible:
                raise
            return self._privately(person, _arguments(kwargs), error)

    def _privately(self, person: str, message: dict, error: SlackApiError):
        for channel in self.shared_channels(person):
            route = self.router(channel)
            if route is not None:
                fields = {k: v for k, v in message.items() if k in EPHEMERAL_FIELDS}
                return route.client.chat_postEphemeral(channel=channel, user=person, **fields)
        raise error


def addressee(api_method: str, call: dict) -> str | None:
    """The one person a Web API call is addressed to, if it is: `chat.postMessage` to a user
    id, `conversations.open` of one user, `views.publish` of a Home tab."""
    args = _arguments(call)
    if api_method == "chat.postMessage":
        person = args.get("channel")
    elif api_method == "conversations.open":
        person = args.get("users")
    elif api_method == "views.publish":
        person = args.get("user_id")
    else:
        return None
    one_person = isinstance(person, str) and person[:1] in ("U", "W") and "," not in person
    return person if one_person else None


def _arguments(call: dict) -> dict:
    """A Web API call's arguments, however the client sends them."""
    return {**(call.get("params") or {}), **(call.get("data") or {}), **(call.get("json") or {})}


class SlackDirectory:
    """`bot.partnerships.members.Directory` answered by the Web API. Workspace names are cached for
    the life of the object (one is built at start-up and shared by the listeners)."""

    def __init__(self, client: WebClient):
        self.client = client
        self._team_names: dict[str, str] = {}
        self._lock = threading.Lock()

    def through(self, client: WebClient) -> SlackDirectory:
        """The same directory (and name cache) asking Slack with `client`: the token of the
        installation a request came through, in OAuth mode."""
        twin = copy.copy(self)
        twin.client = client
        return twin

    def channel_members(self, channel_id: str) -> list[str]:
        user_ids: list[str] = []
        cursor: str | None = None
        try:
            while True:
                response = self.client.conversations_members(
                    channel=channel_id, cursor=cursor, limit=200
                )
                user_ids += response.get("members") or []
                cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    return user_ids
        except SlackApiError as error:
            raise DirectoryUnavailable(error.response.get("error")) from None

    def team_name(self, team_id: str) -> str:
        if not team_id:
            return "Unknown organisation"
        with self._lock:
            if team_id in self._team_names:
                return self._team_names[team_id]
        try:
            name = (self.client.team_info(team=team_id).get("team") or {}).get("name") or ""
        except SlackApiError as error:
            logger.warning("team.info failed for %s: %s", team_id, error.response.get("error"))
            return team_id  # not cached: asked again next time
        name = " ".join(name.split()) or team_id
        with self._lock:
            self._team_names[team_id] = name
        return name

    def profile(self, user_id: str) -> Profile:
        """From `users.info` (with the user's locale)."""
        try:
            response = self.client.users_info(user=user_id, include_locale=True)
        except SlackApiError as error:
            if error.response.get("error") in ("user_not_found", "user_not_visible"):
                raise UnknownPerson(user_id) from None
            raise DirectoryUnavailable(error.response.get("error")) from None
        return profile_from_users_info(response["user"])


def directories(client: WebClient, router: Router | None) -> Callable[[str], SlackDirectory | None]:
    """Which directory reads a channel: the one client in single-token mode; in OAuth mode
    (`router`) an installation that is in the channel, or None when none is."""
    single = SlackDirectory(client)

    def directory_for(channel_id: str) -> SlackDirectory | None:
        if router is None:
            return single
        route = router(channel_id)
        return SlackDirectory(route.client) if route is not None else None

    return directory_for
