"""Run nanio on loopback, with one fix so every S3 client can download from it.

nanio 0.1.7 answers `Range: bytes=0-52428799` on a 5 KB object with 400 InvalidArgument.
S3 (and RFC 9110) clip a range that runs past the end and answer 206 with what exists;
s5cmd asks every download for its first 50 MiB part that way, so without the clip it cannot
download at all. Nothing else about nanio changes.

Started by the bench as `python -m trainsync_tui.bench.nanio_launch HOST PORT WORKERS` with
NANIO_DATA_DIR, NANIO_ACCESS_KEY and NANIO_SECRET_KEY in the environment.
"""

from __future__ import annotations

import sys
from typing import Any


def _clip_ranges() -> None:
    from nanio.storage.filesystem import FilesystemStorage

    original = FilesystemStorage.get_object
    if getattr(original, "_bench_clipped", False):
        return

    async def get_object(
        self: Any,
        bucket: str,
        key: str,
        *,
        range_start: int | None = None,
        range_end: int | None = None,
    ) -> Any:
        if range_end is not None:
            size = self.head_object(bucket, key).size
            if range_start is None or range_start < size:
                range_end = min(range_end, size - 1)
        return await original(self, bucket, key, range_start=range_start, range_end=range_end)

    get_object._bench_clipped = True  # type: ignore[attr-defined]
    FilesystemStorage.get_object = get_object  # type: ignore[method-assign]


def build_app() -> Any:
    """The uvicorn factory: nanio's own app, built in each worker after the patch."""
    _clip_ranges()
    from nanio.app import build_app as nanio_app

    return nanio_app()


def main(argv: list[str]) -> int:
    import uvicorn

    host, port, workers = argv[0], int(argv[1]), int(argv[2])
    if host not in ("127.0.0.1", "::1", "localhost"):
        print("the bench server binds loopback only", file=sys.stderr)
        return 2
    uvicorn.run(
        "trainsync_tui.bench.nanio_launch:build_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=True,
        log_level="info",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
