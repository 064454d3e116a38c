"""Lecture mode, headless: the LiveExplorer over a LiveRun, its buttons and controls."""

import asyncio

import matplotlib
import numpy as np
import pytest

import linfeat_widgets as lf
from linfeat_widgets.training import TrainingDiverged, snapshot_steps


@pytest.fixture(scope="module")
def small():
    return lf.make_dataset(n_samples=30, n_grid=40)


@pytest.fixture
def make(small):
    previous = matplotlib.get_backend()
    matplotlib.use("Agg")
    made = []

    def build(**kwargs):
        kwargs = {"width": 5, "save_every": 100, "speed": "full", "mode": "image", "n_grid": 32, "max_lines": 8,
                  "max_steps": 1000, **kwargs}  # fmt: skip
        e = lf.live(small, **kwargs)
        made.append(e)
        return e

    yield build
    for e in made:
        e.close()
    matplotlib.use(previous)


def draws(e):
    return {name: host.full_draws + host.blits for name, host in e.explorer.hosts.items()}


def test_starts_paused_at_step_one(make):
    e = make()
    assert not e.running and e.history.steps.tolist() == [1]
    assert e.explorer.iteration == 1 and e.explorer.iteration_slider.steps == (1,)
    assert "paused" in e.live_status.value and "step 1" in e.live_status.value
    assert e.run.speed is None  # "full"
    assert e.explorer.children[0].layout.display == "none"  # its own width/depth/paradigm controls instead
    shown = [child for child in e.explorer.children[1:] if child.layout.display != "none"]
    assert len(shown) == len(e.explorer.children) - 1  # the slider, the status and the panels stay


def test_playing_grows_the_slider_and_follows_the_newest(make):
    e = make()
    e.play_button.click()
    assert e.run.wait(timeout=60)
    assert e.refresh()
    steps = snapshot_steps(1000, 100).tolist()
    assert list(e.explorer.iteration_slider.steps) == steps
    assert e.explorer.iteration == 1000 and e.explorer.play_button.max == len(steps) - 1
    assert "finished" in e.live_status.value
    assert not e.refresh()  # nothing new: nothing redrawn


def test_the_slider_stays_where_the_user_put_it(make):
    e = make()
    e.run.play(until=500)
    e.run.wait(timeout=60)
    e.refresh()
    e.explorer.iteration_slider.value = 200  # the user moves back
    e.run.play(until=800)
    e.run.wait(timeout=60)
    e.refresh()
    assert e.explorer.iteration == 200 and e.explorer.iteration_slider.steps[-1] == 800
    e.explorer.iteration_slider.value = 800  # back on the newest: follows again
    e.step_button.click()
    assert e.explorer.iteration == 900


def test_many_snapshots_between_refreshes_are_one_redraw(make):
    e = make()
    before = draws(e)
    e.run.play()
    e.run.wait(timeout=60)
    assert len(e.history) == 11
    e.refresh()
    after = draws(e)
    assert all(after[name] - before[name] == 1 for name in before)  # frames skipped, never queued


def test_pause_and_step_buttons(make):
    e = make(speed=2000, max_steps=None, save_every=50)
    e.play_button.click()
    assert e.running
    e.pause_button.click()
    assert not e.running
    count = len(e.history)
    assert e.explorer.iteration_slider.steps[-1] == int(e.history.steps[-1])
    e.step_button.click()
    assert len(e.history) == count + 1 and e.explorer.iteration == int(e.history.steps[-1])


def test_reset_starts_over(make, small):
    e = make()
    e.run.play(until=500)
    e.run.wait(timeout=60)
    e.refresh()
    old = e.run
    e.reset_button.click()
    assert old.closed and e.run is not old
    assert e.history.steps.tolist() == [1] and e.explorer.iteration == 1
    reference = lf.train(lf.make_mlp(5, seed=0), small, n_steps=1, save_every=100, progress=False)
    assert np.array_equal(e.history.params, reference.params)


def test_lr_control_applies_to_the_next_chunk(make):
    e = make()
    e.lr_slider.value = 0.01
    assert e.run.lr == pytest.approx(0.01)
    e.step_button.click()
    assert e.history.lr.tolist() == pytest.approx([0.02, 0.01])
    assert "lr 0.01" in e.live_status.value


