"""The one place an S3 client is made, and where S3 errors become one-line messages."""

from __future__ import annotations

import threading
import weakref
from datetime import datetime
from typing import Any

from trainsync_tui.engine.cancel import CancelToken
from trainsync_tui.engine.config import Settings
from trainsync_tui.engine.errors import ConfigError, TrainsyncError, redact
from trainsync_tui.engine.s3.error_codes import (
    error_code,
    is_access_denied,
    is_bad_credentials,
    is_missing_bucket,
)
from trainsync_tui.engine.s3.request_guard import BOTOCORE_RETRIES, RequestGuard


class S3Clients:
    """An Engine's S3 clients: one shared, and one per CancelToken, whose cancel shuts that
    client's connections (a request blocked on a silent server ends at once) and only
    those: the other runs of a server or of the app go on.

    Event hooks registered on the shared client (tests and tools watch or disturb a run's
    requests there) are registered on every run's client too, present and future."""

    _REGISTER = ("register", "register_first", "register_last", "unregister")

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._session: Any = None
        self._shared: Any = None
        self._by_token: weakref.WeakKeyDictionary[CancelToken, Any] = weakref.WeakKeyDictionary()
        self._hooks: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def get(self, cancel: CancelToken | None = None) -> Any:
        """The client for requests that `cancel` interrupts (the shared one for None)."""
        with self._lock:
            if cancel is None:
                if self._shared is None:
                    self._shared = self._make(None)
                    self._share_hooks(self._shared.meta.events)
                return self._shared
            client = self._by_token.get(cancel)
            if client is None:
                client = self._by_token[cancel] = self._make(cancel)
                weakref.finalize(cancel, client.close)
                for name, args, kwargs in self._hooks:
                    getattr(client.meta.events, name)(*args, **kwargs)
            return client

    def _share_hooks(self, events: Any) -> None:
        for name in self._REGISTER:
            original = getattr(events, name)

            def forward(*args: Any, _name: str = name, _original: Any = original, **kw: Any) -> Any:
                with self._lock:
                    self._hooks.append((_name, args, kw))
                    runs = list(self._by_token.values())
                for client in runs:
                    getattr(client.meta.events, _name)(*args, **kw)
                return _original(*args, **kw)

            setattr(events, name, forward)

    def close(self) -> None:
        with self._lock:
            clients = [self._shared, *self._by_token.values()]
        for client in clients:
            if client is not None:
                client.close()

    def _make(self, cancel: CancelToken | None) -> Any:
        # A botocore session is not thread-safe: clients are made one at a time (under _lock).
        if self._session is None:
            self._session = new_session(self.settings)
        return make_client(self.settings, cancel, session=self._session)


def new_session(settings: Settings) -> Any:
    import botocore.session
    from botocore.exceptions import BotoCoreError

    try:
        # botocore's session, not boto3's: the client, its credential chain and profiles are
        # botocore's either way, and boto3's session imported s3transfer and its resource
        # models (~60 ms of every command's start) for methods trainsync never calls.
        core = botocore.session.Session(profile=settings.profile)
        if settings.region:
            core.set_config_variable("region", settings.region)
        # Keep timestamps as the text S3 sent (what the AWS CLI does for `s3 ls`): dateutil
        # parsing every LastModified was a third of a no-op audit's time holding the GIL.
        # remote.epoch() turns the few we use into seconds.
        parsers = core.get_component("response_parser_factory")
        parsers.set_parser_defaults(timestamp_parser=_keep_text)
        return core
    except BotoCoreError as exc:
        raise ConfigError(f"cannot set up the S3 client: {exc}") from None


def make_client(
    settings: Settings, cancel: CancelToken | None = None, *, session: Any = None
) -> Any:
    """A thread-safe S3 client sized for the configured concurrency; its requests end at
    settings.request_deadline, and at once when `cancel` is cancelled."""
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError

    session = session or new_session(settings)
    try:
        config = Config(
            max_pool_connections=settings.concurrency * 2 + 4,
            retries=dict(BOTOCORE_RETRIES),  # RequestGuard retries
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            tcp_keepalive=True,
            # We send Content-MD5 ourselves and verify ETags end to end; CRC32 on top costs
            # CPU and some S3-compatible servers reject it.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            s3=_s3_options(settings),
            user_agent_extra="trainsync",
        )
        client = session.create_client("s3", endpoint_url=settings.endpoint_url, config=config)
    except BotoCoreError as exc:
        raise ConfigError(f"cannot set up the S3 client: {exc}") from None
    RequestGuard(
        where=settings.endpoint_url or "AWS S3",
        deadline=settings.request_deadline,
        read_timeout=settings.read_timeout,
        cancel=cancel,
    ).attach(client)
    return client


def _s3_options(settings: Settings) -> dict[str, Any]:
    # Every body we send carries a Content-MD5 (signed, and checked by S3 against the body)
    # or is checked after (CompleteMultipartUpload, by the object's ETag). On plain HTTP
    # botocore would also SHA-256 each body for the signature, reading every part from the
    # file once more: what it already skips on HTTPS when a Content-MD5 is present.
    options: dict[str, Any] = {"payload_signing_enabled": False}
    if settings.endpoint_url:
        options["addressing_style"] = "path"
    return options


def _keep_text(value: str) -> str:
    return value


def epoch(value: Any) -> float:
    """Seconds since the epoch of a timestamp from a response: text (ours) or a datetime."""
    if not value:
        return 0.0
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).timestamp()
        except ValueError:
            # Not ISO 8601 (a header date, an odd server): botocore's own, slower parser.
            from botocore.utils import parse_timestamp

            return float(parse_timestamp(value).timestamp())
    return float(value.timestamp())


def describe(exc: BaseException) -> str:
    """A one-line cause for a per-path error."""
    code = error_code(exc)
    if code:
        message = getattr(exc, "response", {}).get("Error", {}).get("Message", "")
        # Servers may echo the signed request; keep the line short and secret-free.
        return redact(f"S3 {code}" + (f": {message[:300]}" if message else ""))
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return redact(text)


def classify(exc: BaseException, settings: Settings) -> TrainsyncError:
    """Turn a failure that stops the whole run into a clear error with the right exit code."""
    from botocore.exceptions import (
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        PartialCredentialsError,
        ProfileNotFound,
        ReadTimeoutError,
    )

    where = settings.endpoint_url or "AWS S3"
    if isinstance(exc, TrainsyncError):
        return exc
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return ConfigError(
            "no AWS credentials found: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
            "AWS_PROFILE or --profile"
        )
    if isinstance(exc, ProfileNotFound):
        return ConfigError(f"AWS profile {settings.profile!r} not found: check --profile")
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError):
        return ConfigError(
            f"cannot reach the S3 endpoint {where}: check --endpoint-url and the network"
        )
    if isinstance(exc, ReadTimeoutError):
        return ConfigError(
            f"the S3 endpoint {where} stopped answering (nothing for {settings.read_timeout:g} s, "
            "read_timeout): check --endpoint-url and the network"
        )
    code = error_code(exc)
    if is_missing_bucket(exc):
        return ConfigError(f"bucket {settings.bucket!r} does not exist at {where}: check --bucket")
    if is_bad_credentials(exc):
        return ConfigError(f"S3 refused the credentials ({code}): check your AWS keys or --profile")
    if is_access_denied(exc):
        return ConfigError(
            f"access denied to bucket {settings.bucket!r} ({code}): check the credentials' policy"
        )
    return TrainsyncError(f"S3 failed: {describe(exc)}")
