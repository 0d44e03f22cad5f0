"""What a bench run found: one Measurement per tool and workload, plus context."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trainsync_tui.bench.measure import Timing

MB = 1_000_000


@dataclass
class Measurement:
    dataset: str
    workload: str
    tool: str
    files: int  # files the workload is about: all of them for an audit, the changed ones for W4
    bytes: int
    wall_s: float
    user_s: float
    sys_s: float
    peak_rss_mb: float
    requests: dict[str, int]
    ok: bool
    note: str = ""
    server_cpu_s: float = 0.0  # the S3 server's CPU during the run: it shares the 2 cores

    @classmethod
    def one_file(
        cls, timing: Timing, dataset: str, workload: str, tool: str, size: int, **extra: Any
    ) -> Measurement:
        """The rerun of a cut transfer of one file (W8, W9, W11): `requests` and `note` in
        `extra`."""
        return cls.timed(
            timing, dataset=dataset, workload=workload, tool=tool, files=1, size=size, **extra
        )

    @classmethod
    def timed(
        cls,
        timing: Timing,
        *,
        dataset: str,
        workload: str,
        tool: str,
        files: int,
        size: int,
        requests: dict[str, int],
        note: str = "",
        server_cpu_s: float = 0.0,
    ) -> Measurement:
        """One run's figures, rounded as the report prints them; ok when there is no note."""
        return cls(
            dataset=dataset,
            workload=workload,
            tool=tool,
            files=files,
            bytes=size,
            wall_s=round(timing.wall_s, 3),
            user_s=round(timing.user_s, 2),
            sys_s=round(timing.sys_s, 2),
            peak_rss_mb=round(timing.peak_rss_mb, 1),
            requests=requests,
            ok=not note,
            note=note,
            server_cpu_s=round(server_cpu_s, 2),
        )

    @property
    def files_per_s(self) -> float:
        return self.files / self.wall_s if self.wall_s else 0.0

    @property
    def mb_per_s(self) -> float:
        return self.bytes / MB / self.wall_s if self.wall_s else 0.0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["files_per_s"] = round(self.files_per_s, 1)
        data["mb_per_s"] = round(self.mb_per_s, 1)
        return data


def median_runs(runs: list[Measurement]) -> list[Measurement]:
    """Of repeated runs, the one with the median wall time per dataset, workload and tool
    (the lower middle of an even count), in the order they first ran. A whole run is kept,
    not a median of each figure, so its CPU, memory and requests belong to that wall time."""
    groups: dict[tuple[str, str, str], list[Measurement]] = {}
    for m in runs:
        groups.setdefault((m.dataset, m.workload, m.tool), []).append(m)
    chosen = []
    for group in groups.values():
        ordered = sorted(group, key=lambda m: m.wall_s)
        chosen.append(ordered[(len(ordered) - 1) // 2])
    return chosen


@dataclass
class BenchResult:
    context: dict[str, Any]
    measurements: list[Measurement] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)  # hashing, profiles, app

    def find(self, dataset: str, workload: str, tool: str) -> Measurement | None:
        for m in self.measurements:
            if (m.dataset, m.workload, m.tool) == (dataset, workload, tool):
                return m
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "context": self.context,
            "measurements": [m.to_json() for m in self.measurements],
            "skipped": self.skipped,
            "extras": self.extras,
        }


def target_line(label: str, figure: dict[str, Any], measured: str, met: bool) -> str:
    """A row of the targets table for one of the cut-and-rerun or rate figures."""
    if not figure.get("ok"):
        return f"| {label} | – | not measured |"
    return f"| {label} | {measured} | {'yes' if met else '**no**'} |"
