"""Seeded synthetic actors: the same bytes on every run and for every tool."""

from __future__ import annotations

import os
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

KiB = 1024
MiB = 1024 * KiB
_CHUNK = MiB


@dataclass(frozen=True)
class FileSpec:
    actor: str
    rel: str
    size: int
    seed: int


@dataclass(frozen=True)
class Dataset:
    """A named set of actors' files; `files` fixes every path, size and content seed."""

    name: str
    files: tuple[FileSpec, ...]

    @property
    def actors(self) -> list[str]:
        return sorted({f.actor for f in self.files})

    @property
    def count(self) -> int:
        return len(self.files)

    @property
    def bytes(self) -> int:
        return sum(f.size for f in self.files)


def actor_name(index: int) -> str:
    return f"{9000 + index:04d}_bench"


def many(name: str, files: int, folders: int, seed: int, actor: str | None = None) -> Dataset:
    """`files` small files (1–16 KiB) spread over `folders` folders."""
    rng = random.Random(seed)
    actor = actor or actor_name(0)
    specs = [
        FileSpec(actor, f"f{i % folders:03d}/s{i:06d}.bin", rng.randint(KiB, 16 * KiB), seed + i)
        for i in range(files)
    ]
    return Dataset(name, tuple(specs))


def large(name: str, big_mib: list[int], total_mib: int, seed: int) -> Dataset:
    """A few big files (`big_mib`) and 1–8 MiB files up to `total_mib` in all."""
    rng = random.Random(seed)
    actor = actor_name(0)
    specs = [
        FileSpec(actor, f"big/b{i:02d}.bin", mib * MiB, seed + i) for i, mib in enumerate(big_mib)
    ]
    left = total_mib * MiB - sum(s.size for s in specs)
    i = 0
    while left > MiB:
        size = min(left, rng.randint(MiB, 8 * MiB))
        specs.append(FileSpec(actor, f"m{i % 8}/m{i:04d}.bin", size, seed + 1000 + i))
        left -= size
        i += 1
    return Dataset(name, tuple(specs))


def actors(name: str, count: int, files_each: int, seed: int) -> Dataset:
    """`count` actors of `files_each` small files each (the --all workload)."""
    specs: list[FileSpec] = []
    for a in range(count):
        part = many(name, files_each, 5, seed + a * 100_003, actor=actor_name(a + 1))
        specs.extend(part.files)
    return Dataset(name, tuple(specs))


def training_dir(root: Path, actor: str) -> Path:
    return root / "data" / "actors" / actor / "training_data"


def _write(path: Path, size: int, seed: int) -> None:
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".benchtmp")
    with open(tmp, "wb") as handle:
        left = size
        while left:
            n = min(left, _CHUNK)
            handle.write(rng.randbytes(n))
            left -= n
    os.replace(tmp, path)


def generate(dataset: Dataset, root: Path) -> None:
    """Write the dataset under `root/data/actors/<actor>/training_data/`."""
    for spec in dataset.files:
        _write(training_dir(root, spec.actor) / spec.rel, spec.size, spec.seed)


def clone(source: Path, target: Path) -> None:
    """A hard-linked copy: instant, and every change below goes through a rename."""
    shutil.copytree(source, target, copy_function=os.link)


@dataclass(frozen=True)
class Change:
    modified: int
    added: int
    bytes: int


def apply_incremental(dataset: Dataset, root: Path, seed: int, share: float = 0.01) -> Change:
    """Rewrite `share` of the files with new bytes of the same size and add as many new ones.

    Writes go to a new inode (temp + rename), so hard-linked clones of the tree keep theirs.
    """
    rng = random.Random(seed)
    n = max(1, round(dataset.count * share))
    picked = rng.sample(range(dataset.count), n)
    changed = 0
    for k, index in enumerate(picked):
        spec = dataset.files[index]
        _write(training_dir(root, spec.actor) / spec.rel, spec.size, seed + 7 + k)
        changed += spec.size
        # The added file sits beside a modified one, in a folder every tool already knows.
        added = Path(spec.rel).with_name(f"added{k:05d}.bin")
        size = min(spec.size, 8 * MiB)
        _write(training_dir(root, spec.actor) / added, size, seed + 100_000 + k)
        changed += size
    return Change(modified=n, added=n, bytes=changed)


def tree_stats(path: Path) -> tuple[int, int]:
    """(files, bytes) under a folder, ignoring trainsync's manifests and state."""
    count = total = 0
    for folder, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if name.startswith("manifest.json") or name.startswith("."):
                continue
            count += 1
            total += os.stat(os.path.join(folder, name)).st_size
    return count, total
