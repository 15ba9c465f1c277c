"""Members, organisations and admins, on both databases; the refresh against the stand-in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.commitments.lifecycle import EventKind, Status
from bot.commitments.service import (
    change_commitment,
    check_allowed,
    ensure_partnership,
    get_commitment,
    history,
    log_commitment,
    save_person,
)
from bot.config import Settings
from bot.partnerships.members import (
    deactivate_member,
    is_admin,
    list_members,
    make_admin,
    member,
    organisations,
    refresh_all_members,
    refresh_members,
    set_coffee,
    set_organisation,
    upsert_member,
)
from bot.refusal import Refusal
from bot.slack_client import SlackDirectory, build_web_client
from tests.saydo_process import BOT_TOKEN

NOW = datetime(2026, 11, 20, 9, tzinfo=UTC)


@pytest.fixture
def world(engine):
    partnership = ensure_partnership(engine, team_id="T0001", channel_id="C0PARTNER")
    other = ensure_partnership(engine, team_id="T0001", channel_id="C0OTHER")

    def person(user_id, team_id="T0001"):
        return save_person(
            engine,
            team_id=team_id,
            user_id=user_id,
            name=user_id[2:].lower(),
            tz="Europe/London",
            locale="en-GB",
            now=NOW,
        )

    alice, bob, carol = person("U0ALICE"), person("U0BOB"), person("U0CAROL", "T0PARTNER")
    return {
        "engine": engine,
        "partnership": partnership,
        "other": other,
        "alice": alice,
        "bob": bob,
        "carol": carol,
    }


def join(world, who, organisation, partnership="partnership"):
    return upsert_member(
        world["engine"],
        partnership_id=world[partnership].id,
        person=world[who],
        organisation=organisation,
        now=NOW,
    )


def test_a_member_joins_active_and_keeps_the_organisation_given_first(world):
    engine, pid = world["engine"], world["partnership"].id
    joined = join(world, "carol", "Northshire NHS Trust")
    assert joined.active and not joined.is_admin
    assert joined.organisation == "Northshire NHS Trust"
    assert joined.person.user_id == "U0CAROL"
    again = join(world, "carol", "Some Other Name")
    assert again.organisation == "Northshire NHS Trust"
    assert len(list_members(engine, partnership_id=pid)) == 1


def test_an_organisation_slack_did_not_name_yet_is_named_when_it_can_be(world):
    engine, pid = world["engine"], world["partnership"].id
    # team.info failed on first sight: the member's organisation is their raw workspace id.
    assert join(world, "carol", "T0PARTNER").organisation == "T0PARTNER"
    assert join(world, "carol", "Northshire NHS Trust").organisation == "Northshire NHS Trust"
    assert organisations(engine, partnership_id=pid) == ["Northshire NHS Trust"]
    # A real name, once known (or chosen by an admin), is never replaced by a refresh.
    assert join(world, "carol", "T0PARTNER").organisation == "Northshire NHS Trust"


def test_leaving_deactivates_and_rejoining_reactivates_with_the_same_organisation(world):
    engine, pid, carol = world["engine"], world["partnership"].id, world["carol"]
    join(world, "carol", "Northshire NHS Trust")
    join(world, "alice", "Saydo Test Council")
    deactivate_member(engine, partnership_id=pid, person_id=carol.id)
    assert [m.person.user_id for m in list_members(engine, partnership_id=pid)] == ["U0ALICE"]
    everyone = list_members(engine, partnership_id=pid, active_only=False)
    assert {m.person.user_id: m.active for m in everyone} == {"U0ALICE": True, "U0CAROL": False}
    assert organisations(engine, partnership_id=pid) == ["Saydo Test Council"]
    back = join(world, "carol", "Renamed Trust")
    assert back.active and back.organisation == "Northshire NHS Trust"
    assert member(engine, partnership_id=pid, person_id=carol.id).active


def test_organisations_are_distinct_sorted_and_per_partnership(world):
    engine = world["engine"]
    join(world, "carol", "northshire NHS Trust")
    join(world, "alice", "Saydo Test Council")
    join(world, "bob", "Saydo Test Council")
    join(world, "bob", "Acme Supplies", partnership="other")
    assert organisations(engine, partnership_id=world["partnership"].id) == [
        "northshire NHS Trust",
        "Saydo Test Council",
    ]
    assert organisations(engine, partnership_id=world["other"].id) == ["Acme Supplies"]
    assert member(engine, partnership_id=world["other"].id, person_id=world["alice"].id) is None


def test_each_workspace_chooses_its_own_admins_the_first_needing_none(world):
    engine, pid = world["engine"], world["partnership"].id
    alice, bob, carol = world["alice"], world["bob"], world["carol"]
    for who in ("alice", "bob", "carol"):
        join(world, who, "Org")
    assert not is_admin(engine, partnership_id=pid, person_id=alice.id)
    first = make_admin(engine, partnership_id=pid, actor_person_id=alice.id, person_id=alice.id)
    assert first.is_admin and is_admin(engine, partnership_id=pid, person_id=alice.id)
    with pytest.raises(Refusal, match=r"Only an admin from your organisation .* ask alice"):
        make_admin(engine, partnership_id=pid, actor_person_id=bob.id, person_id=bob.id)
    assert not is_admin(engine, partnership_id=pid, person_id=bob.id)
    # Slack Connect: Alice's admin rights stop at her own workspace; Carol's chooses its own.
    with pytest.raises(Refusal, match="carol is from another organisation's Slack"):
        make_admin(engine, partnership_id=pid, actor_person_id=alice.id, person_id=carol.id)
    with pytest.raises(Refusal, match="alice is from another organisation's Slack"):
        make_admin(engine, partnership_id=pid, actor_person_id=carol.id, person_id=alice.id)
    assert not is_admin(engine, partnership_id=pid, person_id=carol.id)
    make_admin(engine, partnership_id=pid, actor_person_id=carol.id, person_id=carol.id)
    assert [m.person.user_id for m in list_members(engine, partnership_id=pid) if m.is_admin] == [
        "U0ALICE",
        "U0CAROL",
    ]
    # Admin of one partnership is nobody special in another.
    join(world, "alice", "Org", partnership="other")
    join(world, "bob", "Org", partnership="other")
    make_admin(engine, partnership_id=world["other"].id, actor_person_id=bob.id, person_id=bob.id)
    assert not is_admin(engine, partnership_id=world["other"].id, person_id=alice.id)


def test_only_members_become_admins_and_an_admin_who_left_is_not_one(world):
    engine, pid, alice, bob = world["engine"], world["partnership"].id, world["alice"], world["bob"]
    join(world, "alice", "Org")
    with pytest.raises(Refusal, match="bob isn't a member"):
        make_admin(engine, partnership_id=pid, actor_person_id=alice.id, person_id=bob.id)
    with pytest.raises(Refusal, match="Only members of this partnership's channel"):
        make_admin(engine, partnership_id=pid, actor_person_id=bob.id, person_id=alice.id)
    make_admin(engine, partnership_id=pid, actor_person_id=alice.id, person_id=alice.id)
    deactivate_member(engine, partnership_id=pid, person_id=alice.id)
    assert not is_admin(engine, partnership_id=pid, person_id=alice.id)
    join(world, "bob", "Org")  # with no active admin left, the next one can step up
    assert make_admin(engine, partnership_id=pid, actor_person_id=bob.id, person_id=bob.id).is_admin


def test_only_an_admin_sets_an_organisation_and_it_survives_rejoining(world):
    engine, pid = world["engine"], world["partnership"].id
    alice, bob, carol = world["alice"], world["bob"], world["carol"]
    for who in ("alice", "bob", "carol"):
        join(world, who, "Saydo Test Council" if who != "carol" else "Northshire NHS Trust")
    make_admin(engine, partnership_id=pid, actor_person_id=alice.id, person_id=alice.id)
    with pytest.raises(Refusal, match=r"Only an admin from bob's own .*; ask alice\."):
        set_organisation(
            engine, partnership_id=pid, actor_person_id=bob.id, person_id=bob.id, organisation="X"
        )
    # Slack Connect: only an admin from Carol's own workspace renames her organisation.
    with pytest.raises(Refusal, match=r"from carol's own .*choose one with `/saydo admin`"):
        set_organisation(
            engine,
            partnership_id=pid,
            actor_person_id=alice.id,
            person_id=carol.id,
            organisation="X",
        )
    assert member(engine, partnership_id=pid, person_id=carol.id).organisation == (
        "Northshire NHS Trust"
    )
    make_admin(engine, partnership_id=pid, actor_person_id=carol.id, person_id=carol.id)
    for bad, message in (("   ", "give the organisation"), ("x" * 101, "under 100")):
        with pytest.raises(Refusal, match=message):
            set_organisation(
                engine,
                partnership_id=pid,
                actor_person_id=carol.id,
                person_id=carol.id,
                organisation=bad,
            )
    changed = set_organisation(
        engine,
        partnership_id=pid,
        actor_person_id=carol.id,
        person_id=carol.id,
        organisation="  Northshire   Integrated Care Board ",
    )
    assert changed.organisation == "Northshire Integrated Care Board"
    deactivate_member(engine, partnership_id=pid, person_id=carol.id)
    assert join(world, "carol", "Northshire NHS Trust").organisation == (
        "Northshire Integrated Care Board"
    )
    assert (
        set_organisation(
            engine,
            partnership_id=pid,
            actor_person_id=alice.id,
            person_id=bob.id,
            organisation="x" * 100,
        ).organisation
        == "x" * 100
    )


def test_coffee_preferences_change_only_what_is_given(world):
    engine, pid, carol = world["engine"], world["partnership"].id, world["carol"]
    join(world, "carol", "Org")
    until = NOW + timedelta(days=14)
    view = set_coffee(engine, partnership_id=pid, person_id=carol.id, paused_until=until)
    assert view.coffee_paused_until == until and not view.coffee_opt_out
    view = set_coffee(engine, partnership_id=pid, person_id=carol.id, opt_out=True)
    assert view.coffee_opt_out and view.coffee_paused_until == until
    view = set_coffee(engine, partnership_id=pid, person_id=carol.id, paused_until=None)
    assert view.coffee_paused_until is None and view.coffee_opt_out
    with pytest.raises(Refusal):
        set_coffee(engine, partnership_id=pid, person_id=world["bob"].id, opt_out=True)


# --- admins and commitments ---------------------------------------------------------------


def _bobs_commitment(world):
    bob = world["bob"]
    return log_commitment(
        world["engine"],
        partnership=world["partnership"],
        creator=bob,
        owner=bob,
        recipient=None,
        title="send the budget",
        due_at=NOW + timedelta(days=7),
        has_time=False,
        now=NOW,
    ).commitment


def test_an_admin_delivers_moves_and_withdraws_for_the_owner_and_history_shows_the_admin(world):
    engine, pid, alice = world["engine"], world["partnership"].id, world["alice"]
    commitment = _bobs_commitment(world)
    join(world, "alice", "Org")
    make_admin(engine, partnership_id=pid, actor_person_id=alice.id, person_id=alice.id)
    check_allowed(engine, commitment, user_id="U0ALICE", kind=EventKind.DELIVERED)
    delivered = change_commitment(
        engine,
        team_id="T0001",
        ref=commitment.ref,
        actor=alice,
        kind=EventKind.DELIVERED,
        now=NOW + timedelta(days=1),
        note="sent for Bob",
    )
    assert delivered.status == Status.DELIVERED
    events = history(engine, commitment_id=commitment.id)
    assert [(e.kind, e.actor.user_id) for e in events] == [
        (EventKind.CREATED, "U0BOB"),
        (EventKind.DELIVERED, "U0ALICE"),
    ]
    change_commitment(
        engine,
        team_id="T0001",
        ref=commitment.ref,
        actor=alice,
        kind=EventKind.REOPENED,
        now=NOW + timedelta(days=1, hours=1),
    )
    moved = change_commitment(
        engine,
        team_id="T0001",
        ref=commitment.ref,
        actor=alice,
        kind=EventKind.MOVED,
        now=NOW + timedelta(days=1, hours=2),
        due_at=NOW + timedelta(days=10),
    )
    assert moved.due_at == NOW + timedelta(days=10)
    withdrawn = change_commitment(
        engine,
        team_id="T0001",
        ref=commitment.ref,
        actor=alice,
        kind=EventKind.WITHDRAWN,
        now=NOW + timedelta(days=1, hours=3),
    )
    assert withdrawn.status == Status.WITHDRAWN
    assert get_commitment(engine, commitment_id=commitment.id).status == Status.WITHDRAWN


def test_a_plain_member_an_admin_elsewhere_or_from_another_workspace_is_refused(world):
    engine, pid, alice, carol = (
        world["engine"],
        world["partnership"].id,
        world["alice"],
        world["carol"],
    )
    commitment = _bobs_commitment(world)
    join(world, "alice", "Org")  # a member here, but not an admin here ...
    join(world, "alice", "Org", partnership="other")  # ... only in another partnership
    make_admin(
        engine, partnership_id=world["other"].id, actor_person_id=alice.id, person_id=alice.id
    )
    join(world, "carol", "Northshire")  # an admin here, but from the partner's workspace
    make_admin(engine, partnership_id=pid, actor_person_id=carol.id, person_id=carol.id)
    for actor in (alice, carol):
        with pytest.raises(Refusal, match=r"Only bob can mark this commitment delivered\."):
            change_commitment(
                engine,
                team_id="T0001",
                ref=commitment.ref,
                actor=actor,
                kind=EventKind.DELIVERED,
                now=NOW + timedelta(days=1),
            )
        with pytest.raises(Refusal, match="Only bob can change the date"):
            check_allowed(engine, commitment, user_id=actor.user_id, kind=EventKind.MOVED)
    assert get_commitment(engine, commitment_id=commitment.id).status == Status.OPEN


def test_an_admin_cannot_accept_for_the_owner(world):
    engine, pid, alice, bob = world["engine"], world["partnership"].id, world["alice"], world["bob"]
    proposal = log_commitment(
        engine,
        partnership=world["partnership"],
        creator=alice,
        owner=bob,
        recipient=None,
        title="review the plan",
        due_at=NOW + timedelta(days=7),
        has_time=False,
        now=NOW,
    ).commitment
    join(world, "alice", "Org")
    make_admin(engine, partnership_id=pid, actor_person_id=alice.id, person_id=alice.id)
    with pytest.raises(Refusal, match="Only bob can accept"):
        change_commitment(
            engine,
            team_id="T0001",
            ref=proposal.ref,
            actor=alice,
            kind=EventKind.ACCEPTED,
            now=NOW + timedelta(hours=1),
        )
    # Accepting is the owner's alone, admin or not; so is delivering a proposal.
    with pytest.raises(Refusal, match="only a proposal"):
        check_allowed(engine, proposal, user_id="U0ALICE", kind=EventKind.DELIVERED)


# --- the refresh, against the stand-in ----------------------------------------------------


@pytest.fixture
def directory(people):
    """Slack's directory as the running app has it (a fresh cache of workspace names)."""
    return SlackDirectory(build_web_client(Settings(bot_token=BOT_TOKEN, slack_api_url=people.url)))


