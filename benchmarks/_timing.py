"""Small timing helpers shared by the benchmarks (median of repeats, after a warm-up)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

# the homework's algorithms, kept as the baseline, live beside the tests
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


def median_seconds(fn, repeats: int = 30, warmup: int = 2) -> float:
    """Median wall time of ``fn()`` over ``repeats`` calls, after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def report(rows: list[tuple[str, float]], baseline: str) -> None:
    """Print each timing in ms and its speed-up against the ``baseline`` row."""
    base = dict(rows)[baseline]
    width = max(len(name) for name, _ in rows)
    for name, seconds in rows:
        print(f"  {name:<{width}}  {seconds * 1e3:10.2f} ms   {base / seconds:8.1f}x vs {baseline}")
