"""Fixtures: a loopback S3 server, a bucket per test, and actors built in any state."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.s3server import S3Server
from trainsync_tui.engine.config import Settings
from trainsync_tui.engine.facade import Engine
from trainsync_tui.sample import put_multipart

AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing-secret-key",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    server = S3Server()
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key, value in AWS_ENV.items():
        monkeypatch.setenv(key, value)
    for key in list(os.environ):
        if key.startswith("TRAINSYNC_") or key in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(key, raising=False)
    # No user config or cache from the machine running the tests.
    monkeypatch.setenv("TRAINSYNC_CONFIG", str(tmp_path / "no-user-config.toml"))
    monkeypatch.setenv("TRAINSYNC_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def bucket(s3_server: S3Server) -> str:
    name = f"test-{uuid.uuid4().hex[:12]}"
    s3_client(s3_server.url).create_bucket(Bucket=name)
    return name


def s3_client(url: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=AWS_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=AWS_ENV["AWS_SECRET_ACCESS_KEY"],
    )


@dataclass
class World:
    """One root folder and one bucket, with helpers to put actors in any state."""

    root: Path
    bucket: str
    url: str
    s3: Any
    settings: Settings = field(init=False)

    def __post_init__(self) -> None:
        self.settings = Settings(
            root=self.root,
            bucket=self.bucket,
            endpoint_url=self.url,
            region="us-east-1",
            cache_dir=self.root.parent / "cache",
            concurrency=4,
        )

    def engine(self, **kwargs: Any) -> Engine:
        return Engine(self.settings, **kwargs)

    def cli_flags(self) -> list[str]:
        return ["--root", str(self.root), "--bucket", self.bucket, "--endpoint-url", self.url]

    def actor_dir(self, actor: str) -> Path:
        return self.root / "data" / "actors" / actor

    def local_path(self, actor: str, path: str) -> Path:
        return self.actor_dir(actor) / "training_data" / path

    def key(self, actor: str, path: str) -> str:
        return f"actors/{actor}/training_data/{path}"

    def put_local(self, actor: str, path: str, data: bytes) -> Path:
        target = self.local_path(actor, path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return target

    def read_local(self, actor: str, path: str) -> bytes:
        return self.local_path(actor, path).read_bytes()

    def put_s3(
        self,
        actor: str,
        path: str,
        data: bytes,
        *,
        multipart: bool = False,
        metadata: dict[str, str] | None = None,
        key: str | None = None,
    ) -> None:
        key = key or self.key(actor, path)
        if not multipart:
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=data, Metadata=metadata or {})
            return
        put_multipart(self.s3, self.bucket, key, data, metadata)

    def read_s3(self, actor: str, path: str) -> bytes:
        return self.s3.get_object(Bucket=self.bucket, Key=self.key(actor, path))["Body"].read()

    def assert_uploaded_in_parts(self, actor: str, path: str, data: bytes, parts: int) -> None:
        """`data` stands at `path` in S3 as an object of `parts` parts whose metadata carries
        its MD5 (which a multipart ETag is not), so a machine without the cache can verify it."""
        head = self.s3.head_object(Bucket=self.bucket, Key=self.key(actor, path))
        assert head["ETag"].strip('"').endswith(f"-{parts}")
        assert head["Metadata"]["md5"] == md5(data)
        assert self.read_s3(actor, path) == data

    def s3_keys(self, prefix: str = "") -> list[str]:
        keys: list[str] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        ):
            keys.extend(o["Key"] for o in page.get("Contents", []))
        return sorted(keys)

    def s3_paths(self, actor: str) -> list[str]:
        prefix = f"actors/{actor}/training_data/"
        return [k[len(prefix) :] for k in self.s3_keys(prefix)]

    def local_paths(self, actor: str) -> list[str]:
        top = self.actor_dir(actor) / "training_data"
        if not top.exists():
            return []
        return sorted(str(p.relative_to(top)) for p in top.rglob("*") if p.is_file())

    def put_in_sync(self, actor: str, files: dict[str, bytes]) -> None:
        """The files locally, in S3 and in the manifest, which records only them."""
        for path, data in files.items():
            self.put_local(actor, path, data)
            self.put_s3(actor, path, data)
        self.write_manifest(actor, files)

    def write_manifest(self, actor: str, files: dict[str, bytes | str], **extra: Any) -> None:
        entries = {}
        for path, content in files.items():
            digest = content if isinstance(content, str) else md5(content)
            size = 0 if isinstance(content, str) else len(content)
            entries[path] = {"md5": digest, "size": size, "updated_at": "2026-01-01T00:00:00Z"}
        doc = {
            "version": 1,
            "actor_id": actor.split("_")[0],
            "actor_name": actor,
            "updated_at": "2026-01-01T00:00:00Z",
            "files": entries,
            **extra,
        }
        target = self.actor_dir(actor) / "manifest.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(doc))

    def manifest(self, actor: str) -> dict[str, Any]:
        return json.loads((self.actor_dir(actor) / "manifest.json").read_text())

    def manifest_md5s(self, actor: str) -> dict[str, str]:
        path = self.actor_dir(actor) / "manifest.json"
        if not path.exists():
            return {}
        return {p: e["md5"] for p, e in self.manifest(actor)["files"].items()}


@pytest.fixture
def world(tmp_path: Path, bucket: str, s3_server: S3Server) -> World:
    root = tmp_path / "root"
    (root / "data" / "actors").mkdir(parents=True)
    return World(root, bucket, s3_server.url, s3_client(s3_server.url))
