"""Human output: progress only on a terminal, -v lines, and never a traceback without --debug."""

from __future__ import annotations

import io

import pytest

from tests.conftest import World
from tests.engine.clitools import ACTOR, one_object
from trainsync_tui.cli import main
from trainsync_tui.console import ConsoleSink
from trainsync_tui.engine.events import FileDone, FileFailed, Message, Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def feed(sink: ConsoleSink) -> None:
    sink(Progress(ACTOR, 1, 2, 10, 20, 1.0))
    sink(FileDone(ACTOR, "a.bin", "upload", 10, "uploaded: a.bin"))
    sink(FileFailed(ACTOR, "b.bin", "upload", "S3 said no"))
    sink(Message(ACTOR, "info", "a note"))
    sink.finish()


def test_progress_line_is_drawn_only_on_a_terminal() -> None:
    tty = Terminal()
    feed(ConsoleSink(verbose=False, progress=True, stream=tty))
    assert "\r\x1b[K" in tty.getvalue() and "1/2 files" in tty.getvalue()
    assert "error: 0042_european_30_male: b.bin: S3 said no" in tty.getvalue()

    pipe = io.StringIO()
    feed(ConsoleSink(verbose=False, progress=True, stream=pipe))
    assert pipe.getvalue() == "error: 0042_european_30_male: b.bin: S3 said no\n"


def test_verbose_adds_a_line_per_file_and_info_messages() -> None:
    pipe = io.StringIO()
    feed(ConsoleSink(verbose=True, progress=False, stream=pipe))
    lines = pipe.getvalue().splitlines()
    assert lines == [
        f"{ACTOR}: uploaded: a.bin",
        f"error: {ACTOR}: b.bin: S3 said no",
        f"info: {ACTOR}: a note",
    ]


def test_an_unexpected_os_error_is_one_line_without_traceback(world: World, capsys) -> None:
    (world.root / ".trainsync").write_text("not a folder")  # where locks would go
    world.put_local(ACTOR, "a.bin", b"a")
    code = main(["sync", ACTOR, "--json", *world.cli_flags()])
    out, err = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in err
    assert err.strip().splitlines() == [
        f"trainsync: {world.root}/.trainsync/locks: Not a directory"
    ]
    assert "Not a directory" in one_object(out)["error"]


def test_human_report_lists_conflicts_and_errors(world: World, capsys) -> None:
    world.put_local(ACTOR, "c.bin", b"local")
    world.put_s3(ACTOR, "c.bin", b"remote")
    world.put_s3(ACTOR, "", b"x", key=f"actors/{ACTOR}/training_data/../evil")
    code = main(["sync", ACTOR, *world.cli_flags()])
    out, err = capsys.readouterr()
    assert code == 1
    assert f"{ACTOR}: nothing changed (2 problems below)" in out
    assert "conflict: c.bin" in out and "resolve with --conflict" in out
    assert "error: ../evil: S3 key refused" in out
    assert "Traceback" not in out + err


def test_an_unknown_actor_is_a_usage_error_not_a_sync(world: World, capsys) -> None:
    for command in ("sync", "audit"):
        code = main([command, "0042_typo", *world.cli_flags()])
        out, err = capsys.readouterr()
        assert code == 2 and out == ""
        assert err.startswith("trainsync: unknown actor '0042_typo': no folder")
        assert len(err.splitlines()) == 1
    assert not (world.root / ".trainsync" / "locks" / "0042_typo.lock").exists()
    code = main(["sync", "0042_typo", "--json", *world.cli_flags()])
    assert code == 2 and "unknown actor" in one_object(capsys.readouterr().out)["error"]


def test_an_actor_folder_without_files_is_said_so(world: World, capsys) -> None:
    world.actor_dir("0042_empty").mkdir(parents=True)
    code = main(["sync", "0042_empty", *world.cli_flags()])
    assert code == 0 and "no files found for this actor" in capsys.readouterr().out
    (world.root / "empty").mkdir()
    code = main(
        [
            "sync",
            "--all",
            "--bucket",
            world.bucket,
            "--root",
            str(world.root / "empty"),
            "--endpoint-url",
            world.url,
        ]
    )
    assert code == 0 and "no actors found" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["sync", ACTOR, "--conflict", "bogus"], "invalid choice: 'bogus'"),
        (["sync", ACTOR, "--direction", "sideways"], "invalid choice: 'sideways'"),
        (["sync", ACTOR, "--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(argv: list[str], says: str, capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    out, err = capsys.readouterr()
    assert exited.value.code == 2 and out == ""
    assert err.startswith("trainsync: ") and says in err
    assert len(err.splitlines()) == 1


def test_the_summary_says_how_much_was_resumed_of_what_moved_either_way() -> None:
    from trainsync_tui.console import print_report
    from trainsync_tui.engine.run.report import SyncReport

    report = SyncReport(ACTOR, "0001", bytes_uploaded=50 * 2**20, bytes_resumed=30 * 2**20)
    report.add("uploaded")
    out = io.StringIO()

    print_report(report, out)

    # An upload resumed: not "of 0 B downloaded", as it said when only downloads resumed.
    assert "  resumed 30.0 MiB of the 50.0 MiB moved (kept from an interrupted run)" in (
        out.getvalue()
    )
