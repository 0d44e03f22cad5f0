"""docs/RELIABILITY.md as the soak writes it: what is checked, how to rerun, the last table."""

from __future__ import annotations

import argparse
import os
import platform
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tests.reliability import guards, silent
from tests.reliability.faultproxy import KINDS
from tests.reliability.hostile_cases import CASES

if TYPE_CHECKING:
    from tests.reliability.soak import Soak

_COLUMNS = ("tried", "landed", "lost", "corrupt", "outside", "leaks", "hangs", "converged")

_INTRO = """\
# Reliability

trainsync promises that nothing is ever lost or corrupted. `tests/reliability/` checks
it against a fault-injecting proxy (`faultproxy.py`, between boto3 and a loopback S3
server), `kill -9` of the real CLI (anywhere in a sync, and mid-way through big transfers
that the next run must resume), cancels through the engine's API, two processes and two
roots syncing one actor, an S3 endpoint that never answers, hostile input, and the guards
against a silent lease, a cloned root, restored mtimes, symlink swaps and unverifiable
objects (below). A short form runs in every `pytest`; the soak below is the long form, and
this page is written by it.

## Two servers, one bucket

Two training servers (two roots) syncing one actor on one bucket get:

- **One sync at a time per actor.** Every real sync holds a lease in S3
  (`actors/<name>/training_data.trainsync-lease.json`, created with `If-None-Match: *`,
  renewed with `If-Match`, taken over only after it expires on S3's clock, deleted with
  `If-Match`) beside the flock on its own root. The second server refuses, naming the
  holder, host and pid (exit 1; 409 from `serve`), or waits with `--wait`.
- **No silent replacement.** Single-part uploads are `If-Match` the audited ETag or
  `If-None-Match: *`; multipart uploads are completed with the same condition on
  `CompleteMultipartUpload` (plus a HEAD just before it for servers that ignore it there),
  and our own bad upload is deleted only `If-Match` its ETag. An object the other server
  wrote after the audit becomes "changed in S3 since the audit" and a conflict next run.
- **No cut uploads.** Each root aborts only the multipart uploads it journalled (or, by the
  key it noted before the create, one its killed run left unjournalled); other writers'
  uploads only after `stale_upload_days` with no part written since, and one with no part
  only once this root has seen it unfinished that long (no server's dates are trusted).
- **A lease names a run, not a place.** It carries the run's random token, the root's random
  id and the proof of the flock it was taken under (this boot's id, the lock file's device
  and inode). Only a run holding that very flock takes such a lease over at once; a cloned
  VM, disk or container with the same path and machine id waits for expiry like any other
  server.
- **Fencing.** A run writes to S3 only while its own monotonic clock proves its lease valid:
  until the start of its last successful lease write + `lease_ttl` − a sixth. Every write is
  checked before it is sent, and a watchdog stops the run the moment validity lapses, even
  while S3 holds a renewal. Another server may take over only at the lease's LastModified
  + TTL on S3's clock, which is later. This holds on every server, with conditional writes
  or without; it assumes the two machines' clocks run at about the same rate (a sixth of
  the TTL of drift), not that they agree.

What is not protected on servers without conditional writes (nanio and s3rver ignore or
refuse `If-None-Match`/`If-Match`): trainsync warns once per process and falls back to
reading the lease before writing it; uploads go without the condition (a completion after
a HEAD just before it), and nothing of ours is deleted where a delete cannot be
conditional (the key is reported). That stops a server that starts while another holds the
lease, but two servers that start within the same second can both take it, and an object
changed between the HEAD and the write can still be replaced. Fencing still stops a holder
whose lease lapsed; what those servers lack is a safe way to take a lease at the same
instant. On those servers, run one syncing server per actor.

The soak checks it with two CLI processes on two roots (root A slowed by the proxy):
without `--wait` B refuses naming A's lease, with `--wait` B runs after A, then both roots
converge on the union of their files, and nothing outside either root changes.

## Silent endpoint

An S3 endpoint that accepts connections and never answers (`tests/silent_s3.py`), from the
first request (sync and audit) or only once transfers begin (the proxy forwards every PUT
and GET of a file and holds the reply). With short settings (`connect_timeout` and
`read_timeout` 0.5 s, `request_deadline` {deadline:g} s) each run must end with a one-line
error naming the endpoint, within its deadline (plus {slack:g} s for the interpreter and
the requests that were already under way); with the default settings, SIGINT or SIGTERM
must stop it within {stop:g} s. A run that does neither counts as a hang. Either way the
files and manifest must be as before (or a consistent state, when S3 went silent mid-way)
and the next sync must converge.

## Resume points

`kill -9` of the CLI while a multipart upload or a big download is under way (a part held
at the proxy, so the kill lands mid-transfer with some parts or ranges already kept), then
a rerun. When the file is unchanged the rerun must resume (`bytes_resumed` > 0 in its
report). In the variants the file changes before the rerun (appended, rewritten in place,
rewritten in place with its mtime restored, replaced by a new file with the same size and
mtime) or the object is replaced in S3: the rerun must start again wherever the stamp
changed, and the final object's MD5 must equal the final local file's, so no object is ever
completed from parts of the old file mixed with the new.

## Guards (issue 22)

Each run of these is randomized (seed, variant, which folder or range) and goes through
the real CLI, with `kill -9` or faults where the case says; each is counted as a row of
the table below, for 0 lost, 0 corrupt and 0 written outside:

- **Lease renewals unanswered** (only the lease key's `If-Match` PUTs are held, every
  other request answers): root A must stop writing by its own clock (or is `kill -9`ed
  once a renewal is held), root B started meanwhile with `--wait` takes the lease over
  after it expires. A's last write must come before {ttl:g} s (`lease_ttl`) after its
  take, and before B's first write; then both roots converge on the union of their files.
- **A cloned root at the same path**: while A holds its lease (a transfer held at the
  proxy), a copy of the whole root, state folder and lock file included, is synced at A's
  very path (a mount namespace, `unshare -m`). It must refuse naming the holder and write
  nothing; A then finishes or is killed and rerun (its own flock takes its lease over at
  once), the copy syncs after it, and both converge.
- **Rewrites with the mtime put back**: synced files rewritten in place with the same
  size, inode and mtime (only ctime changes), with an old stamp or one in the tick of the
  last hash; the next sync runs under faults or is `kill -9`ed, then plain syncs. Every
  rewrite must reach S3 and the manifest (one never seen counts as lost).
- **A folder swapped for a symlink mid-download**: when S3 is asked for a folder's first
  object, the folder is moved away and a link put in its place (to a folder outside the
  root, or up the tree); the run ends (not with exit 0) or is `kill -9`ed. Nothing outside
  the actor's folder may change; once the folder is put back, syncs converge.
- **An unverifiable object, killed and tampered**: on nanio (which hides part sizes), an
  object written by another tool with 9 MiB parts and no MD5, killed while its last range
  is held; the kept bytes are then changed or truncated. The rerun must not resume from
  them (`bytes_resumed` 0) and the file must be exact.

## Rerun

```sh
python -m tests.reliability.soak --crashes 120 --faulted-requests 3000 --minutes 20
```

It needs the test extras (`pip install -e '.[test]'`), stops by itself when the counts
are reached or the time is up, rewrites this file, and exits 1 if any run lost or
corrupted a file, wrote outside the actor's folders, leaked a secret, hung or did not
converge.
"""


