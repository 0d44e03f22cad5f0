"""Command line: argument parsing, dispatch and exit codes. Output lives in console.py."""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

COMMON = (
    "root",
    "bucket",
    "prefix",
    "endpoint_url",
    "region",
    "profile",
    "concurrency",
    "multipart_threshold",
    "multipart_chunksize",
    "bwlimit",
)


APP_COMMANDS = ("tui", "demo", "web")
EXIT_CODES = """exit status:
  0    clean: everything in sync or synced
  1    finished with errors or unresolved conflicts (each is listed)
  2    bad usage or configuration (unknown actor, no bucket, bad option)
  130  cancelled (Ctrl-C; a second Ctrl-C aborts at once)
  141  stdout's reader went away (| head), as the shell reports for git: nothing printed"""
SETTINGS = """settings: flags beat TRAINSYNC_* variables (TRAINSYNC_BUCKET, TRAINSYNC_ROOT,
...) beat <root>/trainsync.toml beat the user's trainsync.toml; AWS credentials come from
boto3's usual chain (environment, profile, instance role)."""


def _common(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "where the data is (flags beat TRAINSYNC_* variables and trainsync.toml)"
    )
    group.add_argument(
        "--root", metavar="DIR", help="folder holding data/actors/ (default: TRAINSYNC_ROOT or .)"
    )
    group.add_argument(
        "--bucket", help="S3 bucket (default: TRAINSYNC_BUCKET or bucket in trainsync.toml)"
    )
    group.add_argument(
        "--prefix",
        metavar="TEMPLATE",
        help="S3 prefix template (default: actors/{actor_name}/training_data/)",
    )
    group.add_argument(
        "--endpoint-url",
        metavar="URL",
        help="S3-compatible endpoint: MinIO, Ceph, R2... (default: AWS S3)",
    )
    group.add_argument(
        "--region", help="AWS region (default: AWS_DEFAULT_REGION or the profile's region)"
    )
    group.add_argument("--profile", help="AWS profile (default: AWS_PROFILE or the default one)")
    group.add_argument("--concurrency", type=int, metavar="N", help="parallel transfers (16)")
    # Sizes as the AWS CLI reads them: 8388608, 8MB, 8MiB (the same).
    group.add_argument("--multipart-threshold", metavar="SIZE", help="multipart from (8MB)")
    group.add_argument("--multipart-chunksize", metavar="SIZE", help="multipart part size (8MB)")
    group.add_argument(
        "--bwlimit",
        metavar="RATE",
        help="bandwidth limit, rclone's form: 50M, 10M:100M (up:down), '08:00,20M 20:00,off'",
    )
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks and what warnings leave out"
    )


def _actor_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "actor",
        nargs="*",
        metavar="[ACTOR_ID] ACTOR_NAME",
        help="the actor, e.g. 0042 0042_european_30_male (the id is optional)",
    )
    parser.add_argument("--all", action="store_true", help="every actor found locally or in S3")
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object on stdout (default: text)"
    )
    parser.add_argument(
        "--verify", action="store_true", help="re-hash every file (default: use the hash cache)"
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="a line per file (default: a summary)"
    )


