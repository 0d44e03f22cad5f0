"""The app's `trainsync restore`: list the selected actor's trash, restore the run the user
confirms, say what came back in the log, then audit the actor again.

Async workers on the engine's runner (run_cancellable): the UI is touched after each await,
on the app's loop. The restore itself is the actor's task (app/tasks.py), so esc, ctrl+x and
quitting cancel its token as they cancel a sync's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from trainsync_tui.app import view
from trainsync_tui.app.screens.restore import RestoreScreen, TrashRow
from trainsync_tui.engine.cancel import CancelToken, run_cancellable
from trainsync_tui.engine.errors import CancelledSync, TrainsyncError
from trainsync_tui.engine.run.report import plural
from trainsync_tui.engine.run.restore import RestoreReport, list_trash, restore_trash, trash_notes

if TYPE_CHECKING:
    from trainsync_tui.app.app import TrainsyncApp


def open_trash(app: TrainsyncApp) -> None:
    state = app.selected
    if state is None:
        return
    if app.tasks.of(state.name) is not None:
        view.tell(app, f"{state.name} is busy: restore once its task ends (esc cancels it)")
        return
    app.run_worker(_list(app, state.name), group="restore", exit_on_error=False)


async def _list(app: TrainsyncApp, actor: str) -> None:
    engine = app.engine

    def rows(_: CancelToken) -> tuple[list[TrashRow], list[str]]:
        stamps = list_trash(engine, engine.actor(actor))
        notes = trash_notes(engine)
        return [TrashRow(s.stamp, len(s.local), len(s.s3), s.size) for s in stamps], notes

    try:
        found, notes = await run_cancellable(rows)
    except TrainsyncError as exc:
        app.adapter.line("error", f"{actor}: trash: {exc}")
        view.tell(app, str(exc))
        return
    if not found:
        view.tell(app, f"{actor}: nothing in the trash to restore")
        return

    def chosen(stamp: str | None) -> None:
        if stamp is not None:
            app.run_worker(_restore(app, actor, stamp), group="restore", exit_on_error=False)

    app.push_screen(RestoreScreen(actor, found, notes), chosen)


async def _restore(app: TrainsyncApp, actor: str, stamp: str) -> None:
    engine = app.engine
    task = app.tasks.start_restore(actor)  # a task like a sync's: esc and ctrl+x cancel it
    if task is None:
        view.tell(app, f"{actor} is busy: restore once its task ends (esc cancels it)")
        return
    app.adapter.line("info", f"{actor}: restoring trash run {stamp}…")
    state = app.states[actor]
    state.message = f"Restoring {stamp}…"
    view.refresh(app, state, tree=True)
    said = f"restore {stamp} did not finish"
    try:
        report = await run_cancellable(
            lambda token: restore_trash(engine, engine.actor(actor), stamp, cancel=token),
            cancel=task.token,
        )
    except CancelledSync:
        said = f"restore {stamp} cancelled: what came back stays, the rest is still in the trash"
        app.adapter.line("warning", f"{actor}: {said}")
    except TrainsyncError as exc:
        said = f"restore failed: {exc}"
        app.adapter.line("error", f"{actor}: restore {stamp}: {exc}")
    else:
        for level, text in lines(report):
            app.adapter.line(level, f"{actor}: {text}")
        said = lines(report)[0][1]
    finally:  # whatever happened, the actor is free again and audited afresh
        app.tasks.finish(task)
        state.message = ""
        view.refresh(app, state, tree=True)
        view.tell(app, said)
        app.queue_audit(actor, first=True)  # what is on disk and in S3 changed


def lines(report: RestoreReport) -> list[tuple[str, str]]:
    """The log lines of a restore: what came back first, then each skip, error and note."""
    local = plural(len(report.restored_local), "local file")
    s3 = plural(len(report.restored_s3), "S3 object")
    level = "info" if report.exit_code == 0 else "warning"
    out = [(level, f"restored {report.stamp}: {local}, {s3}")]
    if report.skipped or report.errors:
        out[0] = (level, out[0][1] + f", {len(report.skipped) + len(report.errors)} not")
    out += [("warning", f"not restored: {s}") for s in report.skipped]
    out += [("error", e) for e in report.errors]
    out += [("info", f"note: {n}") for n in report.notes]
    return out
