"""The endpoints: the seed's comprehensive sync and the read-only companions the web UI needs."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from trainsync_tui.engine.actors.layout import ActorLayout
from trainsync_tui.engine.cancel import CancelToken
from trainsync_tui.engine.errors import ConfigError, TrainsyncError, UnknownActorError
from trainsync_tui.engine.facade import SyncOptions
from trainsync_tui.engine.paths import actor_id_of
from trainsync_tui.engine.plan.build import Category, ConflictPolicy
from trainsync_tui.engine.plan.unmatched import no_match_message, unmatched_patterns
from trainsync_tui.engine.run.audit import Audit
from trainsync_tui.engine.run.kept import pending_resumes
from trainsync_tui.engine.run.report import KeptForResume, plan_to_json
from trainsync_tui.server.body import parse_sync_body, query_flag, read_body
from trainsync_tui.server.errors import ApiError, json_response
from trainsync_tui.server.runtime import Runtime, runtime
from trainsync_tui.server.streaming import stream_sync, wants_ndjson

HISTORY_LIMIT = 50
MAX_HISTORY_LIMIT = 1000


async def known_actor(rt: Runtime, name: str, actor_id: str) -> ActorLayout:
    """The actor's layout; 400 for a bad name or id (nothing touched), 404 when unknown."""
    layout = rt.engine.actor(name, actor_id)  # ActorNameError → 400
    try:
        await rt.cancellable(lambda cancel: rt.engine.require_actor(layout, cancel))
    except UnknownActorError as exc:
        raise ApiError(404, str(exc)) from None
    return layout


async def comprehensive_sync(request: web.Request) -> web.StreamResponse:
    """POST /api/actors/{actorId}/training-data/comprehensive-sync."""
    rt = runtime(request)
    body = await read_body(request, rt.engine.settings.body_timeout)
    sync_request = parse_sync_body(body)
    layout = await known_actor(rt, sync_request.actor_name, request.match_info["actorId"])
    options = sync_request.options
    await refuse_unmatched_patterns(rt, layout, options)
    if wants_ndjson(request):
        return await stream_sync(request, rt, layout, options)
    # A client that goes away does not cancel a plain request (aiohttp does not cancel the
    # handler): the sync finishes and its result is in sync-history. Streams do cancel.
    report = await rt.cancellable(
        lambda cancel: rt.engine.sync(layout, options, cancel=cancel), long=True
    )
    return json_response(report.to_json())


async def refuse_unmatched_patterns(rt: Runtime, layout: ActorLayout, options: SyncOptions) -> None:
    """An `only` or `exclude` pattern that matches no file of the actor (locally, in S3 or in
    its manifest) is a 400 naming it and the nearest paths, in the CLI's words (its exit 2):
    a scheduled call with a typo must not hear "nothing to do" for ever. It costs an audit
    before the sync's own, only when patterns are given (its hashes are cached by then)."""
    selection = options.selection
    if not (selection.only or selection.exclude):
        return
    found = await rt.cancellable(lambda cancel: rt.engine.audit(layout, cancel=cancel), long=True)
    wrong = unmatched_patterns(found.listings, selection)
    if wrong:
        listings = found.listings
        paths = {*listings.local, *listings.remote, *listings.manifest}
        raise ApiError(400, no_match_message(wrong, paths, layout.name))


