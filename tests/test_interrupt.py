"""Ctrl-C stops training: ``train`` within a sub-chunk, ``sweep`` with no thread left.

The subprocess tests send a real SIGINT to a child that trains far longer than the test
lasts; the child prints what it saw from its ``except KeyboardInterrupt`` block.
"""

import importlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import linfeat_widgets as lf

sweep_module = importlib.import_module("linfeat_widgets.training.sweep")

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import hashlib, json, sys, threading, time
import linfeat_widgets as lf

data = lf.make_dataset()
digest = hashlib.sha256(data.X.tobytes() + data.y.tobytes()).hexdigest()
model = lf.make_mlp(8, seed=0)
before = [p.detach().clone() for p in model.parameters()]
started = []

def progress(k):
    if not started:
        started.append(k)
        print("started", flush=True)

try:
    {call}
    print(json.dumps({{"finished": True}}), flush=True)
except KeyboardInterrupt:
    caught = time.perf_counter()
    threads = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    same_data = hashlib.sha256(data.X.tobytes() + data.y.tobytes()).hexdigest() == digest
    same_model = all(bool((p == q).all()) for p, q in zip(model.parameters(), before))
    print(json.dumps({{"caught": caught, "threads": threads, "same_data": same_data, "same_model": same_model}}),
          flush=True)
"""


def _interrupt(call: str) -> dict:
    """Run ``call`` in a child, send SIGINT once it trains, return what the child saw and the latency."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    code = CHILD.format(call=textwrap.indent(call, "    ").strip())
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )
    try:
        line = child.stdout.readline()
        assert line.strip() == "started", line + child.stderr.read()
        time.sleep(0.3)  # well inside the compiled loop
        sent = time.perf_counter()
        child.send_signal(signal.SIGINT)
        report = json.loads(child.stdout.readline())
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, child.stderr.read()
    # perf_counter is CLOCK_MONOTONIC on Linux, shared by both processes
    report["latency"] = report["caught"] - sent if sys.platform == "linux" else None
    print(f"interrupt seen after {report['latency']} s")
    return report


@pytest.mark.slow
def test_ctrl_c_stops_a_sweep_with_no_thread_left():
    report = _interrupt(
        "lf.sweep(data, widths=(5, 6, 7, 8, 9), n_steps=50_000_000, save_every=50_000_000, n_jobs=2,\n"
        "         progress=progress)"
    )
    assert "finished" not in report
    assert report["threads"] == []
    assert report["same_data"] and report["same_model"]
    if report["latency"] is not None:
        assert report["latency"] < 2.0  # the run itself would take many minutes


@pytest.mark.slow
def test_ctrl_c_stops_train_whatever_save_every_is():
    report = _interrupt("lf.train(model, data, n_steps=50_000_000, save_every=50_000_000, progress=progress)")
    assert "finished" not in report
    assert report["same_data"] and report["same_model"]
    if report["latency"] is not None:
        assert report["latency"] < 2.0


# --- the same mechanism in-process, with fake trainings -----------------------------------
def _sweep_threads():
    return [t for t in threading.enumerate() if t.name.startswith("linfeat-sweep")]


def _fake_job(log, fail=None):
    def job(config, tick):
        log.append(("start", config.width))
        for _ in range(2000):
            if config.width == fail:
                raise ValueError(f"width {fail} failed")
            time.sleep(0.002)
            tick(1)
        log.append(("done", config.width))
        return config.width

    return job


def test_an_interrupt_while_waiting_cancels_queued_and_stops_running_trainings():
    configs = [sweep_module.Config(w, 1, "all") for w in range(1, 7)]
    log, seen = [], []

    def update(k):  # runs in the waiting thread, like Ctrl-C would
        seen.append(k)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sweep_module._run(configs, _fake_job(log), 2, update)
    assert _sweep_threads() == []
    started = [w for kind, w in log if kind == "start"]
    assert len(started) == 2  # the queued four never started
    assert not any(kind == "done" for kind, _ in log)  # the running two stopped early


def test_a_failed_training_stops_the_others_and_is_raised():
    configs = [sweep_module.Config(w, 1, "all") for w in range(1, 5)]
    log = []
    with pytest.raises(ValueError, match="width 4 failed"):
        sweep_module._run(configs, _fake_job(log, fail=4), 2, lambda k: None)
    assert _sweep_threads() == []
    assert not any(kind == "done" for kind, _ in log)


def test_a_sweep_that_is_not_interrupted_is_unchanged(data):
    kwargs = {"widths": (3, 4, 5), "n_steps": 60, "save_every": 25, "progress": False}
    parallel, sequential = lf.sweep(data, n_jobs=2, **kwargs), lf.sweep(data, n_jobs=1, **kwargs)
    for config in parallel:
        np.testing.assert_array_equal(parallel[config].params, sequential[config].params)
    assert _sweep_threads() == []