def render(soak: Soak, args: argparse.Namespace, minutes: float) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    kinds = [k for k in KINDS if soak.injected[k]]
    intro = _INTRO.format(
        deadline=silent.DEADLINE,
        slack=silent.DEADLINE_SLACK,
        stop=silent.STOP_LIMIT,
        ttl=guards.LEASE_TTL,
    )
    resume = soak.resume
    lines = [
        intro,
        f"## Last run: {when}",
        "",
        f"Seed {args.seed}, {minutes:.1f} min on {os.cpu_count()} cores "
        f"({platform.python_implementation()} {platform.python_version()}), "
        f"{soak.injected['requests']} requests through the fault proxy.",
        "",
        "Faults injected, by kind:",
        "",
        "| " + " | ".join(kinds) + " | total that failed a request |",
        "|" + "---:|" * (len(kinds) + 1),
        "| " + " | ".join(str(soak.injected[k]) for k in kinds) + f" | {soak.faulted} |",
        "",
        f"Resume points: {resume['points']}; the rerun resumed in {resume['resumed']} of the "
        f"{resume['resumable']} where the file was unchanged and something was kept "
        f"({resume['bytes'] / 2**20:.0f} MiB not sent or fetched again); objects mixing old "
        f"and new bytes: {resume['mixed']}.",
        "",
        f"Silent endpoint: slowest stop after SIGINT/SIGTERM {soak.slowest['stop']:.2f} s; "
        f"slowest run to its error with a {silent.DEADLINE:g} s request_deadline "
        f"{soak.slowest['deadline']:.1f} s.",
        "",
        _guards_line(soak),
        "",
        "Runs (a *landed* kill or cancel is one that hit its target phase; *converged* means",
        "the state after it was consistent and the next plain sync reached the exact expected",
        "files on disk, in S3 and in the manifest; for hostile input it means the input was",
        "refused with a clear error naming it while the rest of the actor synced):",
        "",
        "| scenario | runs | landed | files lost | files corrupt | written outside | "
        "secrets leaked | hangs | converged |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    total = dict.fromkeys(_COLUMNS, 0)
    for name in sorted(soak.rows):
        row = soak.rows[name]
        values = {c: row.counts[c] for c in _COLUMNS}
        for column in _COLUMNS:
            total[column] += values[column]
        lines.append(_line(name, values))
    lines.append(_line("all", total, bold=True))
    problems = [f"- {name}: {e}" for name, row in soak.rows.items() for e in row.examples]
    if problems:
        lines += ["", "Problems seen:", "", *problems[:30]]
    skipped = [f"- {case}: {why}" for case, why in sorted(soak.skipped.items())]
    if skipped:
        lines += ["", "Guard cases that could not run here:", "", *skipped]
    lines += [
        "",
        f"Hostile inputs tried ({len(CASES)}): " + ", ".join(sorted(CASES)) + ".",
        "",
    ]
    return "\n".join(lines)


def _guards_line(soak: Soak) -> str:
    rows = [row for name, row in soak.rows.items() if name.startswith("guard:")]
    total = sum((r.counts for r in rows), Counter())
    runs, lost, corrupt, outside = (total[k] for k in ("tried", "lost", "corrupt", "outside"))
    return (
        f"Guard cases (issue 22): {runs} runs over {len(rows)} cases, {lost} lost, "
        f"{corrupt} corrupt, {outside} written outside."
    )


def _line(name: str, v: dict[str, int], *, bold: bool = False) -> str:
    share = 100 * v["converged"] / v["tried"] if v["tried"] else 0
    cells = [
        name,
        *(str(v[c]) for c in _COLUMNS[:-1]),
        f"{v['converged']}/{v['tried']} ({share:.0f}%)",
    ]
    if bold:
        cells = [f"**{c}**" for c in cells]
    return "| " + " | ".join(cells) + " |"
