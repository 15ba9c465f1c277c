"""What every listener needs: the shared services (database, Slack directory), the clock, who is
asking, and where; and how each listener is acknowledged before its work runs (`Listening`)."""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine

from bot.blocks import commitments as messages
from bot.commitments.service import (
    CommitmentView,
    PartnershipRef,
    PersonRef,
    ensure_partnership,
    not_found,
    parse_ref,
    record_channel_message,
)
from bot.partnerships.members import Directory
from bot.partnerships.people import UnknownPerson, person_for
from bot.refusal import FormRefusal, Refusal
from bot.slack_client import SlackDirectory
from handlers.errors import answer_unexpected_error
from storage import clock

logger = logging.getLogger(__name__)

SERVICES_KEY = "saydo"
# OAuth mode: the workspace a shared channel's partnership belongs to, when the request came
# through another workspace's installation (set by `bot.app`).
SHARED_CHANNEL_HOME = "saydo_shared_channel_home"
# A delivery's `claim_event`, set by the app's middleware: False when it was handled before.
FIRST_DELIVERY = "saydo_first_delivery"
BEFORE_WORK = "saydo_before_work"


def before_work(context: BoltContext, step: Callable[[], None]) -> None:
    """Have `step` run first in the request's work, after Slack has its acknowledgement: for
    middleware whose reads or Slack calls would otherwise delay it."""
    context.setdefault(BEFORE_WORK, []).append(step)


@dataclass(frozen=True)
class Services:
    """What listeners share, built once at start-up (`bot.app.create_app`) and handed to every
    listener in its Bolt context by one middleware: nothing is kept in module globals."""

    engine: Engine
    directory: SlackDirectory  # Slack's people and channels; caches workspace names


def install(app: App, services: Services) -> None:
    """Make the services available to every listener as `context["saydo"]`."""

    @app.middleware
    def provide_services(context: BoltContext, next) -> None:
        context[SERVICES_KEY] = services
        next()


def services_of(context: BoltContext) -> Services:
    return context[SERVICES_KEY]


def engine_of(context: BoltContext) -> Engine:
    return services_of(context).engine


def directory_of(context: BoltContext) -> Directory:
    """Slack's people and channels, asked with the token of the installation this request came
    through (the app's own in single-token mode)."""
    directory = services_of(context).directory
    return directory.through(context.client) if context.client is not None else directory


def workspace_id(context: BoltContext) -> str:
    """The workspace Saydo is installed in: the scope of partnerships and references.

    Taken from `auth.test`, not the payload, because a partner in a Slack Connect channel
    sends payloads carrying their own workspace's id. In OAuth mode, a request in a shared
    channel that already is a partnership belongs to that partnership's workspace, whichever
    installation it came through: one channel, one partnership.
    """
    if context.get(SHARED_CHANNEL_HOME):
        return context[SHARED_CHANNEL_HOME]
    result = context.authorize_result
    return (result.team_id if result is not None else None) or context.team_id


def utcnow() -> datetime:
    return clock.now()


def person(context: BoltContext, client: WebClient, user_id: str) -> PersonRef:
    """The person with this id, refreshed from Slack when the cached profile is stale."""
    try:
        return person_for(
            engine_of(context), user_id=user_id, now=utcnow(), fetch=directory_of(context).profile
        )
    except UnknownPerson:
        raise Refusal(
            f"I can't find <@{user_id}> in Slack, or they are a bot or deactivated."
        ) from None


def partnership(
    context: BoltContext, channel_id: str, channel_name: str | None = None
) -> PartnershipRef:
    """The channel's partnership; the channel becomes one on first use."""
    if channel_id.startswith("D"):
        raise Refusal(
            "Commitments belong to a partnership channel. Use this in the channel, or type "
            "`/commit` with no text here to choose one."
        )
    return ensure_partnership(
        engine_of(context), team_id=workspace_id(context), channel_id=channel_id, name=channel_name
    )


def remember_channel_message(
    context: BoltContext, commitment: CommitmentView, ts: str | None
) -> None:
    """Saydo's message about `commitment` in its channel is at `ts`: changes will update it."""
    if ts and commitment.channel_message_ts is None:
        record_channel_message(engine_of(context), commitment_id=commitment.id, ts=ts, now=utcnow())


def post_logged(
    context: BoltContext,
    client: WebClient,
    commitment: CommitmentView,
    *,
    thread_ts: str | None = None,
) -> bool:
    """Post the "Logged #N" confirmation in the commitment's channel (in a thread when given)
    and remember where it is, so every later change updates it. False, logged, when Saydo
    cannot post there (e.g. `not_in_channel`, or `channel_not_found` for a private channel it
    is not in): the caller answers another way."""
    channel = commitment.partnership.channel_id
    thread = {"thread_ts": thread_ts} if thread_ts else {}
    message = messages.confirmation(commitment, now=utcnow())
    try:
        posted = client.chat_postMessage(channel=channel, **thread, **message)
    except SlackApiError as error:
        logger.warning("Could not post #%s to %s: %s", commitment.ref, channel, error_code(error))
        return False
    remember_channel_message(context, commitment, posted["ts"])
    return True


