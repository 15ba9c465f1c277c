"""The one refusal type: a friendly "no" to show the person who asked.

Every feature raises `Refusal` for a request it turns down (not found, not yours, not now, bad
input); its message is fit to show as is. Listeners answer it ephemerally; the CLI prints it.
"""


class Refusal(ValueError):
    """A friendly refusal to show the person who asked (not found, not yours, not now)."""


class FormRefusal(Refusal):
    """A refusal of a form's answers: `problems` maps each field to what is wrong with it, so
    the form can show each next to its field."""

    def __init__(self, message: str, problems: dict[str, str] | None = None):
        super().__init__(message)
        self.problems = problems or {}
