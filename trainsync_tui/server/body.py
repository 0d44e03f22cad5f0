"""The comprehensive-sync request body: strict JSON in, SyncOptions out, one-line 400s."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from trainsync_tui.engine.facade import SyncOptions
from trainsync_tui.engine.paths import normalise
from trainsync_tui.engine.plan.build import ConflictPolicy
from trainsync_tui.engine.plan.select import Selection
from trainsync_tui.server.errors import ApiError

MAX_BODY = 64 * 1024
_FLAGS = ("delete_orphans", "dry_run", "force")
_LISTS = ("paths", "only", "exclude")
# (allowed values, default)
_CHOICES: dict[str, tuple[tuple[str, ...], str]] = {
    "conflict": (tuple(str(p) for p in ConflictPolicy), str(ConflictPolicy.SKIP)),
    "direction": (("up", "down", "both"), "both"),
}
FIELDS = ("actor_name", *_FLAGS, *_CHOICES, *_LISTS, "bwlimit")


async def read_body(request: web.Request, timeout: float) -> bytes:
    """The whole body, or a 408 when it has not all arrived within `timeout` seconds (a
    client that sends a byte a minute would otherwise hold the connection for ever)."""
    try:
        async with asyncio.timeout(timeout):
            return await request.read()
    except TimeoutError:
        raise ApiError(
            408,
            f"request body not received within {timeout:g} s (body_timeout); send it at once",
            headers={"Connection": "close"},
        ) from None


@dataclass(frozen=True)
class SyncRequest:
    actor_name: str
    options: SyncOptions


def parse_sync_body(raw: bytes) -> SyncRequest:
    """Unknown fields are refused: a typo like "dry-run" must not turn into a real sync."""
    if not raw.strip():
        raise ApiError(400, 'empty body: send {"actor_name": "<actor folder name>"}')
    try:
        data = json.loads(raw.decode("utf-8"), object_pairs_hook=_refuse_duplicates)
    except UnicodeDecodeError:
        raise ApiError(400, "request body is not UTF-8 JSON") from None
    except RecursionError:
        raise ApiError(
            400, 'request body nested too deeply: send one flat object {"actor_name": …}'
        ) from None
    except json.JSONDecodeError as exc:
        raise ApiError(
            400,
            f"request body is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})",
        ) from None
    except ValueError:
        # Python refuses to convert an integer of over 4,300 digits (CVE-2020-10735); no
        # field of ours takes a number, so say what the body should be.
        raise ApiError(
            400, "request body holds a number too long to read: no field takes a number"
        ) from None
    if not isinstance(data, dict):
        raise ApiError(400, f"request body must be a JSON object, not {_kind(data)}")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise ApiError(400, f"unknown field {unknown[0]!r}; accepted: {', '.join(FIELDS)}")
    name = data.get("actor_name")
    if name is None:
        raise ApiError(400, 'missing field "actor_name" (e.g. "0042_european_30_male")')
    if not isinstance(name, str):
        raise ApiError(400, f'"actor_name" must be a string, not {_kind(name)}')
    return SyncRequest(name, _options(data))


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json.loads keeps the last of two equal keys: {"dry_run": true, "dry_run": false}
    would run a real sync. Which one the client meant is unknowable, so refuse."""
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise ApiError(400, f"duplicate field {key!r} in the request body: send it once")
        data[key] = value
    return data


def _options(data: Mapping[str, Any]) -> SyncOptions:
    flags = {}
    for key in _FLAGS:
        value = data.get(key, False)
        if not isinstance(value, bool):
            raise ApiError(400, f'"{key}" must be true or false, not {_kind(value)}')
        flags[key] = value
    choices = {}
    for key, (allowed, default) in _CHOICES.items():
        value = data.get(key, default)
        if not isinstance(value, str) or value not in allowed:
            raise ApiError(400, f'"{key}" must be one of {", ".join(allowed)}, not {value!r}')
        choices[key] = value
    lists = {key: _strings(data, key) for key in _LISTS}
    selection = Selection(
        only=lists["only"],
        exclude=lists["exclude"],
        # "images" may be a file or a folder: select both readings.
        paths=frozenset(
            form for p in lists["paths"] for form in (normalise(p), normalise(p).rstrip("/") + "/")
        ),
        direction=choices["direction"],
    )
    return SyncOptions(
        dry_run=flags["dry_run"],
        delete_orphans=flags["delete_orphans"],
        force=flags["force"],
        conflict=ConflictPolicy(choices["conflict"]),
        selection=selection,
        bwlimit=_bwlimit(data.get("bwlimit")),
    )


def _bwlimit(value: Any) -> str | None:
    """rclone's --bwlimit form; the limit applies to the server's transfers from then on."""
    from trainsync_tui.engine.bwlimit import parse_bwlimit
    from trainsync_tui.engine.errors import ConfigError

    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(400, f'"bwlimit" must be a string like "20M", not {_kind(value)}')
    try:
        return parse_bwlimit(value).text
    except ConfigError as exc:
        raise ApiError(400, str(exc)) from None


def _strings(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ApiError(400, f'"{key}" must be a list of strings, not {_kind(value)}')
    for item in value:
        if not item or "\0" in item or item.startswith("/") or ".." in item.split("/"):
            raise ApiError(
                400,
                f'"{key}": {item!r} is not a path inside training_data/ '
                '(e.g. "images/0001.png" or "images/")',
            )
    return tuple(value)


def query_flag(query: Mapping[str, str], key: str, default: bool = False) -> bool:
    """`?key=1|true|yes` or `0|false|no`; anything else is a 400."""
    value = query.get(key)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ApiError(400, f"query parameter {key}={value!r}: use 1 or 0")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"
