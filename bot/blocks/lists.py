"""`/saydo list`: one page of commitments, each with its buttons, and Previous/Next.

A page holds at most `PAGE_SIZE` commitments: a section and an actions block each, plus a
heading, a page line and two navigation blocks, so a message stays well under Slack's 50 blocks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from bot.blocks import Block, Message, button, context, ids, section
from bot.blocks.commitments import actions_for, summary_line
from bot.commitments.service import Page

PAGE_SIZE = 10

MINE, USER, OVERDUE, ALL = "mine", "user", "overdue", "all"
FILTERS = (MINE, USER, OVERDUE, ALL)


@dataclass(frozen=True)
class ListFilter:
    """Which commitments a list shows; round-trips through the page buttons' value."""

    kind: str  # one of FILTERS
    user: str | None = None  # the person asking (mine) or the person mentioned (user)
    channel: str | None = None  # the channel `all` was asked in; None means the workspace

    def button_value(self, page: int) -> str:
        value = {"filter": self.kind, "user": self.user, "page": page}
        if self.channel:
            value["channel"] = self.channel
        return json.dumps(value, separators=(",", ":"))

    @staticmethod
    def from_button_value(value: str) -> tuple[ListFilter, int]:
        """The filter and page a Previous/Next button asks for; ValueError if malformed."""
        data = json.loads(value)
        if not isinstance(data, dict) or data.get("filter") not in FILTERS:
            raise ValueError(f"not a list page: {value!r}")
        page = data.get("page")
        if not isinstance(page, int) or isinstance(page, bool):
            raise ValueError(f"not a page number: {page!r}")
        user, channel = data.get("user"), data.get("channel")
        if user is not None and not isinstance(user, str):
            raise ValueError(f"not a user id: {user!r}")
        if channel is not None and not isinstance(channel, str):
            raise ValueError(f"not a channel id: {channel!r}")
        if data["filter"] == USER and not user:
            raise ValueError("a user's list needs the user")
        return ListFilter(data["filter"], user, channel), page


def _heading(list_filter: ListFilter) -> str:
    match list_filter.kind:
        case "mine":
            return "*Your open commitments* (yours to do, or owed to you)"
        case "user":
            return f"*Open commitments involving <@{list_filter.user}>*"
        case "overdue":
            return "*Overdue commitments* in this workspace"
        case _:
            if list_filter.channel:
                return f"*Open commitments in <#{list_filter.channel}>*"
            return "*Open commitments* in this workspace"


def _nothing(list_filter: ListFilter) -> str:
    match list_filter.kind:
        case "mine":
            return (
                "You have no open commitments, to do or owed to you. "
                "Log one with `/commit send the budget by Friday`."
            )
        case "user":
            return f"<@{list_filter.user}> has no open commitments, to do or owed to them."
        case "overdue":
            return "Nothing is overdue. Everyone is keeping their word. :tada:"
        case _:
            if list_filter.channel:
                return (
                    f"There are no open commitments in <#{list_filter.channel}>. "
                    "Log one with `/commit send the budget by Friday`."
                )
            return "There are no open commitments in this workspace."


def commitment_list(page: Page, list_filter: ListFilter, *, now: datetime) -> Message:
    """One page of commitments, newest due first, or a friendly line when there are none."""
    if page.total == 0:
        text = _nothing(list_filter)
        return {"text": text, "blocks": [section(text)]}
    heading = _heading(list_filter)
    blocks: list[Block] = [section(heading)]
    for commitment in page.items:
        blocks.append(section(summary_line(commitment, now=now)))
        actions = actions_for(commitment)
        if actions:
            blocks.append(actions)
    shown = f"{page.total} in all" if page.total != 1 else "1 in all"
    if page.pages > 1:
        shown = f"Page {page.page} of {page.pages} · {shown}"
    blocks.append(context(f"{shown} · newest due date first"))
    if page.page > 1:
        blocks.append(_nav("list_page_previous", "Previous", list_filter, page.page - 1))
    if page.page < page.pages:
        blocks.append(_nav("list_page_next", "Next", list_filter, page.page + 1))
    plain_heading = heading.replace("*", "")
    return {"text": f"{plain_heading}: {shown}", "blocks": blocks}


def _nav(block_id: str, label: str, list_filter: ListFilter, page: int) -> Block:
    """Previous and Next live in blocks of their own: Slack wants action ids unique per block."""
    return {
        "type": "actions",
        "block_id": block_id,
        "elements": [button(label, ids.LIST_PAGE, list_filter.button_value(page))],
    }
