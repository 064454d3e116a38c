"""How soon Ctrl-C stops training: SIGINT sent to a child mid-run, time until its except block runs.

Baseline, measured in the same run: the time one compiled call over a whole snapshot
interval of save_every=150,000 steps takes (width 40, depth 2), which is how long an
interrupt waited before training returned to Python between bounded sub-chunks.

Run: python benchmarks/bench_interrupt.py [--repeats N]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import linfeat_widgets as lf
from linfeat_widgets.training import fast_backend, plan

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import json, sys, threading, time
import linfeat_widgets as lf
data = lf.make_dataset()
started = []
def progress(k):
    if not started:
        started.append(k)
        print("started", flush=True)
try:
    {call}
except KeyboardInterrupt:
    left = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    print(json.dumps({{"caught": time.perf_counter(), "threads": left}}), flush=True)
"""

CALLS = {
    "train": "lf.train(lf.make_mlp(40, depth=2, seed=0), data, n_steps=10**8, save_every=10**8, progress=progress)",
    "sweep": "lf.sweep(data, widths=(10, 20, 40), depths=(1, 2), n_steps=10**8, save_every=10**8, n_jobs=2, "
    "progress=progress)",
}


def latency(call: str) -> tuple[float, list]:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD.format(call=call)], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )
    try:
        assert child.stdout.readline().strip() == "started"
        time.sleep(0.5)
        sent = time.perf_counter()
        child.send_signal(signal.SIGINT)
        report = json.loads(child.stdout.readline())
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    return report["caught"] - sent, report["threads"]


def one_call_seconds(n_steps: int) -> float:
    """The old behaviour: all steps of one snapshot interval in a single compiled call."""
    data = lf.make_dataset()
    model = lf.make_mlp(40, depth=2, seed=0)
    calls = []

    def whole(n, state):
        calls.append(n)
        yield n

    original = fast_backend.sub_chunks
    fast_backend.sub_chunks = whole
    losses = fast_backend.MAX_CHUNK_STEPS
    fast_backend.MAX_CHUNK_STEPS = n_steps  # the losses buffer must hold the whole interval
    try:
        start = time.perf_counter()
        lf.train(model, data, n_steps=n_steps, save_every=n_steps, backend="fast", progress=False)
        return time.perf_counter() - start
    finally:
        fast_backend.sub_chunks = original
        fast_backend.MAX_CHUNK_STEPS = losses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if sys.platform != "linux":
        sys.exit("this benchmark compares perf_counter across processes, which needs Linux's CLOCK_MONOTONIC")
    baseline = one_call_seconds(150_000)
    print(f"baseline: one compiled call over 150,000 steps (width 40, depth 2): {baseline * 1e3:.0f} ms")
    print(f"sub-chunks now target {plan.CHUNK_SECONDS * 1e3:.0f} ms and at most {plan.MAX_CHUNK_STEPS:,} steps")
    for name, call in CALLS.items():
        seen, threads = zip(*(latency(call) for _ in range(args.repeats)))
        median = float(np.median(seen))
        left = sorted({thread for names in threads for thread in names})
        print(
            f"{name}: Ctrl-C seen after {min(seen) * 1e3:.1f}-{max(seen) * 1e3:.1f} ms (median {median * 1e3:.1f} ms), "
            f"{baseline / median:.0f}x sooner than the baseline; threads left: {left}"
        )


if __name__ == "__main__":
    main()
