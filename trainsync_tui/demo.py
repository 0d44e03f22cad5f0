"""`trainsync demo`: an embedded loopback S3 with sample actors, then the app."""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import threading
from pathlib import Path

from trainsync_tui.engine.config import Settings
from trainsync_tui.engine.errors import ConfigError

DEMO_BUCKET = "trainsync-demo"
DEMO_KEYS = {
    "AWS_ACCESS_KEY_ID": "demo",
    "AWS_SECRET_ACCESS_KEY": "demo-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_embedded_s3(port: int = 0) -> tuple[object, str]:
    """moto's S3 server on 127.0.0.1 in a thread; returns (server, endpoint URL)."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        raise ConfigError("the demo needs moto's server: pip install 'trainsync[demo]'") from None
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log over the app
    port = port or _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server, f"http://127.0.0.1:{port}"


def setup_demo(root: Path, port: int = 0) -> tuple[Settings, object]:
    """Create the sample actors and the embedded S3; returns settings that point at them."""
    import boto3

    from trainsync_tui.sample import make_sample

    # The demo never touches real AWS: its own keys for its own loopback server.
    os.environ.update(DEMO_KEYS)
    server, url = start_embedded_s3(port)
    client = boto3.client("s3", endpoint_url=url, region_name="us-east-1")
    client.create_bucket(Bucket=DEMO_BUCKET)
    root.mkdir(parents=True, exist_ok=True)
    make_sample(root, client, DEMO_BUCKET)
    # So the seed's command line works as written from the demo folder (no keys in it).
    (root / "trainsync.toml").write_text(
        f'bucket = "{DEMO_BUCKET}"\nendpoint_url = "{url}"\nregion = "us-east-1"\n'
    )
    return demo_settings(root, url), server


def demo_settings(root: Path, url: str) -> Settings:
    return Settings(
        root=root.resolve(),
        bucket=DEMO_BUCKET,
        endpoint_url=url,
        region="us-east-1",
        cache_dir=root / ".trainsync" / "cache",
    )


def _run_app_first(folder: Path, port: int) -> int:
    """The app's screen comes up at once; the S3 server and sample data (seconds) are made
    in its first thread, before it lists the actors."""
    from trainsync_tui.app import run_app

    port = port or _free_port()
    servers: list[object] = []
    try:
        return run_app(
            demo_settings(folder, f"http://127.0.0.1:{port}"),
            prepare=lambda: servers.append(setup_demo(folder, port)[1]),
        )
    finally:
        for server in servers:
            server.stop()  # type: ignore[attr-defined]
        print(f"trainsync demo: the sample data stays in {folder.resolve()}", file=sys.stderr)


def run_demo(root: str | None, port: int, *, open_app: bool) -> int:
    folder = Path(root) if root else Path(tempfile.mkdtemp(prefix="trainsync-demo-"))
    if folder.exists() and any((folder / "data" / "actors").glob("*")):
        raise ConfigError(f"{folder} already holds actors; give an empty --root for the demo")
    if open_app:
        return _run_app_first(folder, port)
    settings, server = setup_demo(folder, port)
    try:
        print(f"demo data in {settings.root} (its trainsync.toml points at the embedded S3),")
        print(f"S3 at {settings.endpoint_url}. In another shell:")
        print(f"  cd {settings.root}")
        for key, value in DEMO_KEYS.items():
            print(f"  export {key}={value}")
        print("  trainsync audit --all")
        print("  trainsync sync 0042 0042_european_30_male --dry-run")
        print("  trainsync serve")
        print("Ctrl-C stops the embedded S3.")
        sys.stdout.flush()
        threading.Event().wait()
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        server.stop()  # type: ignore[attr-defined]
        print(f"trainsync demo: the sample data stays in {settings.root}", file=sys.stderr)
