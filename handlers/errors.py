"""What a person is told when a listener fails unexpectedly, and the one log line about it.

Used by Bolt's global error handler (`bot.app`) for failures before a listener's work is
handed over, and by `handlers.common.Listening` for failures in that work after Slack has its
acknowledgement: either way the person hears privately that nothing was saved.
"""

from __future__ import annotations

import logging

from slack_bolt import BoltResponse, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import InterfaceError, OperationalError

logger = logging.getLogger(__name__)

DATABASE_DOWN = (
    "Saydo can't save that right now, nothing was recorded, please try again in a minute."
)
SOMETHING_WENT_WRONG = (
    "Sorry, something went wrong on Saydo's side and nothing was changed. Please try again in "
    "a minute; if it keeps happening, tell whoever runs Saydo."
)


def answer_unexpected_error(
    error: Exception,
    *,
    body: dict,
    respond: Respond | None,
    client: WebClient,
    acknowledging: bool,
) -> BoltResponse | None:
    """One log line, and the person is told privately, whichever listener failed.

    While `acknowledging` (the error came before Slack had its acknowledgement) the answer is
    the acknowledgement itself; after it, the message goes through the request's
    `response_url`, or the person's DM.
    """
    unreachable = isinstance(error, OperationalError | InterfaceError)
    logger.error(
        "%s while handling a %s: %s",
        "Database unreachable" if unreachable else "Unexpected error",
        body.get("command") or body.get("type") or "request",
        f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}",
    )
    text = DATABASE_DOWN if unreachable else SOMETHING_WENT_WRONG
    user_id = body.get("user_id") or (body.get("user") or {}).get("id")
    if body.get("command") and acknowledging:
        return BoltResponse(status=200, body={"response_type": "ephemeral", "text": text})
    if body.get("type") == "event_callback":
        return None  # a 500 makes Slack deliver the event again later
    try:
        if respond is not None:
            respond(response_type="ephemeral", replace_original=False, text=text)
        elif user_id:
            client.chat_postMessage(channel=user_id, text=text)
    except (SlackApiError, OSError) as failure:
        logger.warning("Could not tell %s about the error: %s", user_id, failure)
    return BoltResponse(status=200, body="") if acknowledging else None
