"""The homework's six trainings: the fast backend against the homework's own loop.

Six trainings (depth 1 and 2, widths 10, 20, 40), 150,000 SGD steps each, a snapshot
every 1,000. Targets: at most 3 s in total on a 2-core CPU and at least 40x the
homework's loop. The homework's loop (torch.randperm minibatch, nn.MSELoss, SGD, a
deepcopy of the state dict per snapshot) is timed in the same run on the first
``--baseline-steps`` steps of each training and extrapolated to 150,000 (its cost per
step is flat). Compile time is measured separately, in fresh processes: once with an
empty numba cache, once with the cache that run left on disk.

Run: python benchmarks/bench_training.py [--baseline-steps N] [--steps N]
"""

from __future__ import annotations

import argparse
import copy
import os
import subprocess
import sys
import tempfile
import time

from _timing import report
from homework import homework_train

import linfeat_widgets as lf

CONFIGS = [(w, d) for d in (1, 2) for w in (10, 20, 40)]

COLD_START = """
import time
t = time.perf_counter()
import linfeat_widgets as lf
from linfeat_widgets.training import fast_backend
data = lf.make_dataset()
t_import = time.perf_counter()
lf.train(lf.make_mlp(10, seed=0), data, n_steps=10, backend="fast", progress=False)
print(t_import - t, time.perf_counter() - t_import)
"""


def first_call_seconds(cache_dir: str) -> tuple[float, float]:
    """(import seconds, first fast training of 10 steps seconds) in a fresh process."""
    env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir}
    out = subprocess.run([sys.executable, "-c", COLD_START], env=env, capture_output=True, text=True, check=True)
    first, second = out.stdout.split()
    return float(first), float(second)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-steps", type=int, default=1500, help="homework-loop steps timed per training")
    parser.add_argument("--steps", type=int, default=150_000, help="SGD steps per training")
    args = parser.parse_args()
    data = lf.make_dataset()
    models = {(w, d): lf.make_mlp(w, depth=d, seed=w + d) for w, d in CONFIGS}

    print(f"six trainings, {args.steps:,} steps each, snapshot every 1,000 ({os.cpu_count()} CPU cores)")
    with tempfile.TemporaryDirectory() as cache:
        cold = first_call_seconds(cache)
        warm = first_call_seconds(cache)
    print(
        f"compile: first fast training in a fresh process {cold[1]:.2f} s with an empty numba cache, "
        f"{warm[1]:.2f} s with the disk cache (import {warm[0]:.2f} s)"
    )

    per_step = {}
    for key, model in models.items():
        homework_train(copy.deepcopy(model), data.X, data.y, data.X_test, data.y_test, 50, 1000, 0.02)  # warm-up
        start = time.perf_counter()
        homework_train(copy.deepcopy(model), data.X, data.y, data.X_test, data.y_test, args.baseline_steps, 1000, 0.02)
        per_step[key] = (time.perf_counter() - start) / args.baseline_steps
    homework_total = sum(per_step.values()) * args.steps

    lf.sweep(data, widths=(10,), depths=(1, 2), n_steps=10, progress=False)  # compile outside the timings
    timings = {}
    for label, n_jobs in (("fast backend, 2 threads (sweep)", 2), ("fast backend, 1 thread", 1)):
        start = time.perf_counter()
        result = lf.sweep(data, widths=(10, 20, 40), depths=(1, 2), n_steps=args.steps, progress=False, n_jobs=n_jobs)
        timings[label] = time.perf_counter() - start
    for w, d in CONFIGS:
        start = time.perf_counter()
        lf.train(models[w, d], data, n_steps=args.steps, backend="fast", progress=False)
        timings[f"  one training, depth {d}, width {w}"] = time.perf_counter() - start
    for (w, d), seconds in per_step.items():
        print(f"  homework loop, depth {d}, width {w}: {seconds * 1e6:.0f} us/step")

    rows = [("homework loop (extrapolated)", homework_total), *list(timings.items())]
    report(rows, baseline="homework loop (extrapolated)")
    best = timings["fast backend, 2 threads (sweep)"]
    print(
        f"target <= 3 s for the six: {'met' if best <= 3.0 else 'NOT met'} ({best:.2f} s); "
        f"target >= 40x: {'met' if homework_total / best >= 40 else 'NOT met'} ({homework_total / best:.0f}x)"
    )

    history = result.history(width=40, depth=2)
    per_snapshot = history.params.itemsize * history.params.shape[1] + 3 * 8
    print(
        f"memory, width 40 depth 2 (d = {history.params.shape[1]}): {per_snapshot:,} bytes per snapshot, "
        f"{history.nbytes:,} bytes for the whole history ({len(history)} snapshots)"
    )


if __name__ == "__main__":
    main()