class _Parser(argparse.ArgumentParser):
    """Usage errors are one line, like every other error (subcommand parsers inherit this)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"trainsync: {message} (see: {self.prog} --help)\n")


def _server_args(parser: argparse.ArgumentParser, port: int) -> None:
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    parser.add_argument("--port", type=int, default=port, help=f"port (default: {port})")
    parser.add_argument(
        "--token",
        help="bearer token every request must carry; required off loopback "
        "(default: TRAINSYNC_API_TOKEN, else none)",
    )


def build_parser() -> argparse.ArgumentParser:
    from trainsync_tui import __version__

    parser = _Parser(
        prog="trainsync",
        description="Keep training data in line across local files, the manifest and S3. "
        "With no command, opens the app.",
        epilog=f"{SETTINGS}\n\n{EXIT_CODES}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"trainsync {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sync = sub.add_parser("sync", help="audit an actor and bring it in line")
    _actor_args(sync)
    sync.add_argument(
        "--dry-run", action="store_true", help="plan and report, change nothing (default: off)"
    )
    sync.add_argument(
        "--delete-orphans",
        action="store_true",
        help="delete (to trash) files and objects not in the manifest instead of adopting "
        "them (default: adopt)",
    )
    sync.add_argument(
        "--conflict",
        choices=["skip", "local", "s3", "newer", "keep-both"],
        default="skip",
        help="how to resolve conflicts (default: skip and report)",
    )
    sync.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="GLOB",
        help="sync only matching paths or folders (repeatable; default: everything)",
    )
    sync.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="GLOB",
        help="leave matching paths or folders alone (repeatable; default: none)",
    )
    sync.add_argument(
        "--direction",
        choices=["up", "down", "both"],
        default="both",
        help="up: only change S3, down: only change local files (default: both)",
    )
    sync.add_argument(
        "--max-delete",
        metavar="SHARE",
        help="largest share of an actor's files a sync may delete (default: 50%%)",
    )
    sync.add_argument(
        "--force", action="store_true", help="pass the delete guard (default: refuse)"
    )
    sync.add_argument(
        "--wait",
        action="store_true",
        help="wait for another sync of the actor instead of refusing (default: refuse)",
    )
    sync.add_argument(
        "--no-progress", action="store_true", help="no progress line (default: one on a terminal)"
    )
    _common(sync)

    restore = sub.add_parser(
        "restore",
        help="bring back files a sync moved to the trash",
        description="Bring back files a sync moved to the trash (--delete-orphans, or the "
        "side a conflict resolution overwrote), never over an existing file or object.",
    )
    restore.add_argument("actor", metavar="ACTOR_NAME", help="the actor whose trash to look in")
    restore.add_argument(
        "stamp",
        nargs="?",
        metavar="STAMP",
        help="the run to undo, e.g. 20261201T020304Z (default: list them)",
    )
    restore.add_argument(
        "--latest", action="store_true", help="restore the newest stamp (default: list them)"
    )
    restore.add_argument(
        "--dry-run", action="store_true", help="say what would come back (default: off)"
    )
    restore.add_argument(
        "--json", action="store_true", help="print one JSON object on stdout (default: text)"
    )
    _common(restore)

    audit = sub.add_parser("audit", help="show what sync would do, change nothing")
    _actor_args(audit)
    _common(audit)

    history = sub.add_parser("history", help="past syncs, newest first")
    history.add_argument("actor", nargs="?", help="only this actor (default: every actor)")
    history.add_argument(
        "--json", action="store_true", help="print one JSON list on stdout (default: text)"
    )
    history.add_argument("-n", type=int, default=20, help="how many runs (default: 20)")
    _common(history)

    from trainsync_tui.clean_command import add_clean_parser

    _common(add_clean_parser(sub))

    tui = sub.add_parser("tui", help="open the app")
    tui.add_argument("actor", nargs="?", help="select this actor at start (default: the first)")
    _common(tui)

    serve = sub.add_parser("serve", help="the HTTP API")
    _server_args(serve, 8765)
    _common(serve)

    web = sub.add_parser("web", help="the app in a browser")
    _server_args(web, 8000)
    _common(web)

    demo = sub.add_parser("demo", help="sample actors and an embedded S3, then the app")
    demo.add_argument(
        "--root", metavar="DIR", help="where to create the demo (default: a temp folder)"
    )
    demo.add_argument("--port", type=int, default=0, help="port for the embedded S3 (default: any)")
    demo.add_argument(
        "--no-app", action="store_true", help="set up and keep the S3 running, print how to use it"
    )
    demo.add_argument("--debug", action="store_true", help="show tracebacks (default: off)")

    bench = sub.add_parser("bench", help="measure speed against aws s3 sync, s5cmd and rclone")
    bench.add_argument("args", nargs=argparse.REMAINDER, help="the bench's own options")
    for command in sub.choices.values():  # every command's --help ends with the exit codes
        command.epilog = command.epilog or EXIT_CODES
        command.formatter_class = argparse.RawDescriptionHelpFormatter
    return parser


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    return {name: getattr(args, name, None) for name in COMMON}


def _actor_target(args: argparse.Namespace) -> tuple[str | None, str | None]:
    from trainsync_tui.engine.errors import ConfigError

    if args.all:
        if args.actor:
            raise ConfigError("give either --all or an actor, not both")
        return None, None
    if len(args.actor) == 1:
        return None, args.actor[0]
    if len(args.actor) == 2:
        return args.actor[0], args.actor[1]
    raise ConfigError("give [ACTOR_ID] ACTOR_NAME (e.g. 0042 0042_european_30_male) or --all")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        argv = ["tui", *argv]  # no command opens the app, with the app's options
    from trainsync_tui.console import make_streams_safe

    # The app draws its own screen; for it only what cannot be encoded is replaced.
    make_streams_safe(ascii_tty=argv[0] not in APP_COMMANDS)
    if argv[0] == "bench":
        # argparse.REMAINDER drops a leading option ("bench --quick"): the bench parses its own.
        from trainsync_tui.bench import run_bench

        return run_bench(argv[1:])
    args = parser.parse_args(argv)
    command = args.command
    if getattr(args, "debug", False) and command not in APP_COMMANDS:  # the app owns the screen
        from trainsync_tui.console import show_details

        show_details()
    from trainsync_tui.interrupt import Aborted, exit_aborted

    try:
        from trainsync_tui.s3_wait_notice import s3_wait_notice

        with s3_wait_notice(command not in (*APP_COMMANDS, "serve")):  # stderr: not the app's
            code = _dispatch(command, args)
        sys.stdout.flush()  # here, not at exit, so a reader gone away is seen below
        return code
    except Aborted:
        exit_aborted(getattr(args, "json", False))
    except KeyboardInterrupt:
        print("trainsync: aborted", file=sys.stderr)
        return 130
    except Exception as exc:
        if isinstance(exc, BrokenPipeError) and _stdout_gone():
            return _quiet_epipe()
        if getattr(args, "debug", False):
            raise
        root = _root_of(args) if isinstance(exc, OSError) else None  # its disk's messages
        message, code = _one_line(exc, root)
        if getattr(args, "json", False):
            try:
                print(json.dumps({"error": message}), flush=True)
            except BrokenPipeError:
                _quiet_epipe()  # the failure's own status and line still stand
        print(f"trainsync: {message}", file=sys.stderr)
        return code


# `trainsync audit ... | head -3`: the reader leaving is not an error of ours. git is killed
# by SIGPIPE there and the shell reports 128 + 13 = 141; we exit 141 too (documented under
# "exit status"), silently, after the run's own cleanup has run.
EPIPE_EXIT = 141


def _stdout_gone() -> bool:
    """Whether stdout's reader has gone: a BrokenPipeError from a socket (S3) is an error.
    A pipe with no reader left polls as an error on its write end."""
    import select

    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(flags & select.POLLERR for _, flags in poller.poll(0))
    except (OSError, ValueError):  # no descriptor (a test's capture): not a pipe of ours
        return False


def _quiet_epipe() -> int:
    # Python flushes stdout once more at exit, which would print "Exception ignored ...
    # BrokenPipeError": point the descriptor at /dev/null first (the recipe in Python's
    # signal module documentation, "Note on SIGPIPE").
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return EPIPE_EXIT


def _root_of(args: argparse.Namespace) -> str | None:
    """The root the run used, for a message about its disk; None when it cannot be told."""
    from trainsync_tui.engine.config import load_settings

    try:
        return str(load_settings(_flags(args)).root)
    except Exception:  # the error being reported may be the settings' own
        return None


def _os_error_line(exc: OSError, root: str | None) -> str:
    """A failed write of the disk's own making, as one line with the path and what to do."""
    path = str(exc.filename) if exc.filename else None
    if exc.errno == errno.ENOSPC:
        where = f"{path}: " if path else ""
        under = "" if path or not root else f" (writing under {root})"
        return (
            f"{where}no space left on the device{under}; free some space there, "
            "or use --root on another disk"
        )
    if exc.errno == errno.EROFS:
        return f"{path or root or 'the root'}: read-only file system; {_writes_here(path, root)}"
    if exc.errno in (errno.EACCES, errno.EPERM) and path:
        return (
            f"{path}: permission denied; run trainsync as the user who owns the root, "
            f"or give that user write access (see: ls -ld {path})"
        )
    where = f"{path}: " if path else ""
    return f"{where}{exc.strerror}"


