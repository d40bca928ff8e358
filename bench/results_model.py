"""What a run records: measurements (repeated runs of one scenario on one server), ratios against
targets, tile sizes, notes and what was skipped. Serialised as bench/results/latest.json."""

from dataclasses import dataclass, field
from typing import Any

from bench.load import Run, median


@dataclass
class Measurement:
    scenario: str  # e.g. "geojson-10k", "tiles-z8-c16"
    server: str  # "amdis", "drf-gis", "floor-sql", "tipg", ...
    params: dict[str, Any] = field(default_factory=dict)
    items_per_request: int = 1  # features per response, for features per second
    runs: list[Run] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        rps = median([r.rps for r in self.runs])
        groups = sorted({g for r in self.runs for g in r.cpu_cores})
        rss = [r.peak_rss_mb for r in self.runs if r.peak_rss_mb is not None]
        return {
            "scenario": self.scenario,
            "server": self.server,
            "params": self.params,
            "repeats": len(self.runs),
            "rps": round(rps, 3),
            "items_per_s": round(rps * self.items_per_request, 1),
            "items_per_request": self.items_per_request,
            "p50_ms": round(median([r.p50_ms for r in self.runs]), 2),
            "p99_ms": round(median([r.p99_ms for r in self.runs]), 2),
            "errors": sum(r.errors for r in self.runs),
            "requests": sum(r.requests for r in self.runs),
            "cpu_cores": {
                g: round(median([r.cpu_cores.get(g, 0.0) for r in self.runs]), 2) for g in groups
            },
            "peak_rss_mb": round(max(rss), 1) if rss else None,
            "runs": [r.to_dict() for r in self.runs],
        }


@dataclass
class Ratio:
    name: str
    numerator: str  # "scenario/server"
    denominator: str
    value: float
    target: float | None = None  # at least this
    metric: str = "rps"

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.value >= self.target


@dataclass
class Results:
    profile: str
    meta: dict[str, Any] = field(default_factory=dict)
    measurements: list[Measurement] = field(default_factory=list)
    ratios: list[Ratio] = field(default_factory=list)
    tile_sizes: dict[str, Any] = field(default_factory=dict)
    checks: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    profiles: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def measurement(
        self,
        scenario: str,
        server: str,
        *,
        params: dict[str, Any] | None = None,
        items_per_request: int = 1,
    ) -> Measurement:
        for m in self.measurements:
            if m.scenario == scenario and m.server == server:
                return m
        m = Measurement(scenario, server, params or {}, items_per_request)
        self.measurements.append(m)
        return m

    def find(self, scenario: str, server: str) -> Measurement | None:
        return next(
            (m for m in self.measurements if m.scenario == scenario and m.server == server), None
        )

    def ratio(
        self,
        name: str,
        scenario: str,
        server: str,
        other_scenario: str,
        other_server: str,
        *,
        target: float | None = None,
    ) -> Ratio | None:
        """AMDIS ÷ peer (or ÷ floor) on median requests per second; None if either is missing."""
        a, b = self.find(scenario, server), self.find(other_scenario, other_server)
        if not a or not b or not a.runs or not b.runs:
            return None
        rps_a = median([r.rps for r in a.runs]) * a.items_per_request
        rps_b = median([r.rps for r in b.runs]) * b.items_per_request
        value = rps_a / rps_b if rps_b else float("inf")
        ratio = Ratio(
            name,
            f"{scenario}/{server}",
            f"{other_scenario}/{other_server}",
            round(value, 3),
            target,
            "items_per_s",
        )
        self.ratios.append(ratio)
        return ratio

    def check(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append({"name": name, "ok": ok, "detail": detail})

    def skip(self, scenario: str, reason: str) -> None:
        self.skipped.append({"scenario": scenario, "reason": reason})

    def to_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "meta": self.meta,
            "measurements": [m.summary() for m in self.measurements],
            "ratios": [
                {
                    "name": r.name,
                    "numerator": r.numerator,
                    "denominator": r.denominator,
                    "value": r.value,
                    "target": r.target,
                    "met": r.met,
                    "metric": r.metric,
                }
                for r in self.ratios
            ],
            "tile_sizes": self.tile_sizes,
            "checks": self.checks,
            "notes": self.notes,
            "skipped": self.skipped,
            "profiles": self.profiles,
            "extra": self.extra,
        }
