"""`trainsync demo`: an embedded loopback S3 with sample actors, then the app."""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from trainsync_tui.engine.config import Settings
from trainsync_tui.engine.errors import CancelledSync, ConfigError

DEMO_BUCKET = "trainsync-demo"
POLL_SECONDS = 0.05  # how soon a quit while preparing is seen
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


class BackgroundSetup:
    """The demo's set-up (seconds: moto's import, the sample uploads) in a daemon thread, so
    `q` during "preparing…" is answered at once: the app's worker only waits for it, and stops
    waiting when the app cancels that worker, and nothing at exit waits for the set-up."""

    def __init__(self, setup: Callable[[], object]) -> None:
        self._setup = setup
        self.done = threading.Event()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="demo set-up", daemon=True)

    def _run(self) -> None:
        try:
            self._setup()
        except BaseException as exc:  # handed to the waiting worker, which reports it
            self.error = exc
        finally:
            self.done.set()

    def __call__(self) -> None:
        """Start the set-up and wait for it (in the app's worker), or until the app quits."""
        from textual.worker import NoActiveWorker, get_current_worker

        try:
            worker = get_current_worker()
        except NoActiveWorker:  # not in the app's worker (a test): nothing cancels the wait
            worker = None
        if not self._thread.is_alive() and not self.done.is_set():
            self._thread.start()
        while not self.done.wait(POLL_SECONDS):
            if worker is not None and worker.is_cancelled:  # the app is quitting
                raise CancelledSync("the demo was stopped while preparing")
        if self.error is not None:
            raise self.error


def _run_app_first(folder: Path, port: int) -> int:
    """The app's screen comes up at once; the S3 server and sample data (seconds) are made
    in the background, before it lists the actors."""
    from trainsync_tui.app import run_app

    port = port or _free_port()
    servers: list[object] = []
    setup = BackgroundSetup(lambda: servers.append(setup_demo(folder, port)[1]))
    try:
        return run_app(demo_settings(folder, f"http://127.0.0.1:{port}"), prepare=setup)
    finally:
        for server in list(servers):
            server.stop()  # type: ignore[attr-defined]
        where = folder.resolve()
        if setup.done.is_set():
            print(f"trainsync demo: the sample data stays in {where}", file=sys.stderr)
        else:  # quit while preparing: the daemon thread ends with the process
            print(
                f"trainsync demo: stopped while preparing; a partial demo is in {where}",
                file=sys.stderr,
            )


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