def input_value(values: dict, field: tuple[str, str], key: str = "value"):
    """One input's value from a submitted view's `state.values`, by its (block id, action id)
    (None when empty or absent)."""
    return ((values.get(field[0]) or {}).get(field[1]) or {}).get(key)


def open_view(client: WebClient, trigger_id: str, view: dict) -> None:
    """`views.open`; a failure (e.g. expired_trigger_id: Slack shows nothing) is logged with its
    error code."""
    try:
        client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as error:
        logger.warning("Could not open %s: %s", view.get("callback_id"), error_code(error))


def error_code(error: SlackApiError) -> str:
    """Slack's error code (e.g. `channel_not_found`), fit for a log line."""
    return str(error.response.get("error") if error.response is not None else error)


def direct_message(client: WebClient, user_id: str, message: dict) -> None:
    """Post to the person's DM with Saydo; a failure is logged, never shown to someone else."""
    try:
        client.chat_postMessage(channel=user_id, **message)
    except SlackApiError as error:
        logger.warning("Could not DM %s: %s", user_id, error.response.get("error"))


def button_ref(body: dict) -> int:
    """The commitment reference a button carries; a polite Refusal when it is not one."""
    value = ((body.get("actions") or [{}])[0] or {}).get("value")
    ref = parse_ref(value)
    if ref is None:
        raise not_found(value)
    return ref


def refusal(text: str) -> dict:
    return {"response_type": "ephemeral", "replace_original": False, **messages.problem(text)}


# --- acknowledgement first, work after ------------------------------------------------------

Handler = Callable[..., None]


class RunNow(Executor):
    """Runs each task in the caller's thread before `submit` returns, and lets its error out.

    For in-process dispatch (tests, the playground): every reply is sent when `dispatch`
    returns, and a failing listener still fails the request."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        future.set_result(fn(*args, **kwargs))
        return future


@dataclass(frozen=True)
class Workers:
    """Where listeners' work runs once Slack has its acknowledgement.

    `work`: everything that can wait a little (database, replies, DMs). `forms`: opening a
    modal, which must reach `views.open` within the 3-second life of its `trigger_id`, and the
    listeners whose acknowledgement depends on their work (form submissions, `/saydo`), so
    neither ever queues behind slow replies."""

    work: Executor
    forms: Executor

    @classmethod
    def threads(cls, *, work: int, forms: int) -> Workers:
        return cls(
            ThreadPoolExecutor(work, thread_name_prefix="saydo-work"),
            ThreadPoolExecutor(forms, thread_name_prefix="saydo-forms"),
        )

    @classmethod
    def inline(cls) -> Workers:
        run_now = RunNow()
        return cls(run_now, run_now)

    def shutdown(self) -> None:
        """Wait for work already accepted (its acknowledgement has been sent), then stop."""
        self.work.shutdown(wait=True)
        self.forms.shutdown(wait=True)


@dataclass(frozen=True)
class Marked:
    """A listener that needs more than "acknowledge, then work": see `opens_form` and
    `answers_at_once`."""

    handler: Handler
    opens_form: Callable[[Mapping[str, Any]], bool] | None = None
    answer_at_once: Callable[[Mapping[str, Any]], dict | None] | None = None


def opens_form(handler: Handler, when: Callable[[Mapping[str, Any]], bool] | None = None) -> Marked:
    """`handler` opens a modal (always, or `when` its keyword arguments say so): its work runs
    on the forms workers, so `views.open` does not wait behind other people's replies."""
    return Marked(handler, opens_form=when or (lambda _args: True))


def answers_at_once(handler: Handler, answer: Callable[[Mapping[str, Any]], dict | None]) -> Marked:
    """`answer(body)` is tried first, in the request's own thread: a message it returns (one
    that needs neither the database nor Slack, such as help) is the acknowledgement itself, and
    nothing else runs. When it returns None the request is acknowledged and `handler` runs on
    the workers like any other."""
    return Marked(handler, answer_at_once=answer)


# What a failure needs to answer the person (`handlers.errors`), whatever the listener asked for.
_REQUEST = ("body", "respond", "client")


def _already_acked(*_args, **_kwargs) -> None:
    """The `ack` deferred work gets: Slack already has the acknowledgement."""


def _run(
    handler: Handler,
    context: BoltContext,
    arguments: dict[str, Any],
    request: dict[str, Any],
    acknowledged: Callable[[], bool] = lambda: True,
) -> None:
    """Run a listener's work: once per delivery, and a failure after the acknowledgement is
    answered privately (`handlers.errors`); one before it is left to Bolt's error handler.

    The delivery's claim and the `before_work` steps come first. Only form submissions wait
    for their handler's `ack`, and they are neither claimed nor given such steps, so no
    acknowledgement ever waits for them."""
    first_delivery = context.get(FIRST_DELIVERY)
    try:
        if first_delivery is not None and not first_delivery():
            logger.info("Skipping a repeated delivery for %s", handler.__name__)
            arguments.get("ack", _already_acked)()
            return
        for step in context.get(BEFORE_WORK, ()):
            step()
        handler(**arguments)
    except Exception as error:
        if not acknowledged():
            raise
        answer_unexpected_error(error, **request, acknowledging=False)