def test_speed_control_sets_the_pace(make):
    e = make()
    e.speed_slider.value = 1000
    assert e.run.speed == 1000
    e.speed_slider.value = float("inf")
    assert e.run.speed is None


def test_width_depth_paradigm_start_a_new_run(make):
    e = make()
    old = e.run
    e.width_control.value = 10
    assert old.closed and not old._worker.thread.is_alive()
    assert e.history.shapes[0] == (10, 1) and e.explorer.iteration == 1
    e.depth_control.value = 2
    assert len(e.history.shapes) == 6
    e.paradigm_control.value = "ridge"
    assert e.run.lr is None and e.lr_slider.disabled and e.history.steps.tolist() == [1]
    e.paradigm_control.value = "output"
    assert e.run.lr == 0.2 and not e.lr_slider.disabled


def test_an_error_pauses_and_is_shown(make):
    e = make()
    e.step_button.click()
    e.lr_slider.value = 10.0
    e.step_button.click()
    assert isinstance(e.run.error, TrainingDiverged)
    assert "TrainingDiverged" in e.live_status.value and "lr=10" in e.live_status.value
    assert e.history.steps.tolist() == [1, 100] and e.explorer.iteration == 100
    e.lr_slider.value = 0.02
    e.step_button.click()
    assert e.run.error is None and e.history.steps.tolist() == [1, 100, 200]


def test_close_stops_the_worker(make):
    e = make(max_steps=None)
    e.play()
    thread = e.run._worker.thread
    e.close()
    assert not thread.is_alive() and e.run.closed


def test_the_event_loop_refreshes_at_most_at_the_rate(small):
    matplotlib.use("Agg")

    async def session():
        e = lf.live(small, width=5, save_every=20, speed=400, mode="image", n_grid=32, max_lines=8,
                    max_steps=None, refresh_rate=10)  # fmt: skip
        try:
            e.play()
            await asyncio.sleep(1.0)
            e.run.pause()
            await asyncio.sleep(0.3)  # the last look after the pause
            return e.refreshes, len(e.history), e.explorer.iteration, int(e.history.steps[-1])
        finally:
            e.close()

    refreshes, snapshots, shown, newest = asyncio.run(session())
    assert 1 <= refreshes <= 14  # at most ~10 per second, however many snapshots arrived
    assert snapshots > 2 and shown == newest


@pytest.mark.parametrize(
    "kwargs, name",
    [({"speed": "fast"}, "speed"), ({"speed": 0}, "speed"), ({"refresh_rate": 0}, "refresh_rate"),
     ({"save_every": 0}, "save_every"), ({"width": 0}, "width"), ({"paradigm": "sgd"}, "paradigm")],
)  # fmt: skip
def test_bad_arguments_are_refused(small, kwargs, name):
    with pytest.raises(ValueError, match=name):
        lf.live(small, mode="image", **kwargs)


def test_data_must_be_a_dataset():
    with pytest.raises(ValueError, match="data"):
        lf.live(data=[1, 2, 3], mode="image")


def test_a_grown_run_keeps_its_snapshot_caches(make, small):
    e = make()
    e.run.play(until=300)
    e.run.wait(timeout=60)
    e.refresh()
    cache = e.explorer.snapshots
    e.run.play(until=600)
    e.run.wait(timeout=60)
    e.refresh()
    assert e.explorer.snapshots is cache and cache.history is e.explorer.history
    fresh = lf.SnapshotCache(e.history, small, n_grid=32, max_columns=8)
    for step in (0, 300, 600):
        assert np.array_equal(cache.snapshot(step).prediction, fresh.snapshot(step).prediction)
        assert np.array_equal(cache.features(step, "0.weight").values, fresh.features(step, "0.weight").values)
    e.run.reset()  # the same LiveRun started over: another run, new caches
    e.run.step()
    e.refresh()
    assert e.explorer.snapshots is not cache and e.explorer.history.steps.tolist() == [1]


def test_theory_panels_follow_the_live_run(make):
    e = make(panels=("prediction", "movement"))
    e.run.play(until=300)
    e.run.wait(timeout=60)
    e.refresh()
    assert e.explorer.error is None and e.explorer.movement_panel is not None
    movement = lf.kernel_movement(e.history, e.data)
    assert movement.steps.tolist() == [0, 1, 100, 200, 300]
    assert np.array_equal(e.explorer._theory(e.explorer._config).movement.steps, movement.steps)
