"""The /commit and @mention grammar: owner, title, date keyword, recipient."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.commitments.due_dates import DueDateError, parse_due
from bot.commitments.grammar import (
    COMMAND_EXAMPLES,
    MENTION_EXAMPLES,
    CommitmentTextError,
    parse_commitment,
    parse_mention_commitment,
)

TZ = "Europe/London"
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=ZoneInfo(TZ))  # Wed 2 Dec 2026


def commit(text: str):
    return parse_commitment(text, now=NOW, tz=TZ, locale="en-GB")


def mention(text: str, bot_user_id: str | None = "UBOT"):
    return parse_mention_commitment(text, now=NOW, tz=TZ, locale="en-GB", bot_user_id=bot_user_id)


def due(phrase: str):
    return parse_due(phrase, now=NOW, tz=TZ, locale="en-GB")


def test_plain_command() -> None:
    draft = commit("send the revised budget baseline to finance by next Friday")
    assert draft.title == "send the revised budget baseline to finance"
    assert draft.when_text == "next Friday"
    assert draft.due == due("next Friday")
    assert draft.owner_id is None
    assert draft.recipient_id is None


def test_owner_and_recipient() -> None:
    draft = commit("<@U0BOB|bob> share the risk register by 12 Dec for <@U0ALICE|alice>")
    assert (draft.owner_id, draft.recipient_id) == ("U0BOB", "U0ALICE")
    assert draft.title == "share the risk register"
    assert draft.when_text == "12 Dec"
    assert draft.due == due("12 Dec")


@pytest.mark.parametrize(
    ("text", "owner_id", "recipient_id"),
    [
        ("<@U123ABC> do it by Friday", "U123ABC", None),
        ("  <@W0ENT|ent>   do it by Friday", "W0ENT", None),
        ("do it by Friday for <@U0ALICE>", None, "U0ALICE"),
        ("do it by Friday FOR <@W0ALICE|alice>.", None, "W0ALICE"),
        ("<@U1> do it by Friday for <@U2>", "U1", "U2"),
    ],
)
def test_mentions(text: str, owner_id: str | None, recipient_id: str | None) -> None:
    draft = commit(text)
    assert (draft.title, draft.owner_id, draft.recipient_id) == ("do it", owner_id, recipient_id)


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("introduce <@U2|carol> to finance by Friday", "introduce <@U2|carol> to finance"),
        ("write the report for <@U2> by Friday", "write the report for <@U2>"),
    ],
)
def test_mentions_elsewhere_stay_in_the_title(text: str, title: str) -> None:
    draft = commit(text)
    assert (draft.title, draft.owner_id, draft.recipient_id) == (title, None, None)


@pytest.mark.parametrize(
    ("text", "title", "when_text"),
    [
        ("review the plan made by finance by Friday", "review the plan made by finance", "Friday"),
        ("report on housing by 12 Dec", "report on housing", "12 Dec"),
        ("report on housing on 12 Dec", "report on housing", "12 Dec"),
        ("due diligence pack due Friday", "due diligence pack", "Friday"),
        ("budget due by tomorrow", "budget", "tomorrow"),
        ("budget due on tomorrow", "budget", "tomorrow"),
        ("call the funder before Friday", "call the funder", "Friday"),
        ("call the funder by 3pm on Friday", "call the funder", "3pm on Friday"),
        ("stand by the decision by Friday", "stand by the decision", "Friday"),
        ("Send Budget BY  Friday", "Send Budget", "Friday"),
        ("send   the\nbudget,  by   end of   month", "send the budget", "end of month"),
        ("send the budget - by Friday 15:00", "send the budget", "Friday 15:00"),
    ],
)
def test_date_keyword(text: str, title: str, when_text: str) -> None:
    draft = commit(text)
    assert (draft.title, draft.when_text) == (title, when_text)
    assert draft.due == due(when_text)


@pytest.mark.parametrize(
    "title",
    [
        "send <b>budget</b> & notes",
        "ship *bold* _it_ :rocket:",
        "email `finance`; then <https://example.org|the wiki>",
    ],
)
def test_title_is_kept_as_typed(title: str) -> None:
    assert commit(f"{title} by Friday").title == title


@pytest.mark.parametrize(
    ("as_slack_sends_it", "as_typed"),
    [
        ("R&amp;D report", "R&D report"),
        ("send &lt;budget&gt; &amp; notes", "send <budget> & notes"),
        ("explain &amp;lt; in HTML", "explain &lt; in HTML"),  # typed "&lt;": decoded once
    ],
)
def test_slacks_escapes_are_decoded_once(as_slack_sends_it: str, as_typed: str) -> None:
    assert commit(f"{as_slack_sends_it} by Friday").title == as_typed


def test_mentions_and_links_are_read_before_escapes_are_decoded() -> None:
    draft = commit("<@U0BOB> fix &lt;@U0CAROL&gt;'s R&amp;D link by Friday for <@U0ALICE>")
    assert (draft.owner_id, draft.recipient_id) == ("U0BOB", "U0ALICE")
    assert draft.title == "fix <@U0CAROL>'s R&D link"


@pytest.mark.parametrize(
    "invisible", ["\u200b", "\u200b\u200c\u200d", "\u2060 \ufeff", "\u00a0 \u3000"]
)
def test_a_title_of_only_invisible_characters_is_refused(invisible: str) -> None:
    with pytest.raises(CommitmentTextError, match="What are you committing to"):
        commit(f"{invisible} by Friday")


def test_title_of_300_characters_is_fine() -> None:
    assert len(commit("x" * 300 + " by Friday").title) == 300


def test_title_over_300_characters() -> None:
    with pytest.raises(CommitmentTextError) as caught:
        commit("x" * 301 + " by Friday")
    assert "Please keep it under 300 characters — you wrote 301." in str(caught.value)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "what you're committing to"),
        ("   ", "what you're committing to"),
        ("send the budget", 'add "by <when>"'),
        ("send the budget Friday", 'add "by <when>"'),
        ("by Friday", "What are you committing to?"),
        ("<@U0BOB> by Friday for <@U0ALICE>", "What are you committing to?"),
        ("<@U1> <@U2> do it by Friday", "one owner"),
    ],
)
def test_text_errors(text: str, words: str) -> None:
    with pytest.raises(CommitmentTextError) as caught:
        commit(text)
    assert words in str(caught.value)
    assert str(caught.value).endswith(COMMAND_EXAMPLES)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("send the budget by soon", 'couldn\'t read "soon"'),
        ("report on housing by next year", 'couldn\'t read "next year"'),
        ("send the budget by 1 Dec 2026", "already in the past"),
        ("send the budget by 32/13", "isn't a real date"),
    ],
)
def test_date_errors_propagate(text: str, words: str) -> None:
    with pytest.raises(DueDateError, match=words):
        commit(text)


def test_command_examples_work() -> None:
    assert commit("send the budget to finance by Friday").title == "send the budget to finance"
    draft = commit("<@U0BOB> share the risk register by 12 Dec for <@U0ALICE>")
    assert (draft.owner_id, draft.recipient_id) == ("U0BOB", "U0ALICE")


@pytest.mark.parametrize(
    "text",
    [
        "<@UBOT> I'll send the budget by Friday",
        "<@UBOT|saydo> I’ll send the budget by Friday",
        "<@UBOT> i will send the budget by Friday",
        "<@UBOT> Ill send the budget by Friday",
        "<@UBOT> we'll send the budget by Friday",
        "<@UBOT> We will send the budget by Friday",
        "<@UBOT> commit send the budget by Friday",
        "<@UBOT> Commit: send the budget by Friday",
        "<@UBOT> commit:send the budget by Friday",
        "<@UBOT> send the budget by Friday",
        "I'll send the budget by Friday",
    ],
)
def test_mention_lead_ins(text: str) -> None:
    draft = mention(text)
    assert (draft.title, draft.when_text, draft.owner_id) == ("send the budget", "Friday", None)


def test_mention_with_owner_and_recipient() -> None:
    draft = mention("<@UBOT> <@U0BOB|bob> share the risk register by 12 Dec for <@U0ALICE>")
    assert (draft.owner_id, draft.recipient_id) == ("U0BOB", "U0ALICE")
    assert draft.title == "share the risk register"


def test_lead_in_before_owner() -> None:
    draft = mention("<@UBOT> commit: <@U0BOB> share the risk register by 12 Dec")
    assert (draft.owner_id, draft.title) == ("U0BOB", "share the risk register")


def test_only_our_own_mention_is_dropped() -> None:
    assert mention("<@UOTHER> send it by Friday").owner_id == "UOTHER"
    assert mention("<@UBOT> send it by Friday", bot_user_id=None).owner_id == "UBOT"


def test_lead_ins_are_not_stripped_from_commands() -> None:
    assert commit("I'll send it by Friday").title == "I'll send it"


def test_well_is_not_a_lead_in() -> None:
    assert mention("<@UBOT> well send it by Friday").title == "well send it"


def test_mention_errors_use_mention_examples() -> None:
    with pytest.raises(CommitmentTextError) as caught:
        mention("<@UBOT> I'll send it")
    assert str(caught.value).endswith(MENTION_EXAMPLES)
    with pytest.raises(CommitmentTextError, match="What are you committing to"):
        mention("<@UBOT> I'll by Friday")


def check_draft_or_friendly_error(draft_or_error) -> None:
    try:
        draft = draft_or_error()
    except (CommitmentTextError, DueDateError):
        return
    assert draft.title
    assert len(draft.title) <= 300
    assert draft.due.at > NOW


@given(st.text())
def test_any_command_text_gives_a_draft_or_a_friendly_error(text: str) -> None:
    check_draft_or_friendly_error(lambda: commit(text))


@given(st.text())
def test_any_mention_text_gives_a_draft_or_a_friendly_error(text: str) -> None:
    check_draft_or_friendly_error(lambda: mention(text))


COMMAND_WORDS = """
<@UBOT> <@U0BOB|bob> <@W1> I'll commit: for by on due before send the budget Friday tomorrow
12 Dec 3pm at next in 2 weeks end of month soon , . x
"""


@given(st.lists(st.sampled_from(COMMAND_WORDS.split()), max_size=8).map(" ".join))
def test_command_like_text_gives_a_draft_or_a_friendly_error(text: str) -> None:
    check_draft_or_friendly_error(lambda: commit(text))
    check_draft_or_friendly_error(lambda: mention(text))
