"""Saydo's one "now" (see `storage.clock`, where it is kept so that storage, the lowest layer,
stamps rows with it without importing the bot)."""

from storage.clock import move_to, now, offset, set_offset

__all__ = ["move_to", "now", "offset", "set_offset"]
