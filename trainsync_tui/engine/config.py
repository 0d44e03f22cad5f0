"""Settings from flags, TRAINSYNC_* variables and trainsync.toml files (in that order of weight)."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from trainsync_tui.engine.errors import ConfigError

CONFIG_NAME = "trainsync.toml"
DEFAULT_PREFIX = "actors/{actor_name}/training_data/"
DEFAULT_TRASH_PREFIX = "trainsync-trash/{actor_name}/"
MiB = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    """Everything the engine needs to reach one root and one bucket."""

    root: Path = Path(".")
    bucket: str | None = None
    prefix: str = DEFAULT_PREFIX
    trash_prefix: str = DEFAULT_TRASH_PREFIX
    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None
    concurrency: int = 16
    max_delete: float = 0.5
    multipart_threshold: int = 8 * MiB
    multipart_chunksize: int = 8 * MiB
    cache_dir: Path | None = None
    # An interrupted upload of ours older than this is not resumed but aborted; another
    # writer's is aborted only once this old, with no part written within it.
    stale_upload_days: float = 7.0
    # rclone's --bwlimit form (engine/bwlimit.py); None is no limit.
    bwlimit: str | None = None
    # Seconds. A silent S3 endpoint fails a request after request_deadline, not after
    # botocore's 60 s read timeout times 6 attempts; cancel interrupts it at once anyway.
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    request_deadline: float = 60.0
    # Seconds an actor's S3 lease lasts unrenewed (renewed every third of it); a run whose
    # lease it cannot prove valid by its own clock stops writing (engine/lease.py).
    lease_ttl: float = 60.0
    # `trainsync serve`/`web`: a client must send its request head (and, for the API, its
    # body) within these seconds, or the connection is closed; idle keep-alive ends too.
    header_timeout: float = 15.0
    body_timeout: float = 30.0

    @property
    def actors_dir(self) -> Path:
        return self.root / "data" / "actors"

    @property
    def state_dir(self) -> Path:
        """Per-root state shared by the CLI, the app and the API: locks and history."""
        return self.root / ".trainsync"

    def hash_cache_path(self) -> Path:
        if self.cache_dir is not None:
            return self.cache_dir / "hashes.sqlite3"
        from platformdirs import user_cache_dir

        return Path(user_cache_dir("trainsync")) / "hashes.sqlite3"

    def prefix_for(self, actor_name: str) -> str:
        return _fill(self.prefix, actor_name)

    def trash_prefix_for(self, actor_name: str) -> str:
        return _fill(self.trash_prefix, actor_name)

    @property
    def actors_prefix(self) -> str:
        """The part of the prefix template before the actor name: where --all lists actors."""
        return self.prefix.split("{", 1)[0]

    def require_bucket(self) -> str:
        if not self.bucket:
            raise ConfigError(
                "no S3 bucket configured: pass --bucket, set TRAINSYNC_BUCKET, "
                f'or add bucket = "..." to {CONFIG_NAME}'
            )
        return self.bucket


def _fill(template: str, actor_name: str) -> str:
    actor_id = actor_name.split("_", 1)[0]
    return template.format(actor_name=actor_name, actor_id=actor_id)


_CONVERTERS: dict[str, Any] = {
    "bucket": str,
    "prefix": str,
    "trash_prefix": str,
    "endpoint_url": str,
    "region": str,
    "profile": str,
    "concurrency": int,
    "max_delete": "share",
    "multipart_threshold": "size",
    "multipart_chunksize": "size",
    "cache_dir": Path,
    "stale_upload_days": float,
    "bwlimit": "bwlimit",
    "connect_timeout": "seconds",
    "read_timeout": "seconds",
    "request_deadline": "seconds",
    "lease_ttl": "seconds",
    "header_timeout": "seconds",
    "body_timeout": "seconds",
}


# The AWS CLI's sizes (awscli/customizations/s3/utils.py human_readable_to_int): KB and KiB
# alike are 1024, MB and MiB 1024**2 ..., so "8MB" is the 8 MiB both tools mean by default.
_SIZE_UNITS = {"kb": 1, "mb": 2, "gb": 3, "tb": 4, "kib": 1, "mib": 2, "gib": 3, "tib": 4}
SIZE_FORMS = "bytes (8388608) or a whole number with KB, MB, GB, TB, KiB, MiB, GiB or TiB"


def parse_size(value: Any) -> int:
    """A size as the AWS CLI reads it ("8MB" = "8MiB" = "8 MB" = 8388608); ValueError if not."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(value)
    if isinstance(value, str):
        text = value.strip().lower()
        unit = text[-3:] if text.endswith("ib") else text[-2:]
        if len(text) > len(unit) and unit in _SIZE_UNITS:
            value = int(text[: -len(unit)]) * 1024 ** _SIZE_UNITS[unit]
        else:
            value = int(text)
    if value <= 0:
        raise ValueError(value)
    return value


