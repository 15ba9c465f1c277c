"""The one refusal type: a friendly "no" to show the person who asked.

Every feature raises `Refusal` for a request it turns down (not found, not yours, not now, bad
input); its message is fit to show as is. Listeners answer it ephemerally; the CLI prints it.
"""


class Refusal(ValueError):
    """A friendly refusal to show the person who asked (not found, not yours, not now)."""
