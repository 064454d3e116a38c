"""The dashboard (issue 12), headless: readable scales, formatting, step buttons, titles, themes and layouts."""

import matplotlib
import numpy as np
import pytest

import linfeat_widgets as lf
from linfeat_widgets.controls import IterationSlider, StepButtons, format_step

pytestmark = pytest.mark.filterwarnings(
    "ignore:Passing unrecognized arguments to super\\(Toolbar\\):DeprecationWarning"
)


@pytest.fixture(autouse=True)
def agg():
    previous = matplotlib.get_backend()
    matplotlib.use("Agg")
    yield
    matplotlib.use(previous)


@pytest.fixture(scope="module")
def run(data):
    return lf.sweep(data, widths=(5,), n_steps=300, save_every=50, progress=False)


@pytest.fixture
def explorer(run):
    e = lf.Explorer(run, n_grid=64, mode="image")
    yield e
    e.close()


def _all_features(snapshots, layer):
    steps = (0, *snapshots.history.steps.tolist())
    values = np.concatenate([snapshots.features(s, layer).values.ravel() for s in steps])
    return values.min(), values.max()


def test_feature_range_is_every_snapshot(run, data):
    history = run[next(iter(run))]
    snapshots = lf.SnapshotCache(history, data, n_grid=64)
    low, high = snapshots.feature_range("0.weight")
    expected = _all_features(snapshots, "0.weight")
    assert (low, high) == pytest.approx(expected)
    # not only the first and last: an intermediate step's extremes are inside and one of them may set the range
    first_last = [snapshots.features(s, "0.weight").values for s in (0, int(history.steps[-1]))]
    assert low <= min(v.min() for v in first_last) and high >= max(v.max() for v in first_last)
    with pytest.raises(ValueError, match="layer"):
        snapshots.feature_range("nope")


def test_features_fit_the_layer_over_the_run_or_the_step(explorer):
    ax = explorer.feature_panel.ax
    low, high = explorer.snapshots.feature_range("0.weight")
    y0, y1 = ax.get_ylim()
    assert y0 <= min(low, 0.0) and y1 >= max(high, 0.0)
    span = max(high, 0.0) - min(low, 0.0)
    assert y1 - y0 <= 1.3 * span  # fitted, not loose
    for step in explorer.history.steps[:3]:
        explorer.iteration = int(step)
        assert ax.get_ylim() == (y0, y1)  # one scale while scrubbing
    explorer.select(fit_step=True, compare=False)
    values = explorer.snapshots.features(explorer.iteration, "0.weight").values
    s0, s1 = ax.get_ylim()
    assert s0 <= min(values.min(), 0) and s1 >= max(values.max(), 0)
    assert s1 - s0 <= 1.3 * (max(values.max(), 0) - min(values.min(), 0))
    explorer.fit_step_checkbox.value = False
    assert explorer.fit_step is False and ax.get_ylim() == (y0, y1)


def test_log_steps(explorer, run):
    ax = explorer.error_panel.ax
    assert ax.get_xscale() == "linear"
    explorer.log_steps_checkbox.value = True
    assert explorer.log_steps and ax.get_xscale() == "log"
    low, high = ax.get_xlim()
    steps = explorer.history.steps
    assert 0 < low < steps[0] and high > steps[-1]
    explorer.log_steps = False
    assert ax.get_xscale() == "linear"
    e = lf.Explorer(run, n_grid=32, mode="image", log_steps=True)
    assert e.error_panel.ax.get_xscale() == "log" and e.log_steps_checkbox.value
    e.close()
    with pytest.raises(ValueError, match="log_steps"):
        lf.Explorer(run, mode="image", log_steps="yes")


def test_slider_readout_and_status_format_steps_alike(data):
    history = lf.train(lf.make_mlp(5, seed=0), data, n_steps=3000, save_every=1500, progress=False)
    e = lf.Explorer(history, data=data, n_grid=32, mode="image", iteration=1500)
    label = e.iteration_slider.label
    assert label == format_step(1500) == "1,500"
    assert f"SGD iteration {label}" in e.status.value
    e.close()


def test_step_buttons_move_by_one_saved_step_clamped():
    slider = IterationSlider([1, 50, 100, 150], 50)
    buttons = StepButtons(slider)
    buttons.next.click()
    assert slider.value == 100 and not buttons.next.disabled
    buttons.next.click()
    assert slider.value == 150 and buttons.next.disabled
    buttons.next.click()
    assert slider.value == 150
    for _ in range(5):
        buttons.previous.click()
    assert slider.value == 1 and buttons.previous.disabled and not buttons.next.disabled
    with pytest.raises(ValueError, match="slider"):
        StepButtons("slider")


def test_explorer_step_buttons_move_the_run(explorer):
    steps = explorer.history.steps.tolist()
    explorer.iteration = steps[1]
    explorer.step_buttons.next.click()
    assert explorer.iteration == steps[2]
    assert explorer.prediction_panel.prediction.get_ydata() is not None
    explorer.step_buttons.previous.click()
    explorer.step_buttons.previous.click()
    explorer.step_buttons.previous.click()
    assert explorer.iteration == steps[0]
