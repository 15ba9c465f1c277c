"""Waiting for what Saydo does after Slack has its acknowledgement: poll a condition until it
holds, never sleep a fixed time. Timeouts are generous (a loaded machine is slow); a test that
passes never waits for them."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from bot.playground.standin import RecordedCall, SlackStandIn

T = TypeVar("T")

TIMEOUT_SECONDS = 30.0
POLL_SECONDS = 0.02


def until(found: Callable[[], T], what: str, timeout: float = TIMEOUT_SECONDS) -> T:
    """`found()`'s first truthy answer; AssertionError naming `what` if none comes in time."""
    deadline = time.monotonic() + timeout
    while not (value := found()):
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not seen within {timeout}s")
        time.sleep(POLL_SECONDS)
    return value


def posts_to(
    slack: SlackStandIn, channel: str, count: int = 1, timeout: float = TIMEOUT_SECONDS
) -> list[RecordedCall]:
    """The successful `chat.postMessage` calls to `channel`, once there are at least `count`."""

    def found() -> list[RecordedCall]:
        posts = [c for c in slack.calls_to("chat.postMessage") if c.succeeded]
        mine = [c for c in posts if c.args.get("channel") == channel]
        return mine if len(mine) >= count else []

    try:
        return until(found, f"{count} message(s) posted to {channel}", timeout)
    except AssertionError as error:
        sent = [(c.args.get("channel"), c.answered) for c in slack.calls_to("chat.postMessage")]
        raise AssertionError(f"{error}; chat.postMessage calls: {sent}") from None


def logged_message(slack: SlackStandIn, channel: str = "C0PARTNER", count: int = 1) -> dict:
    """The `count`-th message Saydo posted in `channel` (a `/commit`'s "Logged #N"): its args."""
    return posts_to(slack, channel, count)[count - 1].args