def test_the_refresh_adds_humans_in_their_own_organisation_and_retires_leavers(
    engine, people, directory
):
    partnership = ensure_partnership(engine, team_id="T0001", channel_id="C0PARTNER")
    refreshed = refresh_members(engine, directory, partnership=partnership, now=NOW)
    assert (refreshed.active, refreshed.deactivated) == (3, 0)
    found = {
        m.person.user_id: m.organisation
        for m in list_members(engine, partnership_id=partnership.id)
    }
    assert found == {
        "U0ALICE": "Saydo Test Council",
        "U0BOB": "Saydo Test Council",
        "U0CAROL": "Northshire NHS Trust",
    }
    people.add_channel(
        "C0PARTNER", name="housing-partnership", members=["U0ALICE", "U0CAROL", "UBOT"]
    )
    refreshed = refresh_members(engine, directory, partnership=partnership, now=NOW)
    assert (refreshed.active, refreshed.deactivated) == (2, 1)
    assert [m.person.user_id for m in list_members(engine, partnership_id=partnership.id)] == [
        "U0ALICE",
        "U0CAROL",
    ]
    # Workspace names are asked once per workspace, not once per person or refresh.
    asked = sorted(c.args.get("team") for c in people.calls_to("team.info"))
    assert asked == ["T0001", "T0PARTNER"]


