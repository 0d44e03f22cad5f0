"""Human output for the CLI: a throttled progress line on a TTY, log lines, summaries."""

from __future__ import annotations

import codecs
import logging
import os
import sys
import threading
from typing import TYPE_CHECKING, TextIO

import humanize

from trainsync_tui.engine.events import (
    Event,
    FileDone,
    FileFailed,
    Message,
    Progress,
    ProgressThrottle,
    ScanProgress,
)
from trainsync_tui.engine.plan.counts import COUNT_KEYS, COUNT_LABELS
from trainsync_tui.engine.run.report import SyncReport, plural

if TYPE_CHECKING:
    from trainsync_tui.engine.run.restore import RestoreReport, TrashStamp

# Our own punctuation, as ASCII for a terminal that cannot show it; anything else that a
# stream cannot encode (a file name) is written as a backslash escape, never an exception.
ASCII_FOR = {"…": "...", "—": "-", "–": "-", "→": "->", "×": "x", "✓": "ok", "≥": ">=", "≤": "<="}
_ERRORS = "trainsync-ascii"


def _ascii_fallback(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    text = exc.object[exc.start : exc.end]
    return "".join(
        ASCII_FOR.get(c) or c.encode("ascii", "backslashreplace").decode() for c in text
    ), exc.end


codecs.register_error(_ERRORS, _ascii_fallback)


def c_locale_terminal() -> bool:
    """True when Python turned UTF-8 mode on by itself because the locale is C or POSIX
    (PEP 540): the terminal then shows ASCII only, though Python would write UTF-8."""
    forced = "PYTHONUTF8" in os.environ or "utf8" in sys._xoptions
    return bool(sys.flags.utf8_mode) and not forced


def make_streams_safe(*, ascii_tty: bool = True) -> None:
    """Output never fails on the terminal's encoding: characters stdout/stderr cannot encode
    get ASCII stand-ins. With `ascii_tty`, a terminal under the C locale gets ASCII too."""
    to_ascii = ascii_tty and c_locale_terminal()
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None:
            continue
        if to_ascii and stream.isatty():
            stream.flush()
            reconfigure(encoding="ascii", errors=_ERRORS)
        else:
            reconfigure(errors=_ERRORS)


def size(n: int) -> str:
    return humanize.naturalsize(n, binary=True)


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    return humanize.precisedelta(seconds, minimum_unit="seconds", format="%0.0f")


class ConsoleSink:
    """Turns engine events into stderr output; progress redraws at most 5 times a second
    (the engine's ProgressThrottle, which the API's stream uses too)."""

    def __init__(self, *, verbose: bool, progress: bool, stream: TextIO | None = None) -> None:
        # Looked up per call, not bound at import, so a redirected stderr is honoured.
        stream = sys.stderr if stream is None else stream
        self.verbose = verbose
        self.progress = progress and stream.isatty()
        self.stream = stream
        self._lock = threading.Lock()
        self._line = False
        self._muted = False
        self._throttle = ProgressThrottle(self._show, interval=0.2)

    def __call__(self, event: Event) -> None:
        self._throttle(event)

    def _show(self, event: Event) -> None:
        with self._lock:
            if self._muted:
                return
            if isinstance(event, Progress):
                self._draw(self._progress_text(event))
            elif isinstance(event, ScanProgress) and event.source in ("hash", "s3"):
                what = "hashing" if event.source == "hash" else "listing S3"
                detail = f"{event.done}/{event.total}" if event.total else f"{event.done}"
                self._draw(f"{event.actor}: {what} {detail}")
            elif isinstance(event, FileFailed):
                self._print(f"error: {event.actor}: {event.path}: {event.error}")
            elif isinstance(event, FileDone) and self.verbose:
                self._print(f"{event.actor}: {event.message}")
            elif isinstance(event, Message) and (self.verbose or event.level != "info"):
                self._print(f"{event.level}: {event.actor}: {event.text}")

    def _progress_text(self, p: Progress) -> str:
        eta = f", ETA {duration(p.eta)}" if p.eta is not None else ""
        return (
            f"{p.actor}: {p.files_done}/{p.files_total} files, "
            f"{size(p.bytes_done)}/{size(p.bytes_total)} at {size(int(p.rate))}/s{eta}"
        )

    def _draw(self, text: str) -> None:
        if not self.progress:
            return
        self.stream.write("\r\x1b[K" + text[:200])
        self.stream.flush()
        self._line = True

    def _print(self, text: str) -> None:
        if self._line:
            self.stream.write("\r\x1b[K")
            self._line = False
        self.stream.write(text + "\n")
        self.stream.flush()

    def mute(self) -> None:
        """Nothing more from a run the user has given up on (a second Ctrl-C)."""
        with self._lock:
            self._muted = True

    def finish(self) -> None:
        with self._lock:
            if self._line:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
                self._line = False


def show_details(stream: TextIO | None = None) -> None:
    """--debug: what a warning left out to stay one line, as "detail:" lines on stderr."""
    from trainsync_tui.engine.s3.conditions import detail_log

    handler = logging.StreamHandler(sys.stderr if stream is None else stream)
    handler.setFormatter(logging.Formatter("detail: %(message)s"))
    detail_log.addHandler(handler)
    detail_log.setLevel(logging.DEBUG)
    detail_log.propagate = False


def warn(text: str, stream: TextIO | None = None) -> None:
    """A warning line on stderr that does not stop the run."""
    stream = sys.stderr if stream is None else stream
    stream.write(f"warning: {text}\n")
    stream.flush()


def print_report(report: SyncReport, stream: TextIO | None = None) -> None:
    """The end-of-sync summary a person reads."""
    stream = sys.stdout if stream is None else stream
    counts = report.counts.to_json()
    changes = [f"{counts[k]:,} {COUNT_LABELS[k]}" for k in COUNT_KEYS if counts.get(k)]
    moved = report.bytes_uploaded + report.bytes_downloaded
    problems = len(report.errors) + len(report.conflicts)
    head = "dry run — would have: " if report.dry_run else "done: "
    if report.cancelled:
        line = (
            f"cancelled — finished before the cancel: {', '.join(changes)}"
            if changes
            else "cancelled before any change"
        )
        if report.kept:  # "no change" must not read as "nothing happened": the next run resumes
            line += f"; {report.kept.text()}"
    elif changes:
        line = head + ", ".join(changes)
    elif problems:
        # "nothing to do" would read as "in sync" when a manifest error or the guard stopped it.
        line = f"nothing changed ({plural(problems, 'problem')} below)"
        if report.dry_run:
            line = head + line
    else:
        line = head + "nothing to do"
        if not report.total_files:
            # Most often a mistyped --prefix or an empty actor folder: say so, not "in sync".
            line += " (no files found for this actor locally, in S3 or in its manifest)"
    stream.write(
        f"{report.actor_name}: {line}"
        + (f" ({size(moved)} in {duration(report.duration)})" if moved else "")
        + "\n"
    )
    if report.bytes_resumed:
        # Uploads and downloads both resume; the moved bytes count what was kept too.
        done, total = size(report.bytes_resumed), size(moved)
        stream.write(f"  resumed {done} of the {total} moved (kept from an interrupted run)\n")
    for conflict in report.conflicts:
        stream.write(
            f"  conflict: {conflict.path} (local {conflict.local.md5[:8]}, "
            f"S3 {(conflict.remote.md5 or 'unknown')[:8]}); resolve with --conflict\n"
        )
    for path in report.unverified[:20]:
        stream.write(f"  unverified: {path} (S3 gives no MD5; no part size matches its ETag)\n")
    if report.dry_run and report.verified_on_transfer:
        n = plural(len(report.verified_on_transfer), "multipart file")
        stream.write(f"  {n} without an MD5 in S3: verified by multipart ETag on transfer\n")
    for error in report.errors:
        stream.write(f"  error: {error}\n")


def print_trash(actor: str, stamps: list[TrashStamp], notes: list[str]) -> None:
    """The runs whose trash can be restored, newest first, and how to restore one."""
    out = sys.stdout
    if not stamps:
        out.write(f"{actor}: nothing in the trash\n")
    for s in stamps:
        out.write(
            f"{s.stamp}  {plural(len(s.local), 'local file')}, "
            f"{plural(len(s.s3), 'S3 object')} ({size(s.size)})\n"
        )
    for note in notes:
        out.write(f"note: {note}\n")
    if stamps:
        out.write(
            f"restore one: trainsync restore {actor} STAMP (or --latest for "
            f"{stamps[0].stamp}); --dry-run shows what would come back\n"
        )


def print_restore(report: RestoreReport) -> None:
    out = sys.stdout
    head = "dry run - would restore" if report.dry_run else "restored"
    out.write(
        f"{report.actor_name}: {head} {report.stamp}: "
        f"{plural(len(report.restored_local), 'local file')}, "
        f"{plural(len(report.restored_s3), 'S3 object')}"
        + ("" if report.dry_run else f"; {len(report.added_to_manifest):,} added to manifest")
        + "\n"
    )
    for line in report.skipped:
        out.write(f"  skipped: {line}\n")
    for line in report.errors:
        out.write(f"  error: {line}\n")
    for line in report.notes:
        out.write(f"  note: {line}\n")
