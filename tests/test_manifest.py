"""manifest.yml and the listeners agree: nothing declared without a listener, and vice versa."""

from __future__ import annotations

from pathlib import Path

import yaml

import handlers

MANIFEST = yaml.safe_load((Path(__file__).parents[1] / "manifest.yml").read_text())


class RegistrationRecorder:
    """Stands in for `App` while `handlers.register_all` runs, noting what is registered."""

    def __init__(self) -> None:
        self.registered: dict[str, set[str]] = {
            "command": set(),
            "event": set(),
            "shortcut": set(),
            "action": set(),
            "view": set(),
        }

    def middleware(self, func):
        """Middleware is not a listener: nothing to declare in the manifest."""
        return func

    def __getattr__(self, kind: str):
        if kind not in self.registered:
            raise AttributeError(kind)

        def listener(constraint, *args, **kwargs):
            key = constraint if isinstance(constraint, str) else str(constraint)
            self.registered[kind].add(key)
            return lambda func: func

        return listener


def registered() -> dict[str, set[str]]:
    recorder = RegistrationRecorder()
    handlers.register_all(recorder)  # type: ignore[arg-type]
    return recorder.registered


def test_every_manifest_command_has_a_listener_and_back():
    commands = {c["command"] for c in MANIFEST["features"]["slash_commands"]}
    assert commands == registered()["command"]


def test_every_manifest_event_has_a_listener_and_back():
    events = set(MANIFEST["settings"]["event_subscriptions"]["bot_events"])
    assert events == registered()["event"]


def test_every_shortcut_has_a_listener_and_back():
    shortcuts = {s["callback_id"] for s in MANIFEST["features"]["shortcuts"]}
    assert shortcuts == registered()["shortcut"]


def test_commands_have_usage_hints_and_socket_mode_is_on():
    for command in MANIFEST["features"]["slash_commands"]:
        assert command["description"]
        assert command["should_escape"] is True
    assert MANIFEST["settings"]["socket_mode_enabled"] is True
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True
