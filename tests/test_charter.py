"""The Relationship Charter's domain on both databases: setup, versions, proposals, agreement by
every organisation, admin adoption, superseded proposals, and nudges replanned when the
charter changes working days, hours or holidays. Block Kit builders checked against the schema.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import select

from bot.blocks import charter as blocks
from bot.charter import service as domain
from bot.charter.service import Draft
from bot.coffee import service as coffee
from bot.commitments.service import ensure_partnership, get_partnership, log_commitment, save_person
from bot.config import Settings
from bot.partnerships.members import list_members, make_admin, organisations, upsert_member
from bot.policy.charter_settings import BY_PERSON, CharterSettings, check_currency
from bot.refusal import Refusal
from bot.slack_client import build_web_client
from handlers.charter import read_calendars, read_draft
from scheduler.jobs import build_sweeper, run_sweeps
from storage.db import transaction
from storage.models import OutboxMessage
from tests.saydo_process import BOT_TOKEN
from tests.slack_contract import assert_valid_blocks, assert_valid_view

COUNCIL, TRUST = "Northshire Council", "Northshire NHS Trust"
SETUP_AT = datetime(2026, 11, 2, 9, tzinfo=UTC)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def world(engine):
    partnership = ensure_partnership(engine, team_id="T0001", channel_id="C0PARTNER")

    def person(user_id, organisation, tz="Europe/London"):
        ref = save_person(
            engine,
            team_id="T0001",
            user_id=user_id,
            name=user_id.removeprefix("U0").title(),
            tz=tz,
            locale="en-GB",
            now=SETUP_AT,
        )
        upsert_member(
            engine,
            partnership_id=partnership.id,
            person=ref,
            organisation=organisation,
            now=SETUP_AT,
        )
        return ref

    alice, bob = person("U0ALICE", COUNCIL), person("U0BOB", COUNCIL, "America/New_York")
    carol = person("U0CAROL", TRUST, "Asia/Kolkata")
    return {"engine": engine, "p": partnership, "alice": alice, "bob": bob, "carol": carol}


def founded(world, settings: CharterSettings | None = None, *, at=SETUP_AT):
    """Alice runs setup: she becomes the admin and version 1 is adopted."""
    engine, p, alice = world["engine"], world["p"], world["alice"]
    make_admin(engine, partnership_id=p.id, actor_person_id=alice.id, person_id=alice.id)
    return domain.setup(
        engine,
        partnership_id=p.id,
        actor=alice,
        agreed_by=f"Alice ({COUNCIL})",
        name="Housing partnership",
        tz="Europe/London",
        draft=Draft(
            "Better homes, sooner.",
            "Say what we'll do.",
            "Talk first.",
            settings or CharterSettings(),
        ),
        now=at,
    )


def propose(world, who, draft, *, at=SETUP_AT, base=None):
    engine, p = world["engine"], world["p"]
    return domain.propose(
        engine,
        partnership_id=p.id,
        proposer=world[who],
        organisation=COUNCIL if who in ("alice", "bob") else TRUST,
        base_version=domain.current_charter(engine, partnership_id=p.id).version
        if base is None
        else base,
        draft=draft,
        organisations=organisations(engine, partnership_id=p.id),
        now=at,
    )


def agree(world, who, proposal_id, *, at=SETUP_AT):
    engine, p = world["engine"], world["p"]
    return domain.agree(
        engine,
        proposal_id=proposal_id,
        person=world[who],
        organisation=COUNCIL if who in ("alice", "bob") else TRUST,
        organisations=organisations(engine, partnership_id=p.id),
        now=at,
    )


def changed(world, **settings) -> Draft:
    current = domain.current_charter(world["engine"], partnership_id=world["p"].id)
    return replace(current.draft, settings=replace(current.settings, **settings))


# --- settings ----------------------------------------------------------------------------------


def test_settings_survive_a_round_trip_through_storage():
    settings = CharterSettings(
        coffee_cadence_weeks=4,
        coffee_weekday=3,
        coffee_time=time(14, 30),
        first_review_date=date(2027, 3, 1),
        review_cadence_months=6,
        summary_weekday=4,
        summary_time=time(16, 0),
        kept_target=0.9,
        summary_visibility=BY_PERSON,
        working_days=(0, 1, 2, 3),
        day_start=time(8, 0),
        day_end=time(16, 0),
        nudge_time=time(8, 30),
        holiday_calendars={TRUST: "GB", COUNCIL: "IE"},
        course_correction=False,
    )
    assert CharterSettings.from_json(settings.to_json()) == settings
    assert CharterSettings.from_json("{}") == CharterSettings()


def test_a_channel_keeps_the_defaults_until_setup_then_every_version_is_kept(world):
    engine, p = world["engine"], world["p"]
    assert domain.current_charter(engine, partnership_id=p.id).version == 0
    assert domain.history(engine, partnership_id=p.id) == []

    first = founded(world)
    assert first.version == 1
    assert first.agreed_by == f"Alice ({COUNCIL})"
    assert first.change_summary.startswith("Founding charter")
    renamed = get_partnership(engine, team_id="T0001", partnership_id=p.id)
    assert (renamed.name, renamed.tz) == ("Housing partnership", "Europe/London")

    outcome = propose(world, "alice", changed(world, coffee_cadence_weeks=4))
    agree(world, "carol", outcome.proposal.id)
    versions = domain.history(engine, partnership_id=p.id)
    assert [v.version for v in versions] == [2, 1]
    assert versions[0].settings.coffee_cadence_weeks == 4
    assert versions[1].settings.coffee_cadence_weeks == 2  # the old version is untouched
    assert domain.current_charter(engine, partnership_id=p.id).version == 2


def test_setup_refuses_bad_settings_and_saves_nothing(world):
    engine, p, alice = world["engine"], world["p"], world["alice"]
    with pytest.raises(Refusal, match="1 to 8 weeks"):
        domain.setup(
            engine,
            partnership_id=p.id,
            actor=alice,
            agreed_by="Alice",
            name="X",
            tz="Europe/London",
            draft=Draft("", "", "", CharterSettings(coffee_cadence_weeks=9)),
            now=SETUP_AT,
        )
    with pytest.raises(Refusal, match="time zone"):
        domain.setup(
            engine,
            partnership_id=p.id,
            actor=alice,
            agreed_by="Alice",
            name="X",
            tz="Mars/Olympus",
            draft=Draft("", "", "", CharterSettings()),
            now=SETUP_AT,
        )
    with pytest.raises(Refusal, match="`GBPX` isn't a currency code"):
        domain.setup(
            engine,
            partnership_id=p.id,
            actor=alice,
            agreed_by="Alice",
            name="X",
            tz="Europe/London",
            draft=Draft("", "", "", CharterSettings(currency="GBPX")),
            now=SETUP_AT,
        )
    assert domain.current_charter(engine, partnership_id=p.id).version == 0


def test_a_currency_is_an_iso_4217_code_in_capitals():
    assert check_currency(" eur ") == "EUR"
    assert check_currency("JPY") == "JPY"
    for bad in ("", "EU", "EURO", "XYZ", "XAU", "£", "gb p"):
        with pytest.raises(ValueError, match="isn't a currency code"):
            check_currency(bad)


# --- agreeing changes ------------------------------------------------------------------------


def test_a_change_is_adopted_only_once_every_organisation_has_agreed(world):
    founded(world)
    outcome = propose(world, "alice", changed(world, coffee_cadence_weeks=4))
    assert outcome.adopted is None
    assert outcome.proposal.waiting_for == (TRUST,)

    same_org = agree(world, "bob", outcome.proposal.id)
    assert same_org.adopted is None  # a second council member is not the trust
    assert same_org.proposal.state == "open"
    assert [a.name for a in same_org.proposal.agreements] == ["Alice", "Bob"]

    done = agree(world, "carol", outcome.proposal.id)
    assert done.adopted is not None and done.adopted.version == 2
    assert done.proposal.state == "adopted" and done.proposal.adopted_version == 2
    assert done.adopted.agreed_by == f"Alice ({COUNCIL}), Bob ({COUNCIL}), Carol ({TRUST})"
    assert "Coffee: every 2 weeks, Tuesday at 10:00 → every 4 weeks, Tuesday at 10:00" in (
        done.adopted.change_summary.splitlines()
    )
    with pytest.raises(Refusal, match="already been adopted"):
        agree(world, "bob", outcome.proposal.id)


def test_an_admin_can_adopt_without_waiting_and_others_cannot(world):
    engine, p = world["engine"], world["p"]
    founded(world)
    outcome = propose(world, "carol", changed(world, kept_target=0.9))
    with pytest.raises(Refusal, match="Only an admin"):
        domain.adopt(
            engine,
            proposal_id=outcome.proposal.id,
            actor=world["bob"],
            organisation=COUNCIL,
            organisations=[COUNCIL, TRUST],
            now=SETUP_AT,
        )
    adopted = domain.adopt(
        engine,
        proposal_id=outcome.proposal.id,
        actor=world["alice"],
        organisation=COUNCIL,
        organisations=[COUNCIL, TRUST],
        now=SETUP_AT,
    )
    assert adopted.adopted.version == 2
    assert "Alice (admin)" in adopted.adopted.agreed_by
    assert domain.current_charter(engine, partnership_id=p.id).settings.kept_target == 0.9


def test_a_proposal_based_on_an_older_version_is_superseded(world):
    engine, p = world["engine"], world["p"]
    founded(world)
    first = propose(world, "alice", changed(world, coffee_weekday=3))
    second = propose(world, "carol", changed(world, summary_weekday=4))
    adopted = agree(world, "carol", first.proposal.id)
    assert adopted.adopted.version == 2
    assert [s.id for s in adopted.superseded] == [second.proposal.id]
    assert adopted.superseded[0].state == "superseded"

    late = agree(world, "alice", second.proposal.id)
    assert late.adopted is None and late.proposal.state == "superseded"
    assert domain.current_charter(engine, partnership_id=p.id).version == 2
    with pytest.raises(Refusal, match="changed to version 2"):
        propose(world, "bob", changed(world, coffee_weekday=2), base=1)


def test_a_proposal_must_change_something(world):
    founded(world)
    with pytest.raises(Refusal, match="as it stands"):
        propose(world, "bob", changed(world))


def test_changes_are_described_field_by_field_in_words():
    old = Draft("Homes", "Be kind", "", CharterSettings())
    new = Draft(
        "Homes, sooner",
        "Be kind",
        "Call first",
        replace(
            CharterSettings(),
            working_days=(0, 1, 2, 3),
            summary_visibility=BY_PERSON,
            holiday_calendars={TRUST: "GB"},
            course_correction=False,
        ),
    )
    assert domain.describe_changes(old, new) == [
        "Purpose and shared objectives rewritten",
        "Escalation playbook set",
        "Summary shows: organisations only → each person and organisation",
        "Working days: Monday to Friday → Monday, Tuesday, Wednesday, Thursday",
        f"Public holidays: none → {TRUST}: GB",
        "Course-correction coffee: on → off",
    ]


# --- nudges follow the charter -----------------------------------------------------------------


@pytest.fixture
def sweep(engine, people):
    client = build_web_client(Settings(bot_token=BOT_TOKEN, slack_api_url=people.url))
    sweeper = build_sweeper(engine, client)
    sweeper.sleep = lambda _seconds: None
    return lambda now: run_sweeps(sweeper, now=now)


def nudged(slack, user_id) -> list[str]:
    return [
        c.args.get("text", "")
        for c in slack.calls_to("chat.postMessage")
        if c.succeeded and c.args["channel"] == user_id
    ]


def test_a_charter_change_replans_nudges_and_never_resends_one(world, sweep, people):
    engine, p, alice = world["engine"], world["p"], world["alice"]
    founded(world)
    # Alice (London) on Monday 23 Nov: due Wednesday 25 Nov at 17:00.
    log_commitment(
        engine,
        partnership=p,
        creator=alice,
        owner=alice,
        recipient=None,
        title="send the budget",
        due_at=utc(2026, 11, 25, 17),
        has_time=True,
        now=utc(2026, 11, 23, 8),
    )
    sweep(utc(2026, 11, 24, 9))  # Tuesday 09:00: the day-before nudge
    assert len(nudged(people, "U0ALICE")) == 1

    # Agreed at 09:30: the working day starts at 10:00 and Thursday is no longer a working day.
    outcome = propose(
        world,
        "alice",
        changed(world, day_start=time(10), working_days=(0, 1, 2, 4)),
        at=utc(2026, 11, 24, 9, 30),
    )
    agree(world, "carol", outcome.proposal.id, at=utc(2026, 11, 24, 9, 30))

    sweep(utc(2026, 11, 24, 10))  # the day-before nudge now falls at 10:00: not sent again
    assert len(nudged(people, "U0ALICE")) == 1
    sweep(utc(2026, 11, 25, 9))
    assert len(nudged(people, "U0ALICE")) == 1  # 09:00 is before the working day now
    sweep(utc(2026, 11, 25, 10))
    assert len(nudged(people, "U0ALICE")) == 2  # due today, at 10:00
    sweep(utc(2026, 11, 26, 10))
    assert len(nudged(people, "U0ALICE")) == 2  # Thursday is not a working day
    sweep(utc(2026, 11, 27, 10))
    assert len(nudged(people, "U0ALICE")) == 3  # first overdue nudge on Friday


def test_nudges_skip_the_public_holidays_of_the_owners_organisation(world):
    engine, p = world["engine"], world["p"]
    founded(world, CharterSettings(holiday_calendars={COUNCIL: "GB"}))

    def first_overdue(who):
        person = world[who]
        logged = log_commitment(
            engine,
            partnership=p,
            creator=person,
            owner=person,
            recipient=None,
            title=f"{who}'s report",
            due_at=utc(2026, 12, 24, 15),
            has_time=True,
            now=utc(2026, 12, 1, 9),
        ).commitment
        with transaction(engine) as session:
            row = session.execute(
                select(OutboxMessage).where(
                    OutboxMessage.commitment_id == logged.id,
                    OutboxMessage.slot_key.endswith(":overdue-1"),
                    OutboxMessage.state == "pending",
                )
            ).scalar_one()
            return row.due_at

    # Christmas Day, and Boxing Day's substitute on Monday 28th, are holidays in the UK.
    assert first_overdue("alice") == utc(2026, 12, 29, 9)
    # Carol's trust has no holiday calendar in the charter: Friday 25th is a working day.
    assert first_overdue("carol") == utc(2026, 12, 25, 3, 30)


def test_one_holiday_calendar_for_nudges_and_coffee_matching_names_ignoring_case(world):
    """The charter line `northshire nhs trust: GB-ENG` (name in lower case, a region code):
    on Christmas Day nobody at the trust is nudged or put in a coffee round."""
    engine, p, carol = world["engine"], world["p"], world["carol"]
    errors: dict[str, str] = {}
    calendars = read_calendars("northshire nhs trust: GB-ENG", errors)
    assert errors == {}
    assert calendars == {"northshire nhs trust": "GB-ENG"}
    founded(world, CharterSettings(holiday_calendars=calendars))
    logged = log_commitment(
        engine,
        partnership=p,
        creator=carol,
        owner=carol,
        recipient=None,
        title="referrals",
        due_at=utc(2026, 12, 24, 12),
        has_time=True,
        now=utc(2026, 12, 1, 9),
    ).commitment
    with transaction(engine) as session:
        first_overdue = session.execute(
            select(OutboxMessage.due_at).where(
                OutboxMessage.commitment_id == logged.id,
                OutboxMessage.slot_key.endswith(":overdue-1"),
                OutboxMessage.state == "pending",
            )
        ).scalar_one()
    # Kolkata's 09:00 on Tue 29th: Christmas, the weekend and Boxing Day's substitute are off.
    assert first_overdue == utc(2026, 12, 29, 3, 30)

    settings = domain.current_charter(engine, partnership_id=p.id).settings
    members = {m.person.user_id: m for m in list_members(engine, partnership_id=p.id)}
    christmas = utc(2026, 12, 25, 10)
    assert coffee.left_out(members["U0CAROL"], at=christmas, settings=settings) == "public holiday"
    assert coffee.left_out(members["U0ALICE"], at=christmas, settings=settings) is None
    boxing_day_off = utc(2026, 12, 28, 10)
    assert coffee.left_out(members["U0CAROL"], at=boxing_day_off, settings=settings) is not None
    assert coffee.left_out(members["U0CAROL"], at=utc(2026, 12, 29, 10), settings=settings) is None


def test_an_unknown_region_is_refused_by_name():
    errors: dict[str, str] = {}
    read_calendars("Trust: GB-XX", errors)
    assert "GB-XX" in errors[blocks.HOLIDAYS[0]]


def test_a_new_holiday_calendar_replans_open_commitments(world):
    engine, p, alice = world["engine"], world["p"], world["alice"]
    founded(world)
    logged = log_commitment(
        engine,
        partnership=p,
        creator=alice,
        owner=alice,
        recipient=None,
        title="report",
        due_at=utc(2026, 12, 24, 15),
        has_time=True,
        now=utc(2026, 12, 1, 9),
    ).commitment

    def overdue_1():
        with transaction(engine) as session:
            return session.execute(
                select(OutboxMessage.due_at).where(
                    OutboxMessage.commitment_id == logged.id,
                    OutboxMessage.slot_key.endswith(":overdue-1"),
                    OutboxMessage.state == "pending",
                )
            ).scalar_one()

    assert overdue_1() == utc(2026, 12, 25, 9)
    outcome = propose(
        world, "alice", changed(world, holiday_calendars={COUNCIL: "GB"}), at=utc(2026, 12, 2, 9)
    )
    agree(world, "carol", outcome.proposal.id, at=utc(2026, 12, 2, 9))
    assert overdue_1() == utc(2026, 12, 29, 9)


# --- the form and the Block Kit ----------------------------------------------------------------


def test_every_builder_passes_the_block_kit_schema(world):
    engine, p = world["engine"], world["p"]
    members = list_members(engine, partnership_id=p.id)
    assert_valid_view(
        blocks.setup_modal(
            name="housing",
            tz="Europe/Oslo",
            charter=domain.DEFAULT_CHARTER,
            members=members,
            channel_id="C0PARTNER",
        )
    )
    assert_valid_blocks(
        blocks.charter_message(
            domain.DEFAULT_CHARTER, partnership_id=p.id, name="housing", tz="UTC"
        )["blocks"]
    )
    first = founded(world, CharterSettings(holiday_calendars={TRUST: "GB"}))
    assert_valid_blocks(
        blocks.charter_message(first, partnership_id=p.id, name="<!channel>", tz="UTC")["blocks"]
    )
    assert_valid_view(
        blocks.propose_modal(charter=first, organisations=[COUNCIL, TRUST], partnership_id=p.id)
    )
    outcome = propose(world, "alice", replace(first.draft, purpose="New <!here> purpose"))
    message = blocks.proposal_message(outcome.proposal)
    assert_valid_blocks(message["blocks"])
    assert "<!here>" not in str(message["blocks"])  # partners' text never pings anyone
    assert "Agree" in str(message["blocks"])
    done = agree(world, "carol", outcome.proposal.id)
    adopted = blocks.proposal_message(done.proposal)
    assert_valid_blocks(adopted["blocks"])
    assert "Adopted as version 2" in str(adopted["blocks"])
    assert not [b for b in adopted["blocks"] if b["type"] == "actions"]
    history = blocks.history_message(
        domain.history(engine, partnership_id=p.id), name="housing", tz="UTC"
    )
    assert_valid_blocks(history["blocks"])


def test_the_setup_modal_prefills_the_defaults_and_lists_the_organisations(world):
    engine, p = world["engine"], world["p"]
    view = blocks.setup_modal(
        name="housing",
        tz="Europe/London",
        charter=domain.DEFAULT_CHARTER,
        members=list_members(engine, partnership_id=p.id),
        channel_id="C0PARTNER",
    )
    by_id = {b["block_id"]: b for b in view["blocks"] if "block_id" in b}
    assert by_id[blocks.COFFEE_EVERY[0]]["element"]["initial_option"]["value"] == "2"
    assert by_id[blocks.SUMMARY_TIME[0]]["element"]["initial_time"] == "09:00"
    assert by_id[blocks.KEPT_TARGET[0]]["element"]["initial_value"] == "85"
    assert by_id[blocks.REVIEW_EVERY[0]]["element"]["initial_option"]["value"] == "3"
    assert len(by_id[blocks.COURSE_CORRECTION[0]]["element"]["initial_options"]) == 1
    assert f"*{COUNCIL}*: Alice, Bob" in str(view["blocks"])
    holidays = by_id[blocks.HOLIDAYS[0]]["element"]["initial_value"]
    assert holidays.splitlines() == [f"{COUNCIL}: ", f"{TRUST}: "]


def test_holiday_lines_are_read_and_bad_ones_named():
    errors: dict[str, str] = {}
    assert read_calendars(f"{TRUST}: gb\n{COUNCIL}:\n\nCity: IE", errors) == {
        TRUST: "GB",
        "City": "IE",
    }
    assert errors == {}
    read_calendars("Trust GB", errors)
    assert "Line 1" in errors[blocks.HOLIDAYS[0]]
    errors.clear()
    read_calendars("Trust: XX", errors)
    assert "XX" in errors[blocks.HOLIDAYS[0]]


def test_the_form_refuses_each_bad_field_by_name():
    values = {
        blocks.COFFEE_EVERY[0]: {"weeks": {"selected_option": {"value": "9"}}},
        blocks.COFFEE_DAY[0]: {"weekday": {"selected_option": {"value": "1"}}},
        blocks.COFFEE_TIME[0]: {"time": {"selected_time": "10:00"}},
        blocks.REVIEW_EVERY[0]: {"months": {"selected_option": {"value": "3"}}},
        blocks.SUMMARY_DAY[0]: {"weekday": {"selected_option": {"value": "0"}}},
        blocks.SUMMARY_TIME[0]: {"time": {"selected_time": None}},
        blocks.FIRST_REVIEW[0]: {"date": {"selected_date": "2020-01-01"}},
        blocks.KEPT_TARGET[0]: {"percent": {"value": "150"}},
        blocks.VISIBILITY[0]: {"visibility": {"selected_option": {"value": "organisation"}}},
        blocks.WORKING_DAYS[0]: {"days": {"selected_options": []}},
        blocks.DAY_START[0]: {"time": {"selected_time": "17:00"}},
        blocks.DAY_END[0]: {"time": {"selected_time": "09:00"}},
    }
    errors: dict[str, str] = {}
    assert read_draft(values, domain.DEFAULT_CHARTER, tz="UTC", now=SETUP_AT, errors=errors) is None
    assert set(errors) == {
        blocks.COFFEE_EVERY[0],
        blocks.SUMMARY_TIME[0],
        blocks.FIRST_REVIEW[0],
        blocks.KEPT_TARGET[0],
        blocks.WORKING_DAYS[0],
        blocks.DAY_END[0],
    }