async def audit(request: web.Request) -> web.Response:
    """GET /api/actors/{actorId}/training-data/audit?actor_name=…: the plan, nothing changed."""
    rt = runtime(request)
    name = request.query.get("actor_name")
    if not name:
        raise ApiError(400, "missing query parameter actor_name (e.g. ?actor_name=0042_x)")
    layout = await known_actor(rt, name, request.match_info["actorId"])
    conflict = request.query.get("conflict", str(ConflictPolicy.SKIP))
    if conflict not in tuple(str(p) for p in ConflictPolicy):
        raise ApiError(400, f"conflict={conflict!r}: use skip, local, s3, newer or keep-both")
    options = SyncOptions(
        delete_orphans=query_flag(request.query, "delete_orphans"),
        conflict=ConflictPolicy(conflict),
    )

    def audited(cancel: CancelToken) -> tuple[Audit, KeptForResume]:
        found = rt.engine.audit(layout, cancel=cancel)
        client, bucket = rt.engine.client_for(cancel), rt.engine.settings.require_bucket()
        return found, pending_resumes(found.layout, client, bucket)

    found, kept = await rt.cancellable(audited)
    summary = plan_to_json(rt.engine.plan(found, options))
    summary.update(actor_name=layout.name, actor_id=layout.actor_id, kept_for_resume=kept.to_json())
    return json_response(summary)


async def sync_history(request: web.Request) -> web.Response:
    """GET /api/actors/{actorId}/training-data/sync-history[?actor_name=…&limit=N]."""
    rt = runtime(request)
    actor_id = request.match_info["actorId"]
    if not actor_id.isdigit():
        raise ApiError(400, f"actor id {actor_id!r} must be the digits an actor name starts with")
    try:
        limit = int(request.query.get("limit", HISTORY_LIMIT))
    except ValueError:
        raise ApiError(400, "limit must be a whole number") from None
    if not 1 <= limit <= MAX_HISTORY_LIMIT:
        raise ApiError(400, f"limit must be between 1 and {MAX_HISTORY_LIMIT}")
    name = request.query.get("actor_name")
    if name is not None:
        rt.engine.actor(name, actor_id)  # 400 for a bad name or a mismatch
    # History outlives actors, so an actor with no folder left still shows its past syncs.
    entries = await rt.local(lambda: rt.engine.history(name, 1_000_000 if name is None else limit))
    if name is None:
        entries = [e for e in entries if actor_id_of(e.actor) == actor_id]
    history = [e.to_json() for e in entries[:limit]]
    return json_response({"actor_id": actor_id, "actor_name": name, "history": history})


async def list_actors(request: web.Request) -> web.Response:
    """GET /api/actors[?audit=0]: every actor, with its state counts unless audit=0."""
    rt = runtime(request)
    with_audit = query_flag(request.query, "audit", default=True)
    names = await rt.cancellable(lambda cancel: rt.engine.actor_names(cancel=cancel))
    results: dict[str, dict[str, Any]] = {}
    try:
        async with asyncio.TaskGroup() as group:  # a configuration error cancels the others
            for name in names:
                group.create_task(_describe_actor(rt, name, with_audit, results))
    except ExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return json_response({"actors": [results[n] for n in names]})


async def _describe_actor(
    rt: Runtime, name: str, with_audit: bool, results: dict[str, dict[str, Any]]
) -> None:
    layout = rt.engine.actor(name)
    entry: dict[str, Any] = {"actor_name": name, "actor_id": layout.actor_id}
    entry["syncing"] = await rt.local(lambda: rt.engine.lock_holder(layout))
    results[name] = entry
    if not with_audit:
        return
    async with rt.audit_slots:
        try:
            found = await rt.cancellable(lambda cancel: rt.engine.audit(layout, cancel=cancel))
        except ConfigError:
            raise
        except TrainsyncError as exc:  # a bad manifest, say: this actor only
            entry["error"] = exc.message
            return
    # Counted from the plan itself: its JSON would build a dict per path only to be counted.
    plan = rt.engine.plan(found, SyncOptions())
    states = dict.fromkeys(map(str, Category), 0)
    for action in plan.actions:
        states[str(action.category)] += 1
    states[str(Category.CONFLICT)] += len(plan.conflicts)
    entry.update(
        in_sync=plan.in_sync,
        total_files=plan.total_paths,
        states=states,
        counts=plan.counts().to_json(),
        errors=len(plan.issues),
        bytes_to_transfer=plan.bytes_to_transfer,
    )
