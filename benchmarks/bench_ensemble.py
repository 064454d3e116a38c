"""An ensemble of the homework's six trainings: one thread, two threads, and a two-worker Dask cluster.

Eight seeds of the six homework configurations (depth 1 and 2, widths 10, 20, 40, paradigm
"all"): 48 trainings of 150,000 SGD steps, a snapshot every 1,000, on the default backend.
Timed three ways in the same run: ``sweep(n_jobs=1)`` (the baseline), ``sweep(n_jobs=2)``
(two local threads) and ``sweep(executor=client.get_executor())`` on a
``LocalCluster(n_workers=2, threads_per_worker=1, processes=True)``. The cluster's start
and its workers' first import and compile are timed apart, with a small warm-up sweep, so
the ensemble times compare the trainings alone. All three must give bit-identical runs.

Run: python benchmarks/bench_ensemble.py [--steps N] [--seeds K]
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np

import linfeat_widgets as lf

WIDTHS, DEPTHS = (10, 20, 40), (1, 2)


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=150_000, help="SGD steps per training (default 150,000)")
    parser.add_argument("--seeds", type=int, default=8, help="seeds per configuration (default 8)")
    args = parser.parse_args()
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise SystemExit(  # noqa: B904 - the message says all
            "this benchmark needs the 'distributed' extra: pip install 'linfeat_widgets[distributed]'"
        )

    data = lf.make_dataset()
    kwargs = dict(widths=WIDTHS, depths=DEPTHS, seeds=range(args.seeds), n_steps=args.steps, progress=False)
    n_runs = len(WIDTHS) * len(DEPTHS) * args.seeds
    print(f"{n_runs} trainings ({args.seeds} seeds x 6 configurations) of {args.steps:,} steps")
    lf.sweep(data, widths=10, n_steps=10, progress=False)  # compile (or load) the fast backend here first

    one, t_one = timed(lambda: lf.sweep(data, n_jobs=1, **kwargs))
    backend = one.history(10, 1, "all").config["backend"]
    two, t_two = timed(lambda: lf.sweep(data, n_jobs=2, **kwargs))
    start = time.perf_counter()
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
        ) as cluster,
        Client(cluster) as client,
    ):
        executor = client.get_executor()
        t_start = time.perf_counter() - start
        # each worker imports the package and loads the compiled loop once
        _, t_warm = timed(lambda: lf.sweep(data, widths=(10, 11), n_steps=10, executor=executor, progress=False))
        dask, t_dask = timed(lambda: lf.sweep(data, executor=executor, **kwargs))

    for name, other in (("two threads", two), ("dask", dask)):
        same = all(np.array_equal(one[c].params, other[c].params) for c in one)
        print(f"  {name} runs bit-identical to one thread: {same}")
        if not same:
            raise SystemExit(f"{name} runs differ from the single-thread runs")
    print(f"  backend: {backend}; cluster start {t_start:.1f} s, workers' warm-up {t_warm:.1f} s (not counted below)")
    for name, seconds in (
        ("one thread (n_jobs=1)", t_one),
        ("two threads (n_jobs=2)", t_two),
        ("LocalCluster, 2 worker processes", t_dask),
    ):
        print(f"  {name:<34} {seconds:8.2f} s   {t_one / seconds:5.2f}x vs one thread")


if __name__ == "__main__":
    main()