def test_the_refresh_reads_every_page_and_skips_bots(engine, people, directory):
    people.add_user("U0BOTTY", name="reminder-bot", is_bot=True)
    pages = {
        "": {"members": ["U0ALICE", "U0BOTTY"], "response_metadata": {"next_cursor": "page2"}},
        "page2": {"members": ["U0CAROL"], "response_metadata": {"next_cursor": ""}},
    }
    people.set_answer("conversations.members", lambda args: pages[args.get("cursor") or ""])
    partnership = ensure_partnership(engine, team_id="T0001", channel_id="C0PARTNER")
    refresh_members(engine, directory, partnership=partnership, now=NOW)
    assert [m.person.user_id for m in list_members(engine, partnership_id=partnership.id)] == [
        "U0ALICE",
        "U0CAROL",
    ]
    assert [c.args.get("cursor") for c in people.calls_to("conversations.members")] == [
        None,
        "page2",
    ]


def test_a_failing_channel_deactivates_nobody_and_the_sweep_goes_on(engine, people, directory):
    people.add_channel("C0SECOND", name="second", members=["U0BOB", "UBOT"])
    first = ensure_partnership(engine, team_id="T0001", channel_id="C0PARTNER")
    second = ensure_partnership(engine, team_id="T0001", channel_id="C0SECOND")
    refresh_all_members(engine, lambda _channel: directory, now=NOW)
    assert len(list_members(engine, partnership_id=first.id)) == 3
    people.set_answer(
        "conversations.members",
        lambda args: (
            {"ok": False, "error": "not_in_channel"}
            if args.get("channel") == "C0PARTNER"
            else {"members": ["UBOT"], "response_metadata": {"next_cursor": ""}}
        ),
    )
    done = refresh_all_members(engine, lambda _channel: directory, now=NOW)
    assert [r.partnership.channel_id for r in done] == ["C0SECOND"]
    assert len(list_members(engine, partnership_id=first.id)) == 3
    assert list_members(engine, partnership_id=second.id) == []