def _writes_here(path: str | None, root: str | None) -> str:
    """Why trainsync writes to a read-only `path`, and the way out."""
    way_out = "remount it read-write, or copy the data to a writable disk and use --root there"
    if path and ".trainsync" in Path(path).parts:
        state = Path(root or "/nowhere", ".trainsync")
        if Path(path) == state or state in Path(path).parents:
            what = "the root's state folder: each actor's lock, the sync history and leases"
        else:
            what = "an actor's work folder: temp files, trash and upload journals"
        return f"it is {what}, so a sync must write there; {way_out}"
    return f"a sync writes its files and state under the root; {way_out}"


def _one_line(exc: Exception, root: str | None = None) -> tuple[str, int]:
    """The message and exit code for anything that ends a run; never a traceback."""
    from trainsync_tui.engine.errors import TrainsyncError

    if isinstance(exc, TrainsyncError):
        return exc.message, exc.exit_code
    if isinstance(exc, OSError) and exc.strerror:
        return _os_error_line(exc, root), 1
    text = str(exc).splitlines()[0] if str(exc) else ""
    detail = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return f"unexpected error ({detail}); run with --debug for the traceback", 1


def _dispatch(command: str, args: argparse.Namespace) -> int:
    if command in ("sync", "audit"):
        from trainsync_tui.commands import run_audit_command, run_sync_command

        target = _actor_target(args)
        if command == "sync":
            return run_sync_command(args, _flags(args), target)
        return run_audit_command(args, _flags(args), target)
    if command == "restore":
        from trainsync_tui.commands import run_restore_command

        return run_restore_command(args, _flags(args))
    if command == "history":
        from trainsync_tui.commands import run_history_command

        return run_history_command(args, _flags(args))
    if command == "clean":
        from trainsync_tui.clean_command import run_clean_command

        return run_clean_command(args, _flags(args))
    if command == "tui":
        from trainsync_tui.app import run_app
        from trainsync_tui.engine.config import load_settings

        return run_app(load_settings(_flags(args)), actor=args.actor)
    if command == "serve":
        from trainsync_tui.engine.config import load_settings
        from trainsync_tui.server import run_server

        return run_server(load_settings(_flags(args)), args.host, args.port, args.token)
    if command == "web":
        from trainsync_tui.engine.config import load_settings
        from trainsync_tui.web import run_web

        return run_web(load_settings(_flags(args)), args.host, args.port, args.token, _flags(args))
    if command == "demo":
        from trainsync_tui.demo import run_demo

        return run_demo(args.root, args.port, open_app=not args.no_app)
    raise AssertionError(command)  # "bench" never gets here: main() hands it its arguments
