"""The live run: a background worker that trains chunk by chunk and pauses on request."""

import gc
import threading
import time
import weakref

import numpy as np
import pytest

import linfeat_widgets as lf
from linfeat_widgets.training import TrainingDiverged, snapshot_steps
from linfeat_widgets.training.live import LiveRun


@pytest.fixture(scope="module")
def small():
    return lf.make_dataset(n_samples=40, n_grid=50)


@pytest.fixture
def make_run(small):
    runs = []

    def make(width=8, depth=1, **kwargs):
        kwargs.setdefault("save_every", 100)
        run = LiveRun(lf.make_mlp(width, depth, seed=0), small, **kwargs)
        runs.append(run)
        return run

    yield make
    for run in runs:
        run.close()


def reference(small, n_steps, width=8, depth=1, **kwargs):
    kwargs.setdefault("save_every", 100)
    return lf.train(lf.make_mlp(width, depth, seed=0), small, n_steps=n_steps, progress=False, **kwargs)


def assert_same_history(live, ref):
    assert live.steps.tolist() == ref.steps.tolist()
    assert np.array_equal(live.params, ref.params)  # bit for bit
    assert np.array_equal(live.train_error, ref.train_error)
    assert np.array_equal(live.test_error, ref.test_error)
    assert np.array_equal(live.initial_params, ref.initial_params)


# --- determinism ------------------------------------------------------------------------
@pytest.mark.parametrize("paradigm", ["all", "output"])
def test_playing_to_a_step_equals_train(make_run, small, paradigm):
    run = make_run(depth=2, paradigm=paradigm)
    assert run.backend == "fast"
    run.play(until=1500)
    assert run.wait(timeout=60)
    assert run.step_count == 1500 and not run.running
    assert_same_history(run.history, reference(small, 1500, depth=2, paradigm=paradigm))


def test_many_pauses_and_resumes_change_nothing(make_run, small):
    # stops inside chunks, on request (until) and by pausing a slow pace between sub-chunks
    run = make_run(speed=1500)
    for until in (37, 150, 151, 420):
        run.play(until=until).wait(timeout=60)
        assert run.step_count == until
    paused_at = []
    while run.step_count < 1000:
        run.play(until=1000)
        time.sleep(0.01)
        run.pause()
        paused_at.append(run.step_count)
    assert len(paused_at) > 3
    history = run.history
    assert history.steps.tolist() == snapshot_steps(1000, 100).tolist()  # none lost, none repeated
    assert_same_history(history, reference(small, 1000))


def test_torch_backend_live_equals_torch_train(make_run, small):
    run = make_run(width=5, backend="torch", save_every=20)
    assert run.backend == "torch"
    run.play(until=30)
    run.pause()
    run.play(until=60)
    run.wait(timeout=60)
    assert_same_history(run.history, reference(small, 60, width=5, backend="torch", save_every=20))


def test_step_trains_one_save_interval(make_run, small):
    run = make_run()
    assert run.history is None and run.step_count == 0
    run.step()
    assert run.history.steps.tolist() == [1]
    run.step()
    run.step()
    assert run.history.steps.tolist() == [1, 100, 200]
    assert not run.running
    assert_same_history(run.history, reference(small, 200))


def test_max_steps_stops_with_trains_last_snapshot(make_run, small):
    run = make_run(max_steps=250)
    run.play()
    run.wait(timeout=60)
    assert run.finished and not run.running
    assert_same_history(run.history, reference(small, 250))
    run.play()  # nothing left: returns to paused at once
    run.wait(timeout=5)
    assert run.step_count == 250


def test_reset_starts_over(make_run, small):
    run = make_run()
    run.play(until=500).wait(timeout=60)
    run.reset()
    assert run.history is None and run.step_count == 0
    run.play(until=300).wait(timeout=60)
    assert_same_history(run.history, reference(small, 300))


def test_history_is_a_consistent_snapshot(make_run):
    run = make_run(speed=50_000)
    run.play(until=3000)
    seen = []
    while run.running:
        history = run.history
        if history is not None:
            seen.append(len(history))
            assert history.params.shape[0] == len(history.steps) == len(history.lr)
            assert history.steps.tolist() == snapshot_steps(int(history.steps[-1]), 100).tolist()
        time.sleep(0.005)
    assert seen == sorted(seen)
    assert run.history is run.history  # cached until the next snapshot


# --- pausing ----------------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["fast", "torch"])
def test_pause_stops_the_worker_promptly(make_run, backend):
    run = make_run(width=20, backend=backend, save_every=100_000)
    run.play()
    time.sleep(0.1)
    assert run.running
    start = time.perf_counter()
    run.pause()
    assert time.perf_counter() - start < 2.0  # generous: the target is 200 ms
    assert not run.running
    stopped = run.step_count
    assert stopped > 0
    time.sleep(0.1)
    assert run.step_count == stopped  # nothing trains after pause() returned


def test_speed_holds_a_pace(make_run):
    run = make_run(speed=1000, save_every=50)
    run.play()
    time.sleep(0.3)
    run.pause()
    # at full speed this network trains hundreds of thousands of steps in 0.3 s
    assert 50 <= run.step_count < 2000
    run.speed = None
    assert run.speed is None


