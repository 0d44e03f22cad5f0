"""W9: a multipart upload killed (kill -9) at 70 % of a file as big as the *large* dataset
(2 GiB; `--quick` 256 MiB), then rerun: the bytes the rerun sends against the file's size
(issue 17: at most 0.35 ×), counted on the wire, and the end state checked in S3 and in the
manifest."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from trainsync_tui.bench import datasets as ds
from trainsync_tui.bench.measure import clean_env, run
from trainsync_tui.bench.part_gate import PartGate
from trainsync_tui.bench.results import Measurement, target_line
from trainsync_tui.bench.tools import Target, Tool
from trainsync_tui.bench.workloads import Context

CUT_AT = 0.7
MAX_SHARE = 0.35
WORKLOAD = "W9 upload cut at 70 %, rerun"
REL = "ckpt/upload-resume.bin"


def _cut(command: list[str], env: dict[str, str], gate: PartGate, timeout: float) -> str:
    """Run the upload until the gate holds a part past 70 %, let the parts before it land,
    kill -9 the CLI; why that failed, or ""."""
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + timeout
    try:
        # The gate's event is the signal; the poll only notices a CLI that ended first.
        while not gate.reached.wait(0.05):
            if process.poll() is not None:
                return f"the upload ended (exit {process.returncode}) before {CUT_AT:.0%}"
            if time.monotonic() > deadline:
                return f"no part past {CUT_AT:.0%} within {timeout:.0f} s"
        if not gate.settled(timeout):
            return "the parts before the cut were not answered by the server"
        os.kill(process.pid, signal.SIGKILL)
        return ""
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        gate.release()


def _digests(path: Path, part: int) -> tuple[str, str]:
    """The file's MD5 and its multipart ETag for `part`-byte parts."""
    whole = hashlib.md5(usedforsecurity=False)
    parts: list[bytes] = []
    with open(path, "rb") as handle:
        while chunk := handle.read(part):
            whole.update(chunk)
            parts.append(hashlib.md5(chunk, usedforsecurity=False).digest())
    joined = hashlib.md5(b"".join(parts), usedforsecurity=False).hexdigest()
    return whole.hexdigest(), f'"{joined}-{len(parts)}"'


def _in_s3(client: Any, bucket: str) -> tuple[int, int]:
    """(unfinished uploads, bytes in their parts), asked of the server directly."""
    uploads = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    held = 0
    for upload in uploads:
        parts = client.list_parts(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
        held += sum(int(p["Size"]) for p in parts.get("Parts", []))
    return len(uploads), held


def _end_state(client: Any, target: Target, path: Path, part: int) -> str:
    """Why the object or the manifest is not what the file says, or ""."""
    md5, etag = _digests(path, part)
    head = client.head_object(Bucket=target.bucket, Key=target.prefix + REL)
    if head["ContentLength"] != path.stat().st_size or head["ETag"] != etag:
        return f"S3 object: {head['ContentLength']} B, ETag {head['ETag']}; expected {etag}"
    if head.get("Metadata", {}).get("md5") != md5:
        return f"S3 object's md5 metadata is {head.get('Metadata')}, expected {md5}"
    manifest = json.loads((target.local.parent / "manifest.json").read_text(encoding="utf-8"))
    if manifest["files"].get(REL, {}).get("md5") != md5:
        return f"manifest entry {manifest['files'].get(REL)}, expected md5 {md5}"
    if _in_s3(client, target.bucket)[0]:
        return "an unfinished multipart upload is left in the bucket"
    return ""


def run_upload_resume(
    ctx: Context, tool: Tool, dataset: ds.Dataset, size: int
) -> tuple[Measurement, dict[str, Any]]:
    """One `size`-byte file, uploaded through the gate and cut at 70 %, then rerun."""
    base = ctx.work / dataset.name / "upload-resume"
    bucket = "trainsync-upload-resume"
    ctx.server.create_bucket(bucket)
    client: Any = ctx.server.client()
    actor = dataset.actors[0]
    key = f"actors/{actor}/training_data/{REL}"
    with PartGate(ctx.server.port, bucket, key, hold_after=round(CUT_AT * size)) as gate:
        target = Target(base / "up", bucket, actor, gate.url, base / "cache")
        spec = ds.FileSpec(actor, REL, size, ctx.seed + 17)
        ds.generate(ds.Dataset("upload-resume", (spec,)), target.root)
        path = target.local / REL
        env = clean_env({**ctx.server.client_env(), **tool.env(target)})
        report: dict[str, Any] = {}
        try:
            note = _cut(tool.command(target), env, gate, ctx.timeout)
            uploads, kept = _in_s3(client, bucket)
            if not note and uploads != 1:
                note = f"{uploads} unfinished uploads in the bucket after the kill, expected 1"
            before, mark = gate.admitted, ctx.server.mark()
            log = ctx.logs / f"{dataset.name}-W9-rerun.log"
            timing = run(tool.command(target), env, log, ctx.timeout)
            sent = gate.admitted - before
            requests = dict(sorted(ctx.server.requests_since(mark).items()))
            try:
                report = json.loads(timing.stdout)
            except ValueError:
                note = note or f"exit {timing.returncode}: no JSON report"
            if not note and (timing.returncode != 0 or report.get("errors")):
                note = f"exit {timing.returncode}: {str(report.get('errors'))[:200]}"
            if not note and kept < CUT_AT * size - gate.largest:
                note = f"only {kept} bytes were in S3 at the kill"
            resumed = int(report.get("bytes_resumed", 0))
            if not note and resumed and resumed != kept:
                # Resuming nothing is a figure (1.0 ×); resuming what S3 did not hold is wrong.
                note = f"trainsync reports {resumed} bytes resumed, S3 held {kept}"
            note = note or _end_state(client, target, path, gate.largest)
        finally:
            ctx.server.drop_bucket(bucket)
            shutil.rmtree(base, ignore_errors=True)
    m = Measurement.one_file(
        timing, dataset.name, WORKLOAD, tool.name, size, requests=requests, note=note
    )
    figure = {
        "size": size,
        "part_size": gate.largest,
        "kept_in_s3_at_kill": kept,
        "resumed": int(report.get("bytes_resumed", 0)),
        "sent_by_rerun": sent,
        "share": round(sent / size, 3),
        "ok": m.ok,
    }
    return m, figure


def upload_resume_target_line(figure: dict[str, Any]) -> str:
    label = f"upload cut at 70 %, rerun sends ≤ {MAX_SHARE} × the file"
    share = figure.get("share", 0.0)
    measured = (
        f"{share:.2f} × ({figure.get('sent_by_rerun', 0) / ds.MiB:.0f} of "
        f"{figure.get('size', 0) / ds.MiB:.0f} MiB)"
    )
    return target_line(label, figure, measured, share <= MAX_SHARE)
