"""Issue 6 speed target: a weights-of-evidence model over 1,000 x 1,000 cells with five evidence
layers in under 10 s and 2 GB. Times the modeller's numerical path (fit, posterior, success- and
prediction-rate curves) and the Cloud Optimised GeoTIFF it writes, on synthetic evidence; reports
wall time and peak memory (Python allocations and the process's peak RSS).

    .venv/bin/python -m bench.prospectivity
"""

import os
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
from affine import Affine

from bench.procs import peak_rss_mb

SIDE = 1000
LAYERS = 5
CLASSES = 8
DEPOSITS = 500
CELL = 1000.0


def synthetic(seed: int = 6) -> tuple[list, np.ndarray, np.ndarray, np.ndarray]:
    from prospectivity.engine import Evidence

    rng = np.random.default_rng(seed)
    study = np.ones((SIDE, SIDE), dtype=bool)
    study[:, : SIDE // 10] = False  # a study area that is not the whole grid
    layers = [
        Evidence(
            name=f"layer {i}",
            kind="raster",
            labels=[f"class {k}" for k in range(1, CLASSES + 1)],
            codes=rng.integers(0, CLASSES + 1, (SIDE, SIDE)).astype("uint16"),
        )
        for i in range(LAYERS)
    ]
    candidates = np.flatnonzero(study)
    deposits = rng.choice(candidates, DEPOSITS, replace=False)
    return layers, study, deposits[: DEPOSITS * 3 // 4], deposits[DEPOSITS * 3 // 4 :]


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webgis.settings")
    import django

    django.setup()
    from prospectivity.engine import run_model
    from prospectivity.evidence import Grid
    from prospectivity.services import write_cog

    layers, study, train, test = synthetic()
    tracemalloc.start()
    started = time.perf_counter()
    values, report = run_model(
        method="wofe", evidence=layers, study=study, train=train, test=test, cell_area_km2=1.0
    )
    fitted = time.perf_counter()
    grid = Grid(
        transform=Affine(CELL, 0, 0, 0, -CELL, SIDE * CELL),
        width=SIDE,
        height=SIDE,
        cell_size=CELL,
        study=study,
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "posterior.tif"
        write_cog(values, grid, path, {"AMDIS_BENCH": "1"})
        size = path.stat().st_size
    finished = time.perf_counter()
    _, python_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_peak_mb = peak_rss_mb([os.getpid()])  # VmHWM: ru_maxrss survives exec (peer_ingest)
    total = finished - started
    print(
        f"cells: {SIDE} x {SIDE}, evidence layers: {LAYERS} x {CLASSES} classes, deposits: {DEPOSITS}"
    )
    print(f"fit + posterior + curves: {fitted - started:.2f} s")
    print(f"Cloud Optimised GeoTIFF:  {finished - fitted:.2f} s ({size / 1e6:.1f} MB)")
    print(f"total: {total:.2f} s (target < 10 s): {'PASS' if total < 10 else 'FAIL'}")
    print(
        f"peak Python allocations: {python_peak / 1e6:.0f} MB; process peak RSS: {rss_peak_mb:.0f} MB (target < 2048 MB)"
    )
    print(
        f"success-rate AUC {report['success_rate']['auc']}, prediction-rate AUC {report['prediction_rate']['auc']}"
    )


if __name__ == "__main__":
    main()