# --- learning rate ----------------------------------------------------------------------
def test_lr_is_recorded_per_snapshot_and_saved(make_run, small, tmp_path):
    run = make_run()
    run.play(until=300).wait(timeout=60)
    run.lr = 0.01
    run.play(until=500).wait(timeout=60)
    history = run.history
    assert history.lr.tolist() == [0.02] * 4 + [0.01] * 2
    assert_same_history(lf.History.load(history.save(tmp_path / "live.npz")), history)
    assert lf.History.load(tmp_path / "live.npz").lr.tolist() == history.lr.tolist()
    # the first chunks at the default lr are train's
    assert np.array_equal(history.params[:4], reference(small, 300).params)
    # and the later ones differ from training on at 0.02
    assert not np.array_equal(history.params[4:], reference(small, 500).params[4:])


def test_lr_changed_inside_a_chunk_applies_from_the_next(make_run, small):
    run = make_run(save_every=1000)
    run.play(until=1500).wait(timeout=60)  # stops inside the chunk ending at 2000
    run.lr = 0.05
    run.play(until=3000).wait(timeout=60)
    assert run.history.lr.tolist() == [0.02, 0.02, 0.02, 0.05]
    assert np.array_equal(run.history.params[:3], reference(small, 2000, save_every=1000).params)


def test_history_lr_is_checked():
    history = lf.train(lf.make_mlp(3, seed=0), lf.make_dataset(n_samples=10), n_steps=3, save_every=1, progress=False)
    assert history.lr is None
    args = (history.model(0), history.steps, history.params, history.train_error, history.test_error)
    with pytest.raises(ValueError, match="lr must"):
        lf.History(*args, history.initial_params, history.config, lr=[0.1, 0.1])
    with pytest.raises(ValueError, match="lr must"):
        lf.History(*args, history.initial_params, history.config, lr=[0.1, -1.0, 0.1])


# --- errors -----------------------------------------------------------------------------
def test_divergence_pauses_and_keeps_the_snapshots(make_run, small):
    run = make_run()
    run.play(until=300).wait(timeout=60)
    before = run.history
    run.lr = 1e4
    run.play()
    assert run.wait(timeout=60)
    assert isinstance(run.error, TrainingDiverged) and "lr=10000" in str(run.error)
    assert not run.running
    after = run.history
    assert after.steps.tolist() == before.steps.tolist()
    assert np.array_equal(after.params, before.params)
    # back at the last snapshot: a smaller lr trains on as if nothing had happened
    run.lr = 0.02
    run.play(until=500).wait(timeout=60)
    assert run.error is None
    assert_same_history(run.history, reference(small, 500))


def test_step_raises_the_workers_error(make_run):
    run = make_run(lr=1e4)
    run.step()
    with pytest.raises(TrainingDiverged):
        run.step()
    assert run.history.steps.tolist() == [1]


def test_any_error_in_the_worker_pauses_and_is_kept(make_run):
    run = make_run()

    def faulty():
        if len(run._worker.snaps.steps) == 3:
            raise RuntimeError("listener broke")

    run.add_listener(faulty)
    run.play(until=1000).wait(timeout=60)
    assert isinstance(run.error, RuntimeError) and not run.running
    assert run.history.steps.tolist() == [1, 100, 200]
    run.remove_listener(faulty)
    run.play(until=1000).wait(timeout=60)
    assert run.history.steps.tolist() == snapshot_steps(1000, 100).tolist()


def test_a_listener_may_pause_the_run(make_run):
    run = make_run()
    run.add_listener(lambda: run.pause() if len(run._worker.snaps.steps) == 4 else None)
    run.play(until=1000)
    assert run.wait(timeout=60)
    assert not run.running and run.history.steps.tolist() == [1, 100, 200, 300] and run.error is None


def test_ridge_is_one_snapshot(make_run, small):
    run = make_run(paradigm="ridge")
    assert run.finished and run.lr is None and run.history.steps.tolist() == [1]
    assert run.history.lr is None
    ref = reference(small, 10, paradigm="ridge")
    assert np.array_equal(run.history.params, ref.params)
    run.play()
    run.wait(timeout=5)
    assert run.step_count == 1
    with pytest.raises(ValueError, match="lr"):
        run.lr = 0.1


@pytest.mark.parametrize(
    "kwargs, name",
    [({"save_every": 0}, "save_every"), ({"speed": 0}, "speed"), ({"max_steps": 0}, "max_steps"), ({"lr": -1}, "lr")],
)
def test_bad_arguments_are_refused(small, kwargs, name):
    with pytest.raises(ValueError, match=name):
        LiveRun(lf.make_mlp(3, seed=0), small, **kwargs)


def test_bad_settings_are_refused(make_run):
    run = make_run()
    for name, value in (("lr", 0.0), ("lr", float("nan")), ("speed", -1.0), ("max_steps", 0)):
        with pytest.raises(ValueError, match=name):
            setattr(run, name, value)
    with pytest.raises(ValueError, match="until"):
        run.play(until=0)


# --- the thread -------------------------------------------------------------------------
def test_close_stops_the_thread(make_run):
    run = make_run()
    run.play()
    thread = run._worker.thread
    run.close()
    assert not thread.is_alive() and run.closed and not run.running
    with pytest.raises(RuntimeError, match="closed"):
        run.play()
    run.close()  # twice is fine


def test_dropping_the_run_stops_the_thread(small):
    run = LiveRun(lf.make_mlp(5, seed=0), small, save_every=100)
    run.play()
    thread, ref = run._worker.thread, weakref.ref(run)
    del run
    gc.collect()
    assert ref() is None
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert not any(t.name == "linfeat-live" and t is thread for t in threading.enumerate())
