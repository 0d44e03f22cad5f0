"""Client CPU per GET: trainsync's botocore client beside the AWS CRT's native S3 client.

Issue 23 asked whether a well-kept native path (awscrt, which boto3 can use) would serve
small downloads better. Both sides do what trainsync's sink does with a body: write it to a
file and MD5 it as it arrives; only the request path differs. Run by scripts/crt-get-probe,
which puts a pinned awscrt on the path (it is not one of trainsync's dependencies).

    scripts/crt-get-probe            # 20,000 objects of 1-16 KiB, nanio, 1 worker
    scripts/crt-get-probe 2000       # fewer
"""

from __future__ import annotations

import hashlib
import os
import random
import resource
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from trainsync_tui.bench.server import ACCESS_KEY, REGION, SECRET_KEY, NanioServer
from trainsync_tui.engine.config import Settings
from trainsync_tui.engine.s3.client import make_client

BUCKET = "probe"


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(name: str, count: int, run: Callable[[], None]) -> None:
    cpu, wall = cpu_seconds(), time.perf_counter()
    run()
    cpu, wall = cpu_seconds() - cpu, time.perf_counter() - wall
    per_get = cpu / count * 1e3
    print(f"{name:34s} {count:6d} GETs  wall {wall:6.2f} s  client CPU {per_get:.3f} ms/GET")


def fill(client: Any, count: int) -> list[str]:
    rng = random.Random(23)
    keys = [f"d{n // 200:03}/f{n:05}.bin" for n in range(count)]
    blobs = [rng.randbytes(rng.randint(1024, 16 * 1024)) for _ in range(64)]
    with ThreadPoolExecutor(16) as pool:
        puts = [
            pool.submit(client.put_object, Bucket=BUCKET, Key=k, Body=blobs[n % 64])
            for n, k in enumerate(keys)
        ]
        for put in puts:
            put.result()
    return keys


def botocore_sink(client: Any, key: str, out: Path) -> None:
    digest = hashlib.md5(usedforsecurity=False)
    body = client.get_object(Bucket=BUCKET, Key=key)["Body"]
    with open(out / key.replace("/", "_"), "wb", buffering=0) as handle:
        for chunk in body.iter_chunks(1 << 20):
            handle.write(chunk)
            digest.update(chunk)


def crt_all(server: NanioServer, keys: list[str], out: Path, in_flight: int) -> None:
    from awscrt.auth import AwsCredentialsProvider
    from awscrt.http import HttpHeaders, HttpRequest
    from awscrt.io import ClientBootstrap, DefaultHostResolver, EventLoopGroup
    from awscrt.s3 import S3Client, S3RequestTlsMode, S3RequestType

    loops = EventLoopGroup(2)
    client = S3Client(
        bootstrap=ClientBootstrap(loops, DefaultHostResolver(loops)),
        region=REGION,
        credential_provider=AwsCredentialsProvider.new_static(ACCESS_KEY, SECRET_KEY),
        tls_mode=S3RequestTlsMode.DISABLED,
    )
    host = server.url.split("//", 1)[1]
    slots = threading.Semaphore(in_flight)
    left, lock, finished, failed = [len(keys)], threading.Lock(), threading.Event(), []

    def start(key: str) -> object:
        slots.acquire()
        digest = hashlib.md5(usedforsecurity=False)
        fd = os.open(out / key.replace("/", "_"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)

        def on_body(chunk: bytes, offset: int, **_: object) -> None:
            os.pwrite(fd, chunk, offset)
            digest.update(chunk)

        def on_done(error: BaseException | None = None, **_: object) -> None:
            os.close(fd)
            if error:
                failed.append((key, error))
            slots.release()
            with lock:
                left[0] -= 1
                if not left[0]:
                    finished.set()

        request = HttpRequest("GET", f"/{BUCKET}/{key}", HttpHeaders([("Host", host)]))
        return client.make_request(
            type=S3RequestType.GET_OBJECT, request=request, on_body=on_body, on_done=on_done
        )

    requests = [start(key) for key in keys]  # held: a dropped request object is cancelled
    finished.wait()
    del requests
    if failed:
        raise SystemExit(f"crt: {len(failed)} GETs failed, first: {failed[0]}")


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    scratch = Path(tempfile.mkdtemp(prefix="crt-probe-"))
    server = NanioServer(scratch / "data")
    server.start()
    try:
        os.environ.update(server.client_env())
        client = make_client(Settings(bucket=BUCKET, endpoint_url=server.url))
        client.create_bucket(Bucket=BUCKET)
        keys = fill(client, count)
        out = scratch / "out"
        out.mkdir()
        one = keys[: min(2000, count)]
        timed("botocore, 1 thread", len(one), lambda: [botocore_sink(client, k, out) for k in one])

        def pooled() -> None:
            with ThreadPoolExecutor(16) as pool:
                list(pool.map(lambda k: botocore_sink(client, k, out), keys))

        timed("botocore, 16 threads (trainsync's)", count, pooled)
        timed("awscrt, 32 in flight", count, lambda: crt_all(server, keys, out, 32))
    finally:
        server.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
