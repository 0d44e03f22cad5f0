"""A fleet (--all): one listing for every actor, actors looked at side by side, and an actor
with nothing to write synced without its lock or lease (issue 23)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import World, s3_client
from tests.engine.clitools import one_object
from tests.s3server import S3Server
from trainsync_tui.cli import main
from trainsync_tui.engine.cancel import CancelToken
from trainsync_tui.engine.errors import CancelledSync
from trainsync_tui.engine.local.flock import actor_lock
from trainsync_tui.engine.s3.fleet_listing import start_fleet_listing
from trainsync_tui.engine.s3.listing import scan_remote

IN_SYNC = "0001_in_sync"
NEW_FILE = "0002_new_file"
UPLOADING = "0003_uploading"


def _listed(client: Any, bucket: str, prefixes: list[str], **kwargs: Any) -> dict | None:
    """The fleet listing of `prefixes` below actors/, waited for whole."""
    listing = start_fleet_listing(client, bucket, "actors/", prefixes, **kwargs)
    return None if listing is None else listing.result()


def _actors(world: World, count: int, paths: tuple[str, ...] = ("x.bin",)) -> list[str]:
    """`count` actors a000… in S3, each holding `paths`; their prefixes, in order."""
    names = [f"a{n:03}" for n in range(count)]
    for name in names:
        for path in paths:
            world.s3.put_object(Bucket=world.bucket, Key=world.key(name, path), Body=b"x")
    return [world.key(name, "") for name in names]


def _sync_all(world: World, capsys) -> tuple[int, dict]:
    code = main(["sync", "--all", "--json", "--no-progress", *world.cli_flags()])
    return code, one_object(capsys.readouterr().out)


def test_an_actor_in_sync_needs_no_lock_and_one_with_work_still_takes_it(
    world: World, capsys
) -> None:
    for actor in (IN_SYNC, NEW_FILE, UPLOADING):
        world.put_local(actor, "a.bin", actor.encode())
    assert _sync_all(world, capsys)[0] == 0
    world.put_local(NEW_FILE, "b.bin", b"new")
    # A killed run's unfinished upload: cleaning it up writes, so that needs the lease too.
    world.s3.create_multipart_upload(Bucket=world.bucket, Key=world.key(UPLOADING, "c.bin"))

    state = world.root / ".trainsync"
    with (
        actor_lock(state, IN_SYNC, "the test holder"),
        actor_lock(state, NEW_FILE, "the test holder"),
        actor_lock(state, UPLOADING, "the test holder"),
    ):
        code, reports = _sync_all(world, capsys)

    assert list(reports) == [IN_SYNC, NEW_FILE, UPLOADING]  # the order of the actors
    assert reports[IN_SYNC]["errors"] == [] and reports[IN_SYNC]["in_sync"] == 1
    for busy in (NEW_FILE, UPLOADING):
        assert "already being synced by the test holder" in reports[busy]["errors"][0]
    assert code == 1
    assert world.s3_paths(NEW_FILE) == ["a.bin"]  # nothing written without the lock

    code, reports = _sync_all(world, capsys)
    assert code == 0
    assert reports[NEW_FILE]["uploaded"] == 1
    assert all(r["errors"] == [] for r in reports.values())


def test_audit_all_keeps_the_order_of_the_actors(world: World, capsys) -> None:
    names = [f"{n:04d}_actor" for n in range(7, 0, -1)]
    for name in names:
        world.put_local(name, "a.bin", name.encode())
    world.put_s3(names[0], "only_in_s3.bin", b"s3")

    code = main(["audit", "--all", "--json", *world.cli_flags()])
    summary = one_object(capsys.readouterr().out)

    assert code == 0
    assert list(summary) == sorted(names)
    assert summary[names[0]]["counts"]["downloaded"] == 1
    assert all(summary[n]["counts"]["uploaded"] == 1 for n in names)


def test_the_fleet_listing_gives_each_actor_what_its_own_listing_gives(world: World) -> None:
    # Enough actors for several key ranges; names that are prefixes of each other; keys
    # beside the actors' prefixes (a lease, another folder) that belong to none.
    names = [f"a{n}" for n in range(130)]
    for name in names:
        world.s3.put_object(Bucket=world.bucket, Key=world.key(name, "x.bin"), Body=b"x")
    world.s3.put_object(Bucket=world.bucket, Key=world.key("a1", "deep/y.bin"), Body=b"yy")
    world.s3.put_object(Bucket=world.bucket, Key="actors/a1/training_data.lease.json", Body=b"{}")
    world.s3.put_object(Bucket=world.bucket, Key="actors/a10/other/z.bin", Body=b"z")
    world.s3.put_object(Bucket=world.bucket, Key="actors/a2/training_data/", Body=b"")
    prefixes = [world.key(name, "") for name in names]

    fleet = _listed(world.s3, world.bucket, prefixes, workers=3)

    assert fleet is not None and sorted(fleet) == sorted(prefixes)
    for prefix in prefixes:
        alone = scan_remote(world.s3, world.bucket, prefix)
        assert fleet[prefix].objects == alone.objects, prefix
    assert sorted(fleet[world.key("a1", "")].objects) == ["deep/y.bin", "x.bin"]


def test_the_fleet_listing_refuses_prefixes_it_cannot_share(world: World) -> None:
    nested = ["actors/a/", "actors/a/b/"]
    assert _listed(world.s3, world.bucket, nested) is None
    assert _listed(world.s3, world.bucket, ["elsewhere/a/"]) is None


def test_a_fleet_too_big_to_hold_at_once_is_listed_actor_by_actor(world: World) -> None:
    for name in ("a", "b"):
        for n in range(3):
            world.s3.put_object(Bucket=world.bucket, Key=world.key(name, f"{n}.bin"), Body=b"x")
    prefixes = [world.key("a", ""), world.key("b", "")]
    assert _listed(world.s3, world.bucket, prefixes, max_keys=5) is None
    fleet = _listed(world.s3, world.bucket, prefixes, max_keys=6)
    assert fleet is not None and len(fleet[world.key("b", "")].objects) == 3


def _listed_keys(client: Any) -> list[int]:
    """Keys each ListObjectsV2 answer of `client` held, counted as they come (a botocore
    event on this client alone, so nothing else is listening)."""
    answers: list[int] = []
    client.meta.events.register(
        "after-call.s3.ListObjectsV2",
        lambda parsed, **_: answers.append(len(parsed.get("Contents", ()))),
    )
    return answers


def test_a_key_range_asks_for_about_what_its_actors_hold_not_a_whole_page(
    world: World, s3_server: S3Server
) -> None:
    # Two ranges of 50 actors × 4 keys: after its first page, the first range asks for the
    # 50 keys its last 12 actors should hold (and a margin), not a whole page of 150 of
    # which 100 would be the second range's, listed again there.
    prefixes = _actors(world, 100, ("0.bin", "1.bin", "2.bin", "3.bin"))
    client = s3_client(s3_server.url)
    answers = _listed_keys(client)

    fleet = _listed(client, world.bucket, prefixes, workers=2, page=150)

    assert fleet is not None and all(len(fleet[p].objects) == 4 for p in prefixes)
    assert sum(answers) - 400 <= 40, answers  # a whole second page would list 100 twice


def test_an_actor_far_bigger_than_its_neighbours_costs_a_few_pages(
    world: World, s3_server: S3Server
) -> None:
    prefixes = _actors(world, 100)
    big = prefixes[49]  # the first range's last actor
    for n in range(400):
        world.s3.put_object(Bucket=world.bucket, Key=f"{big}d/{n:03}.bin", Body=b"y")
    client = s3_client(s3_server.url)
    answers = _listed_keys(client)

    fleet = _listed(client, world.bucket, prefixes, workers=2, page=150)

    assert fleet is not None
    assert len(fleet[big].objects) == 401
    assert all(len(fleet[p].objects) == 1 for p in prefixes if p != big)
    assert len(answers) <= 7, answers  # 150, 50, 100, 150 for the first range; one more


def test_each_actor_is_given_its_part_of_a_listing_under_way(world: World) -> None:
    prefixes = _actors(world, 120)

    listing = start_fleet_listing(world.s3, world.bucket, "actors/", prefixes, workers=2, page=25)

    assert listing is not None
    order = listing.order()
    assert sorted(order) == sorted(prefixes)
    assert order[:2] == [prefixes[0], prefixes[60]]  # the first actor of each range first
    for prefix in reversed(prefixes):  # asked in any order, each waits for its own part
        scan = listing.get(prefix)
        assert (
            scan is not None and scan.objects == scan_remote(world.s3, world.bucket, prefix).objects
        )
    assert listing.get("actors/not-one-of-them/") is None
    assert listing.result() == {p: listing.get(p) for p in prefixes}


def test_a_cancelled_fleet_listing_leaves_each_actor_to_list_its_own(world: World) -> None:
    prefixes = _actors(world, 100)
    cancel = CancelToken()
    cancel.cancel()

    listing = start_fleet_listing(
        world.s3, world.bucket, "actors/", prefixes, workers=2, cancel=cancel, page=25
    )

    assert listing is not None
    assert [listing.get(p) for p in prefixes] == [None] * len(prefixes)
    with pytest.raises(CancelledSync):
        listing.result()