def _convert(name: str, value: Any, where: str) -> Any:
    kind = _CONVERTERS[name]
    if kind == "size":
        try:
            return parse_size(value)
        except ValueError:
            raise ConfigError(
                f"{where}: {name} = {value!r} is not a size: give {SIZE_FORMS} "
                "(binary units, as the AWS CLI reads them: 8MB = 8 MiB)"
            ) from None
    try:
        if kind == "share":
            text = str(value).strip()
            share = float(text[:-1]) / 100 if text.endswith("%") else float(text)
            if not 0 <= share <= 1:
                raise ValueError
            return share
        if kind == "bwlimit":
            from trainsync_tui.engine.bwlimit import parse_bwlimit

            try:
                return parse_bwlimit(str(value)).text
            except ConfigError as exc:
                raise ConfigError(f"{where}: {exc}") from None
        if kind == "seconds":
            seconds = float(value)
            if isinstance(value, bool) or not 0 < seconds <= 3600:
                raise ValueError
            return seconds
        if kind is int and isinstance(value, bool):
            raise ValueError
        return kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: {name} = {value!r} is not a valid value") from None


# S3's rule for new buckets is 3-63 of [a-z0-9.-]; older AWS buckets (us-east-1) and Ceph
# with relaxed names also use uppercase and "_" up to 255, and botocore takes those too.
_BUCKET = re.compile(r"^[A-Za-z0-9._-]{3,255}$")


def bucket_name_problem(name: str) -> str | None:
    """Why `name` cannot be a bucket (said with S3's naming rule), or None."""
    if _BUCKET.match(name):
        return None
    if name.startswith("arn:"):  # an access point ARN stands for a bucket in every S3 call
        from botocore.handlers import VALID_S3_ARN

        if VALID_S3_ARN.search(name):
            return None
        return "is not an S3 access point ARN botocore accepts"
    if name.lower().startswith("s3://"):
        return "is a URL: give the bucket name alone, without s3:// and a path"
    return (
        "is not an S3 bucket name: use 3-63 lowercase letters, digits, dots and hyphens, "
        "starting and ending with a letter or digit (uppercase and '_', up to 255 "
        "characters, are accepted too, for older AWS buckets and servers like Ceph)"
    )


def _validate(settings: Settings) -> Settings:
    problem = bucket_name_problem(settings.bucket) if settings.bucket else None
    if settings.bucket and problem:
        raise ConfigError(f"bucket {settings.bucket!r} {problem}")
    for template, label in ((settings.prefix, "prefix"), (settings.trash_prefix, "trash_prefix")):
        if "{actor_name}" not in template:
            raise ConfigError(f"{label} {template!r} must contain {{actor_name}}")
        if not template.endswith("/") or template.startswith("/"):
            raise ConfigError(f"{label} {template!r} must end with '/' and not start with one")
        try:
            _fill(template, "0000_x")
        except (KeyError, IndexError, ValueError):
            raise ConfigError(
                f"{label} {template!r}: only {{actor_name}} and {{actor_id}} may appear"
            ) from None
    if not 1 <= settings.concurrency <= 256:
        raise ConfigError(f"concurrency {settings.concurrency} must be between 1 and 256")
    if settings.multipart_chunksize < 5 * MiB:
        raise ConfigError("multipart_chunksize must be at least 5 MiB (an S3 limit)")
    if not settings.lease_ttl >= 3:
        raise ConfigError(f"lease_ttl {settings.lease_ttl:g} must be at least 3 (seconds)")
    if not settings.stale_upload_days > 0:
        raise ConfigError("stale_upload_days must be more than 0 (days, e.g. 7 or 0.5)")
    if settings.endpoint_url and not settings.endpoint_url.startswith(("http://", "https://")):
        raise ConfigError(f"endpoint URL {settings.endpoint_url!r} must start with http(s)://")
    return settings


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config ({exc})") from None
    table = data.get("trainsync", data)
    unknown = sorted(set(table) - set(_CONVERTERS))
    if unknown:
        raise ConfigError(f"{path}: unknown setting {unknown[0]!r}")
    return {k: _convert(k, v, str(path)) for k, v in table.items()}


def user_config_path() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("trainsync")) / CONFIG_NAME


def load_settings(
    flags: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Merge: flags beat TRAINSYNC_* variables beat <root>/trainsync.toml beat the user file."""
    flags = {k: v for k, v in (flags or {}).items() if v is not None}
    environ = os.environ if environ is None else environ
    root_text = flags.get("root") or environ.get("TRAINSYNC_ROOT") or "."
    root = Path(root_text).expanduser()
    if not root.is_dir():
        raise ConfigError(f"root folder {root} does not exist: pass --root DIR (it holds data/)")
    merged: dict[str, Any] = {}
    if "TRAINSYNC_CONFIG" in environ:
        merged.update(_read_toml(Path(environ["TRAINSYNC_CONFIG"])))
    else:
        merged.update(_read_toml(user_config_path()))
    merged.update(_read_toml(root / CONFIG_NAME))
    for name in _CONVERTERS:
        value = environ.get(f"TRAINSYNC_{name.upper()}")
        if value:
            merged[name] = _convert(name, value, f"TRAINSYNC_{name.upper()}")
    for name, value in flags.items():
        if name in _CONVERTERS:
            merged[name] = _convert(name, value, f"--{name.replace('_', '-')}")
    known = {f.name for f in fields(Settings)}
    return _validate(
        replace(Settings(root=root.resolve()), **{k: v for k, v in merged.items() if k in known})
    )