class Listening:
    """The app as handler modules see it when registering (`register(app)`).

    Bolt runs with `process_before_response=True`, so each listener below runs in the HTTP
    request's own thread (no executor queue, no polling for `ack()`), and does only this:
    acknowledge, then hand the handler to a bounded pool (`Workers`). Events are acknowledged
    by Bolt when the listener returns. Form submissions are handed over first, and the
    request waits only until they call `ack`; a listener marked `answers_at_once` may answer
    in the acknowledgement without any work. Anything else (`middleware`, ...) is the app's
    own."""

    def __init__(self, app: App, workers: Workers):
        self._app = app
        self._workers = workers

    def __getattr__(self, name: str):
        return getattr(self._app, name)

    def command(self, *args, **kwargs):
        return self._wrap(self._app.command(*args, **kwargs))

    def action(self, *args, **kwargs):
        return self._wrap(self._app.action(*args, **kwargs))

    def shortcut(self, *args, **kwargs):
        return self._wrap(self._app.shortcut(*args, **kwargs))

    def event(self, *args, **kwargs):
        return self._wrap(self._app.event(*args, **kwargs))

    def view(self, *args, **kwargs):
        return self._wrap(self._app.view(*args, **kwargs), hand_over=True)

    def _wrap(self, register: Callable[[Handler], Any], *, hand_over: bool = False):
        def wrap(listener: Handler | Marked):
            marked = listener if isinstance(listener, Marked) else Marked(listener)
            if hand_over:
                register(self._handed_over(marked.handler))
            else:
                register(self._deferred(marked))
            return listener

        return wrap

    def _deferred(self, marked: Marked) -> Handler:
        handler = marked.handler
        wanted = _arguments(handler)

        def acknowledge_then_defer(context: BoltContext, **kwargs) -> None:
            ack = kwargs.get("ack")
            if marked.answer_at_once is not None:
                answer = marked.answer_at_once(kwargs["body"])
                if answer is not None:
                    ack(**answer)
                    return
            if ack is not None:
                ack()
                kwargs["ack"] = _already_acked
            given = {**kwargs, "context": context}
            arguments = {name: given[name] for name in wanted}
            form = marked.opens_form is not None and marked.opens_form(arguments)
            pool = self._workers.forms if form else self._workers.work
            request = {name: given[name] for name in _REQUEST}
            pool.submit(_run, handler, context, arguments, request)

        asked = [*wanted, "ack"] if marked.answer_at_once is not None else wanted
        return _as_seen_by_bolt(acknowledge_then_defer, handler, [*asked, "context", *_REQUEST])

    def _handed_over(self, handler: Handler) -> Handler:
        wanted = [name for name in _arguments(handler) if name != "ack"]

        def answer_when_acked(ack: Ack, context: BoltContext, **kwargs) -> None:
            acked = threading.Event()

            def ack_and_answer(*args, **ack_kwargs):
                try:
                    return ack(*args, **ack_kwargs)
                finally:
                    acked.set()

            given = {**kwargs, "context": context}
            request = {name: given[name] for name in _REQUEST}
            arguments = {name: given[name] for name in wanted}
            running = self._workers.forms.submit(
                _run,
                handler,
                context,
                {**arguments, "ack": ack_and_answer},
                request,
                acked.is_set,
            )
            running.add_done_callback(lambda _done: acked.set())
            acked.wait()
            if ack.response is None:
                running.result()  # it failed before acknowledging: Bolt answers the error

        return _as_seen_by_bolt(answer_when_acked, handler, [*wanted, "ack", "context", *_REQUEST])


def _arguments(handler: Handler) -> list[str]:
    return list(inspect.signature(handler).parameters)


def _as_seen_by_bolt(listener: Handler, handler: Handler, arguments: list[str]) -> Handler:
    """`listener` named after `handler`, asking Bolt for `arguments` (Bolt injects arguments by
    the names in a listener's signature)."""
    listener.__name__ = listener.__qualname__ = handler.__name__
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    listener.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(name, kind) for name in dict.fromkeys(arguments)]
    )
    return listener


def saved_or_refused(ack: Ack, save: Callable[[], Any], *, fields: Mapping[str, str], first: str):
    """What a form's `save` returns, or None when it was refused: then the form is answered
    with each problem next to its field (`fields`: field name to block id; `first` for a
    problem of the whole form) and nothing was saved. On success the form is not yet acked."""
    try:
        return save()
    except FormRefusal as error:
        errors = {fields[name]: text for name, text in error.problems.items()}
        ack(response_action="errors", errors=errors or {first: str(error)})
    except Refusal as error:
        ack(response_action="errors", errors={first: str(error)})
    except (KeyError, TypeError, ValueError):
        ack(response_action="errors", errors={first: "This form is out of date."})
    return None
