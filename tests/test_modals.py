"""The modals' Block Kit (valid against the schema), their private_metadata, and how the date
and time pickers become a due instant in the owner's time zone."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.blocks import ids
from bot.blocks import modals as forms
from bot.commitments.lifecycle import Status
from bot.commitments.service import CommitmentView, PartnershipRef, PersonRef, due_from_picker
from handlers.modals import _due_field, readable
from tests.slack_contract import assert_valid_view

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
ALICE = PersonRef(1, "T0001", "U0ALICE", "Alice", "Europe/London", "en-GB")
BOB = PersonRef(2, "T0001", "U0BOB", "Bob", "America/New_York", "en-US")
HOUSING = PartnershipRef(1, "T0001", "C0PARTNER", "housing", "Europe/London")


def commitment(**changes) -> CommitmentView:
    due = datetime(2026, 12, 12, 15, 0, tzinfo=UTC)
    fields = {
        "id": 1,
        "ref": 7,
        "team_id": "T0001",
        "partnership": HOUSING,
        "title": "Send the <!channel> budget & <https://evil.example|notes>",
        "owner": ALICE,
        "recipient": BOB,
        "created_by": ALICE,
        "status": Status.OPEN,
        "due_at": due,
        "original_due_at": due,
        "judged_due_at": due,
        "has_time": True,
        "created_at": NOW,
        "delivered_at": None,
        "withdrawn_at": None,
        "confirmed": False,
        "date_changes": 0,
        "renegotiated": False,
        "evidence": None,
        "notes": None,
        "source_permalink": None,
    }
    return CommitmentView(**(fields | changes))


def blocks_by_id(view: dict) -> dict[str, dict]:
    return {b["block_id"]: b for b in view["blocks"] if "block_id" in b}


def element(view: dict, field: tuple[str, str]) -> dict:
    block = blocks_by_id(view)[field[0]]
    assert block["element"]["action_id"] == field[1]
    return block["element"]


# --- the commitment form ------------------------------------------------------------------


def test_the_empty_form_is_valid_and_asks_for_everything():
    view = forms.create_modal(owner_id="U0ALICE", metadata=forms.encode_metadata({"channel": "C1"}))
    assert_valid_view(view)
    assert view["callback_id"] == ids.CREATE_MODAL
    assert len(view["title"]["text"]) <= 24
    assert view["submit"]["text"] and view["close"]["text"]
    inputs = blocks_by_id(view)
    assert forms.PARTNERSHIP[0] not in inputs
    assert element(view, forms.TITLE)["max_length"] == 300
    assert "initial_value" not in element(view, forms.TITLE)
    assert element(view, forms.DUE_DATE)["type"] == "datepicker"
    assert not inputs[forms.DUE_DATE[0]]["optional"]
    assert element(view, forms.DUE_TIME)["type"] == "timepicker"
    assert inputs[forms.DUE_TIME[0]]["optional"]
    assert element(view, forms.OWNER) == {
        "type": "users_select",
        "placeholder": element(view, forms.OWNER)["placeholder"],
        "initial_user": "U0ALICE",
        "action_id": "owner",
    }
    assert inputs[forms.RECIPIENT[0]]["optional"]
    assert "initial_user" not in element(view, forms.RECIPIENT)
    assert element(view, forms.NOTES)["multiline"] is True
    assert inputs[forms.NOTES[0]]["optional"]


def test_the_form_from_a_message_is_prefilled_and_links_back():
    text = "word " * 100
    link = "https://saydo-test.slack.com/archives/C0PARTNER/p1764000000000100"
    view = forms.create_modal(owner_id="U0BOB", metadata="{}", title=text, source_permalink=link)
    assert_valid_view(view)
    prefilled = element(view, forms.TITLE)["initial_value"]
    assert len(prefilled) == 300
    assert prefilled.endswith("…")
    assert prefilled.startswith("word word")
    assert link in json.dumps(view["blocks"][0])


def test_a_short_title_is_prefilled_as_it_is():
    view = forms.create_modal(owner_id="U0BOB", metadata="{}", title="Send the budget")
    assert element(view, forms.TITLE)["initial_value"] == "Send the budget"


def test_the_form_in_a_dm_offers_the_partnerships():
    many = [PartnershipRef(i, "T0001", f"C{i}", f"partnership {i} " + "x" * 80, "UTC")
            for i in range(1, 130)]  # fmt: skip
    view = forms.create_modal(owner_id="U0ALICE", metadata="{}", partnerships=many)
    assert_valid_view(view)
    select = element(view, forms.PARTNERSHIP)
    assert select["type"] == "static_select"
    assert len(select["options"]) == 100
    assert select["options"][0]["value"] == "1"
    assert all(len(o["text"]["text"]) <= 75 for o in select["options"])
    assert not blocks_by_id(view)[forms.PARTNERSHIP[0]]["optional"]

    one = forms.create_modal(owner_id="U0ALICE", metadata="{}", partnerships=[HOUSING])
    assert element(one, forms.PARTNERSHIP)["options"] == [
        {"text": {"type": "plain_text", "text": "housing", "emoji": True}, "value": "1"}
    ]


# --- the small forms ----------------------------------------------------------------------


def test_the_deliver_form_is_valid_and_escapes_the_title():
    view = forms.deliver_modal(commitment(), metadata=forms.encode_metadata({"ref": 7}))
    assert_valid_view(view)
    assert view["callback_id"] == ids.DELIVER_MODAL
    shown = json.dumps(view["blocks"][0])
    assert "<!channel>" not in shown and "&lt;!channel&gt;" in shown
    assert "&amp;" in shown
    assert "#7" in shown
    assert blocks_by_id(view)[forms.EVIDENCE[0]]["optional"]
    assert json.loads(view["private_metadata"]) == {"ref": 7}


def test_the_move_form_starts_from_the_current_date_in_the_owners_zone():
    # 15:00 UTC on 12 Dec is 10:00 in New York.
    view = forms.move_modal(commitment(owner=BOB), metadata="{}")
    assert_valid_view(view)
    assert view["callback_id"] == ids.MOVE_MODAL
    assert element(view, forms.DUE_DATE)["initial_date"] == "2026-12-12"
    assert element(view, forms.DUE_TIME)["initial_time"] == "10:00"
    assert blocks_by_id(view)[forms.REASON[0]]["optional"]
    assert blocks_by_id(view)[forms.DUE_TIME[0]]["optional"]


def test_the_move_form_without_a_time_leaves_the_time_empty():
    end_of_day = datetime(2026, 12, 12, 23, 59, 59, tzinfo=UTC)
    view = forms.move_modal(
        commitment(due_at=end_of_day, has_time=False), metadata="{}", mode=forms.MOVE
    )
    assert_valid_view(view)
    assert "initial_time" not in element(view, forms.DUE_TIME)
    assert element(view, forms.DUE_DATE)["initial_date"] == "2026-12-12"


def test_the_propose_form_says_it_accepts():
    view = forms.move_modal(commitment(status=Status.PROPOSED), metadata="{}", mode=forms.PROPOSE)
    assert_valid_view(view)
    assert view["callback_id"] == ids.MOVE_MODAL
    assert "Accept" in view["submit"]["text"]
    assert "accept" in json.dumps(view["blocks"]).lower()
    with pytest.raises(ValueError):
        forms.move_modal(commitment(), metadata="{}", mode="sideways")


def test_the_dispute_form_is_valid():
    view = forms.dispute_modal(commitment(status=Status.DELIVERED), metadata="{}")
    assert_valid_view(view)
    assert view["callback_id"] == ids.DISPUTE_MODAL
    assert blocks_by_id(view)[forms.DISPUTE_NOTE[0]]["optional"]


def test_every_title_fits_slacks_limit():
    c = commitment()
    views = [
        forms.create_modal(owner_id="U1", metadata="{}"),
        forms.deliver_modal(c, metadata="{}"),
        forms.move_modal(c, metadata="{}"),
        forms.move_modal(c, metadata="{}", mode=forms.PROPOSE),
        forms.dispute_modal(c, metadata="{}"),
    ]
    for view in views:
        for key in ("title", "submit", "close"):
            assert 0 < len(view[key]["text"]) <= 24, (view["callback_id"], key)


# --- private_metadata ---------------------------------------------------------------------


def test_metadata_round_trips_without_empty_values():
    data = {
        "channel": "C0PARTNER",
        "thread_ts": "1764000000.000100",
        "permalink": "https://x.slack.com/archives/C0PARTNER/p1764000000000100",
        "source_text": 'Ça va? <@U0BOB> will "send" it',
        "ref": 12,
        "partnership": None,
    }
    encoded = forms.encode_metadata(data)
    assert forms.decode_metadata(encoded) == {k: v for k, v in data.items() if v is not None}
    view = forms.create_modal(owner_id="U1", metadata=encoded)
    assert forms.decode_metadata(view["private_metadata"])["source_text"] == data["source_text"]


def test_long_source_text_is_shortened_to_fit_the_metadata():
    encoded = forms.encode_metadata({"channel": "C1", "source_text": '"quoted" ' * 1000})
    assert len(encoded) <= 3000
    decoded = forms.decode_metadata(encoded)
    assert decoded["channel"] == "C1"
    assert decoded["source_text"].startswith('"quoted" "quoted"')
    assert_valid_view(forms.create_modal(owner_id="U1", metadata=encoded))


def test_unreadable_metadata_is_empty():
    assert forms.decode_metadata(None) == {}
    assert forms.decode_metadata("") == {}
    assert forms.decode_metadata("not json") == {}
    assert forms.decode_metadata("[1, 2]") == {}


# --- the pickers in the owner's time zone -------------------------------------------------


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "clock", "tz", "expected", "has_time"),
    [
        ("2026-12-12", "15:00", "Europe/London", utc(2026, 12, 12, 15, 0), True),
        ("2026-12-12", "15:00", "America/New_York", utc(2026, 12, 12, 20, 0), True),
        ("2026-12-12", "09:30", "Asia/Tokyo", utc(2026, 12, 12, 0, 30), True),
        ("2026-07-01", "15:00", "Europe/London", utc(2026, 7, 1, 14, 0), True),
        # No time: the end of that day where the owner is.
        ("2026-12-12", None, "Europe/London", utc(2026, 12, 12, 23, 59, 59), False),
        ("2026-12-12", None, "America/New_York", utc(2026, 12, 13, 4, 59, 59), False),
    ],
)
def test_the_pickers_are_read_in_the_owners_time_zone(day, clock, tz, expected, has_time):
    assert due_from_picker(day, clock, tz) == (expected, has_time)


def values(day: str | None, clock: str | None = None) -> dict:
    return {
        forms.DUE_DATE[0]: {forms.DUE_DATE[1]: {"type": "datepicker", "selected_date": day}},
        forms.DUE_TIME[0]: {forms.DUE_TIME[1]: {"type": "timepicker", "selected_time": clock}},
    }


def test_a_future_date_is_accepted_in_the_owners_zone():
    errors: dict[str, str] = {}
    due = _due_field(values("2026-12-05", "08:00"), "America/New_York", NOW, errors)
    assert errors == {}
    assert due == (datetime(2026, 12, 5, 13, 0, tzinfo=UTC), True)


def test_today_is_still_open_for_the_owner_behind_utc():
    # 10:00 UTC on 1 Dec is 05:00 in New York: later that day is fine there.
    errors: dict[str, str] = {}
    assert _due_field(values("2026-12-01", "06:00"), "America/New_York", NOW, errors)
    assert errors == {}


def test_a_past_date_is_a_field_error_on_the_date():
    errors: dict[str, str] = {}
    assert _due_field(values("2026-11-30"), "Europe/London", NOW, errors) is None
    assert list(errors) == [forms.DUE_DATE[0]]
    assert "already in the past" in errors[forms.DUE_DATE[0]]
    assert "Mon 30 Nov 2026" in errors[forms.DUE_DATE[0]]


def test_a_past_time_today_is_a_field_error_on_the_time():
    errors: dict[str, str] = {}
    assert _due_field(values("2026-12-01", "09:00"), "Europe/London", NOW, errors) is None
    assert list(errors) == [forms.DUE_TIME[0]]


def test_more_than_two_years_ahead_is_refused():
    errors: dict[str, str] = {}
    assert _due_field(values("2028-12-02"), "Europe/London", NOW, errors) is None
    assert "two years" in errors[forms.DUE_DATE[0]]
    errors.clear()
    assert _due_field(values("2028-12-01"), "Europe/London", NOW, errors) is not None


def test_the_same_date_again_is_not_a_new_date():
    errors: dict[str, str] = {}
    current = datetime(2026, 12, 12, 15, 0, tzinfo=UTC)
    assert _due_field(values("2026-12-12", "15:00"), "UTC", NOW, errors, current=current) is None
    assert "already has" in errors[forms.DUE_DATE[0]]
    errors.clear()
    later = _due_field(values("2026-12-12", "16:00"), "UTC", NOW, errors, current=current)
    assert later == (current + timedelta(hours=1), True)


def test_a_missing_date_is_asked_for():
    errors: dict[str, str] = {}
    assert _due_field(values(None), "UTC", NOW, errors) is None
    assert errors == {forms.DUE_DATE[0]: "Please pick a date."}


# --- a message's text as a title ----------------------------------------------------------


def test_a_messages_markup_is_read_as_people_see_it():
    text = (
        "Send <https://x.example/budget|the budget> &amp; <https://a.example> to "
        "<@U0BOB> in <#C0PARTNER|housing> &lt;soon&gt; <!here>"
    )
    assert readable(text) == (
        "Send the budget & https://a.example to <@U0BOB> in #housing <soon> <!here>"
    )
