"""Kernel movement, residual projections and spectrum history over a run, and linearized training.

One run of width 40, depth 2 (d = 1,761 parameters) on the homework's n = 200 points with
151 snapshots (150,000 steps, a snapshot every 1,000). Target: ``kernel_movement`` +
``residual_projections`` + ``spectrum_history`` together <= 1 s on a 2-core CPU. The
baseline, measured in the same run, is the naive loop over snapshots: ``linearize`` (the
feature matrix, for the kernel), ``feature_svd`` and ``predict`` per snapshot.

Then training the linearized model against training the network, same settings.

The time goes mostly to one 200 x 200 symmetric eigen-problem per snapshot. On a machine
whose cores are busy with other work, OpenBLAS threads contend and such small problems run
many times slower with two threads than with one. With ``threadpoolctl`` installed, the
theory functions run their passes on one BLAS thread; without it, compare
``OPENBLAS_NUM_THREADS=1 python benchmarks/bench_theory.py``.

Run: python benchmarks/bench_theory.py
"""

from __future__ import annotations

import os
import time

import numpy as np
from _timing import median_seconds, report

import linfeat_widgets as lf
from linfeat_widgets import theory


def naive(history, data) -> list:
    """What the three functions compute, one snapshot at a time with the public per-model API."""
    X, y = data.X, data.y
    J0 = lf.linearize(history.model(0), X).matrix
    K0 = J0 @ J0.T
    U0 = lf.feature_svd(history.model(0), X).U
    theta0 = history.initial_params
    rows = []
    for step in [0, *history.steps]:
        model = history.model(int(step))
        J = lf.linearize(model, X).matrix
        rows.append(
            (
                np.linalg.norm(J @ J.T - K0) / np.linalg.norm(K0),
                np.linalg.norm(history.params_at(int(step)) - theta0) / np.linalg.norm(theta0),
                lf.feature_svd(model, X).singular_values,
                U0.T @ (y - lf.predict(model, X)),
            )
        )
    return rows


def ours(history, data) -> None:
    theory._CACHE.clear()  # time the computation, not the cache
    lf.kernel_movement(history, data)
    lf.residual_projections(history, data)
    lf.spectrum_history(history, data)


def main() -> None:
    data = lf.make_dataset()
    model = lf.make_mlp(40, depth=2, seed=0)
    d = sum(p.numel() for p in model.parameters())
    settings = {"n_steps": 150_000, "save_every": 1000, "progress": False}
    lf.train(model, data, n_steps=10, save_every=5, progress=False)  # compile the fast trainer first

    start = time.perf_counter()
    history = lf.train(model, data, **settings)
    network_seconds = time.perf_counter() - start
    start = time.perf_counter()
    linear = lf.train(model, data, linearized=True, **settings)
    linear_seconds = time.perf_counter() - start

    print(
        f"width 40, depth 2: d = {d} parameters, n = {data.n_samples} points, "
        f"{len(history) + 1} snapshots (with step 0)"
    )
    three = "kernel_movement + residual_projections + spectrum_history"
    rows = [
        ("naive loop: linearize + feature_svd + predict", median_seconds(lambda: naive(history, data), 1, 0)),
        (three, median_seconds(lambda: ours(history, data), 5, 1)),
        ("the three on the linearized run", median_seconds(lambda: ours(linear, data), 5, 1)),
        ("residual_projections(basis='current') alone", median_seconds(lambda: _current(history, data), 3, 1)),
    ]
    print(f"BLAS threads: OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset (all cores)')}")
    print(f"threadpoolctl (one BLAS thread in the theory passes): {'yes' if _has_threadpoolctl() else 'not installed'}")
    report(rows, baseline="naive loop: linearize + feature_svd + predict")
    seconds = dict(rows)[three]
    print(f"target <= 1 s: {'met' if seconds <= 1.0 else 'NOT met'} ({seconds:.3f} s)")
    # CPU time of this process: on a machine shared with other work, wall time also counts the waits for a core
    for name, fn in [("naive loop", lambda: naive(history, data)), ("the three", lambda: ours(history, data))]:
        start = time.process_time()
        fn()
        print(f"  CPU time, {name}: {time.process_time() - start:.3f} s")

    print(f"\ntraining, {settings['n_steps']} steps, paradigm 'all', float32, batch 40:")
    print(f"  network (fast backend)  {network_seconds:8.2f} s")
    print(f"  linearized model        {linear_seconds:8.2f} s   {network_seconds / linear_seconds:5.2f}x vs network")
    print(f"  final test error: network {history.test_error[-1]:.4g}, linearized {linear.test_error[-1]:.4g}")


def _has_threadpoolctl() -> bool:
    import importlib.util

    return importlib.util.find_spec("threadpoolctl") is not None


def _current(history, data) -> None:
    theory._CACHE.clear()
    lf.residual_projections(history, data, basis="current")


if __name__ == "__main__":
    main()
