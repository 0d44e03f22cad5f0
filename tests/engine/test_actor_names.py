"""An actor is its NFC name: an NFD folder and an NFC prefix are one actor; two spellings on one
side are refused with one line naming both."""

from __future__ import annotations

import unicodedata

import pytest

from tests.conftest import World
from tests.engine.clitools import counts, one_object
from trainsync_tui.cli import main

NFC = unicodedata.normalize("NFC", "0201_café")
NFD = unicodedata.normalize("NFD", "0201_café")
OTHER = "0042_plain"


def actor_folders(world: World) -> list[str]:
    return sorted(p.name for p in (world.root / "data" / "actors").iterdir())


def sync(world: World, capsys, name: str, *args: str) -> tuple[int, dict, str]:
    code = main(["sync", "0201", name, "--json", *args, *world.cli_flags()])
    out, err = capsys.readouterr()
    return code, one_object(out), err


@pytest.mark.parametrize("typed", [NFC, NFD], ids=["typed in NFC", "typed in NFD"])
def test_an_nfd_folder_and_an_nfc_prefix_are_one_actor_that_syncs(
    world: World, capsys, typed: str
) -> None:
    world.put_local(NFD, "local.bin", b"local")
    world.put_s3(NFC, "remote.bin", b"remote")

    assert world.engine().actor_names() == [NFC]
    code, report, _ = sync(world, capsys, typed)

    assert code == 0, report
    assert (report["uploaded"], report["downloaded"], report["added_to_manifest"]) == (1, 1, 2)
    assert actor_folders(world) == [NFD]  # the folder keeps its spelling on disk
    assert world.read_local(NFD, "remote.bin") == b"remote"
    assert world.s3_keys() == [world.key(NFC, "local.bin"), world.key(NFC, "remote.bin")]
    assert set(world.manifest_md5s(NFD)) == {"local.bin", "remote.bin"}
    assert world.manifest(NFD)["actor_name"] == NFC
    for name in (NFC, NFD):
        again, second, _ = sync(world, capsys, name)
        assert again == 0 and sum(counts(second).values()) == 0, second


def test_the_s3_prefix_keeps_the_spelling_s3_holds(world: World, capsys) -> None:
    world.put_local(NFC, "local.bin", b"local")
    world.put_s3(NFD, "remote.bin", b"remote")

    code, report, _ = sync(world, capsys, NFC)

    assert code == 0, report
    assert world.s3_keys() == [world.key(NFD, "local.bin"), world.key(NFD, "remote.bin")]
    assert world.read_local(NFC, "remote.bin") == b"remote"
    assert actor_folders(world) == [NFC]


def refused_then_skipped(world: World, capsys) -> tuple[str, list[str]]:
    """`sync 0201 <NFC>` over a clash: refused with one line; `sync --all` then syncs the other
    actor only. That line, and the warnings of `--all`."""
    code = main(["sync", "0201", NFC, *world.cli_flags()])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    [line] = err.splitlines()

    code = main(["sync", "--all", "--json", *world.cli_flags()])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert list(one_object(out)) == [OTHER]
    return line, err.splitlines()


def test_two_local_folders_that_clash_are_refused_naming_both(world: World, capsys) -> None:
    world.put_local(NFC, "a.bin", b"composed")
    world.put_local(NFD, "a.bin", b"decomposed")
    world.put_local(OTHER, "b.bin", b"b")

    line, warnings = refused_then_skipped(world, capsys)

    assert "'0201_cafe\\u0301' (NFD) and '0201_caf\\xe9' (NFC)" in line, line
    assert "different Unicode forms" in line and "merge them" in line
    [warning] = [line for line in warnings if "Unicode forms" in line]
    assert "skipped: local folders '0201_cafe\\u0301' (NFD) and" in warning
    assert world.s3_keys() == [world.key(OTHER, "b.bin")]  # nothing of 0201's, by either run
    assert world.read_local(NFC, "a.bin") == b"composed"
    assert world.read_local(NFD, "a.bin") == b"decomposed"


def test_two_s3_prefixes_that_clash_are_refused_naming_both(world: World, capsys) -> None:
    world.put_s3(NFC, "a.bin", b"composed")
    world.put_s3(NFD, "a.bin", b"decomposed")
    world.put_s3(OTHER, "b.bin", b"b")

    line, warnings = refused_then_skipped(world, capsys)

    assert "prefixes 'actors/0201_cafe\\u0301/' (NFD) and 'actors/0201_caf\\xe9/' (NFC)" in line
    assert any("skipped: S3 folders in" in line for line in warnings), warnings
    assert actor_folders(world) == [OTHER]  # nothing of 0201's, by either run


def test_a_manifest_that_names_its_actor_in_nfd_is_that_actor(world: World, capsys) -> None:
    world.write_manifest(NFD, {"a.bin": b"a"})  # as a macOS tool would write it
    assert world.manifest(NFD)["actor_name"] == NFD
    world.put_local(NFD, "a.bin", b"a")
    world.put_local(NFD, "b.bin", b"b")

    code, report, _ = sync(world, capsys, NFC)

    assert code == 0, report
    assert report["uploaded"] == 2 and report["errors"] == []
    assert world.manifest(NFD)["actor_name"] == NFC  # rewritten in the actor's own form


@pytest.mark.parametrize("asked", [NFC, NFD], ids=["asked in NFC", "asked in NFD"])
def test_history_finds_the_actor_in_either_spelling(world: World, capsys, asked: str) -> None:
    world.put_local(NFD, "local.bin", b"local")
    code, _, _ = sync(world, capsys, NFD)
    assert code == 0

    entries = world.engine().history(asked)

    assert [e.actor for e in entries] == [NFC]
