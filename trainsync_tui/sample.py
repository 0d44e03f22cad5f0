"""Sample actors in every discrepancy state, for the demo and the app's tests."""

from __future__ import annotations

import hashlib
import json
import random
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

PREFIX = "actors/{actor_name}/training_data/"
OLD = "2026-01-01T00:00:00Z"


def put_multipart(
    client: Any, bucket: str, key: str, data: bytes, metadata: dict[str, str] | None = None
) -> None:
    """Put `data` as a multipart object of 5 MiB parts (the smallest S3 allows), so its
    ETag is not the MD5 of its bytes: the case a sync must verify some other way."""
    part = 5 * 1024 * 1024
    upload = client.create_multipart_upload(Bucket=bucket, Key=key, Metadata=metadata or {})
    parts = []
    for n, start in enumerate(range(0, len(data), part), 1):
        etag = client.upload_part(
            Bucket=bucket,
            Key=key,
            UploadId=upload["UploadId"],
            PartNumber=n,
            Body=data[start : start + part],
        )["ETag"]
        parts.append({"ETag": etag, "PartNumber": n})
    client.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload["UploadId"], MultipartUpload={"Parts": parts}
    )


def _blob(rng: random.Random, size: int) -> bytes:
    return rng.randbytes(size)


class _Actor:
    def __init__(self, root: Path, client: Any, bucket: str, name: str, puts: _Puts) -> None:
        self.dir = root / "data" / "actors" / name
        self.client = client
        self.bucket = bucket
        self.puts = puts
        self.name = name
        self.prefix = PREFIX.format(actor_name=name)
        self.files: dict[str, dict[str, Any]] = {}

    def local(self, path: str, data: bytes) -> None:
        target = self.dir / "training_data" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    def s3(self, path: str, data: bytes, *, multipart: bool = False) -> None:
        key = self.prefix + path
        if not multipart:
            self.puts.put(key, data)
            return
        put_multipart(self.client, self.bucket, key, data)

    def record(self, path: str, data: bytes) -> None:
        self.files[path] = {
            "md5": hashlib.md5(data).hexdigest(),
            "size": len(data),
            "updated_at": OLD,
        }

    def everywhere(self, path: str, data: bytes) -> None:
        self.local(path, data)
        self.s3(path, data)
        self.record(path, data)

    def save_manifest(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        doc = {
            "version": 1,
            "actor_id": self.name.split("_")[0],
            "actor_name": self.name,
            "updated_at": OLD,
            "files": self.files,
        }
        (self.dir / "manifest.json").write_text(json.dumps(doc, indent=2))


class _Puts:
    """Small objects sent on a few threads: one at a time, the ~400 requests to the embedded
    server were most of the demo's blank screen before the app's first paint."""

    def __init__(self, client: Any, bucket: str, pool: ThreadPoolExecutor) -> None:
        self.client = client
        self.bucket = bucket
        self.pool = pool
        self.sent: list[Future[Any]] = []

    def put(self, key: str, data: bytes) -> None:
        self.sent.append(
            self.pool.submit(self.client.put_object, Bucket=self.bucket, Key=key, Body=data)
        )

    def wait(self) -> None:
        for future in self.sent:
            future.result()  # the first failure is raised, as a sequential put would


def make_sample(root: Path, client: Any, bucket: str, *, seed: int = 42) -> list[str]:
    """Create the demo actors under `root` and in `bucket`; returns their names."""
    with ThreadPoolExecutor(8, thread_name_prefix="sample-put") as pool:
        puts = _Puts(client, bucket, pool)
        made = _make_actors(root, client, bucket, random.Random(seed), puts)
        puts.wait()
    return made


def _make_actors(
    root: Path, client: Any, bucket: str, rng: random.Random, puts: _Puts
) -> list[str]:
    made = []

    # Every row of the reconciliation table, plus a conflict and a multipart object.
    a = _Actor(root, client, bucket, "0042_european_30_male", puts)
    for i in range(6):
        a.everywhere(f"images/{i:04d}.png", _blob(rng, 2000 + i))
    a.local("images/new_local.png", _blob(rng, 3000))
    a.s3("images/new_in_s3.png", _blob(rng, 4000))
    both = _blob(rng, 1500)
    a.local("audio/untracked.wav", both)
    a.s3("audio/untracked.wav", both)
    a.record("audio/deleted_everywhere.wav", _blob(rng, 900))
    fixed = _blob(rng, 1200)
    a.local("audio/rehashed.wav", fixed)
    a.s3("audio/rehashed.wav", fixed)
    a.record("audio/rehashed.wav", _blob(rng, 1200))
    old, new = _blob(rng, 800), _blob(rng, 810)
    a.local("text/edited_here.txt", new)
    a.s3("text/edited_here.txt", old)
    a.record("text/edited_here.txt", old)
    a.local("text/edited_in_s3.txt", old)
    a.s3("text/edited_in_s3.txt", new)
    a.record("text/edited_in_s3.txt", old)
    a.local("text/conflict.txt", _blob(rng, 700))
    a.s3("text/conflict.txt", _blob(rng, 710))
    a.record("text/conflict.txt", _blob(rng, 705))
    a.local("video/missing_in_s3.mp4", old)
    a.record("video/missing_in_s3.mp4", old)
    a.s3("video/big_clip.mp4", _blob(rng, 6 * 1024 * 1024), multipart=True)
    a.save_manifest()
    made.append(a.name)

    b = _Actor(root, client, bucket, "0043_asian_25_female", puts)
    for i in range(12):
        b.everywhere(f"frames/{i // 4:02d}/{i:04d}.jpg", _blob(rng, 1000 + 37 * i))
    b.save_manifest()
    made.append(b.name)

    c = _Actor(root, client, bucket, "0044_african_40_male", puts)
    for i in range(5):
        c.s3(f"clips/{i:03d}.wav", _blob(rng, 5000 + i))
    made.append(c.name)

    d = _Actor(root, client, bucket, "0045_latin_35_female", puts)
    for i in range(8):
        d.local(f"session_{i % 2}/{i:03d}.png", _blob(rng, 2500 + i))
    made.append(d.name)

    e = _Actor(root, client, bucket, "0046_nordic_50_female", puts)
    e.local("img/0001.png", _blob(rng, 100))
    e.dir.mkdir(parents=True, exist_ok=True)
    (e.dir / "manifest.json").write_text('{"version": 1, "files": [broken')
    made.append(e.name)

    f = _Actor(root, client, bucket, "0047_mixed_28_male", puts)
    for i in range(300):
        f.everywhere(f"set_{i % 10}/{i:05d}.bin", _blob(rng, 256 + i))
    for i in range(40):
        f.local(f"set_new/{i:05d}.bin", _blob(rng, 300 + i))
    puts.put(f.prefix + "../escape.txt", b"refused")
    f.save_manifest()
    made.append(f.name)
    return made
