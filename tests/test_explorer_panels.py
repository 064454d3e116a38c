"""Explorer(panels=...): the theory panels and the linearized model overlay, headless (Agg, image mode).

Artist data are compared with the math API (kernel_movement, residual_projections,
spectrum_history, predict of the linearized History); a slider move must only move
markers: no theory function is called again and the theory panels are blitted.
"""

import numpy as np
import pytest

import linfeat_widgets as lf
from linfeat_widgets import theory

THEORY = ("movement", "residual", "spectrum_history")


@pytest.fixture(scope="module")
def lin_sweep(data):
    return lf.sweep(data, widths=(3, 5), depths=(1,), n_steps=60, save_every=20, progress=False, linearized=True)


@pytest.fixture(scope="module")
def plain_sweep(data):
    return lf.sweep(data, widths=(3,), n_steps=40, save_every=20, progress=False)


@pytest.fixture
def counted(monkeypatch):
    """Calls of each theory function, by name."""
    calls = dict.fromkeys(("kernel_movement", "residual_projections", "spectrum_history"), 0)
    for name in calls:
        original = getattr(theory, name)

        def wrapper(*args, _name=name, _original=original, **kwargs):
            calls[_name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(theory, name, wrapper)
    return calls


@pytest.fixture
def explorer(lin_sweep, counted):
    e = lf.Explorer(lin_sweep, panels="all", mode="image", n_grid=32, iteration=20)
    yield e
    e.close()


def test_all_builds_eight_figures_in_three_rows(explorer):
    assert len(explorer.figures) == 8 and len(set(map(id, explorer.figures))) == 8
    assert tuple(explorer.hosts) == (*lf.PANELS,)
    assert explorer.board.rows[-1] == THEORY
    for name, spec in lf.PANELS.items():
        assert getattr(explorer, spec.attribute) is explorer.board.panels[name]
    # the grid's rows hold each panel's card: its canvas over its caption
    movement = explorer.cards["movement"]
    assert explorer.hosts["movement"].widget in movement.children
    rows = [row for row in explorer.grid.children if movement in row.children]
    assert len(explorer.grid.children) == 3 and len(rows) == 1 and len(rows[0].children) == 3


def test_theory_panels_equal_the_math_api(explorer, lin_sweep, data):
    for width in (3, 5):
        explorer.select(width=width, iteration=40)
        history = lin_sweep.history(width, 1, "all")
        movement = lf.kernel_movement(history, data)
        panel = explorer.movement_panel
        assert np.array_equal(panel.parameter_line.get_xdata(), movement.steps[1:])
        np.testing.assert_array_equal(panel.parameter_line.get_ydata(), movement.parameter_distance[1:])
        np.testing.assert_array_equal(panel.kernel_line.get_ydata(), movement.kernel_distance[1:])
        i = list(movement.steps).index(40)
        assert list(panel.selected.get_ydata()) == [movement.parameter_distance[i], movement.kernel_distance[i]]

        projections = lf.residual_projections(history, data)
        shown = explorer.residual_panel.image.get_array()
        np.testing.assert_array_equal(shown.filled(0.0), np.abs(projections.coefficients).T)
        np.testing.assert_array_equal(explorer.residual_panel.singular_line.get_xdata(), projections.singular_values)
        assert list(explorer.residual_panel.marker.get_xdata()) == [40, 40]

        spectra = lf.spectrum_history(history, data)
        lines = explorer.spectrum_history_panel.lines
        for j in range(min(len(lines), spectra.shape[1])):
            assert np.array_equal(lines[j].get_xdata(), np.concatenate([[0], history.steps]))
            np.testing.assert_array_equal(lines[j].get_ydata(), spectra[:, j])


def test_a_slider_move_only_moves_markers(explorer, counted):
    assert counted == dict.fromkeys(counted, 1)  # once for the first run, on first use
    hosts = {name: explorer.hosts[name] for name in THEORY}
    full = {name: host.full_draws for name, host in hosts.items()}
    blits = {name: host.blits for name, host in hosts.items()}
    image = explorer.residual_panel.image.get_array()
    curve = explorer.movement_panel.kernel_line.get_ydata()
    for step in (60, 1, 40, 20):
        explorer.iteration_slider.value = step
        assert list(explorer.movement_panel.marker.get_xdata()) == [step, step]
        assert list(explorer.spectrum_history_panel.marker.get_xdata()) == [step, step]
    assert counted == dict.fromkeys(counted, 1)
    assert {name: host.full_draws for name, host in hosts.items()} == full
    assert {name: host.blits for name, host in hosts.items()} == {name: n + 4 for name, n in blits.items()}
    assert explorer.residual_panel.image.get_array() is image
    assert explorer.movement_panel.kernel_line.get_ydata() is curve
    explorer.layer_selector.value = "0.bias"  # the theory panels do not follow the layer
    assert {name: host.blits for name, host in hosts.items()} == {name: n + 4 for name, n in blits.items()}
    # another run: computed once; back to the first: nothing computed again
    explorer.select(width=5)
    assert counted == dict.fromkeys(counted, 2)
    explorer.select(width=3)
    explorer.iteration_slider.value = 60
    assert counted == dict.fromkeys(counted, 2)


def test_the_linearized_model_is_overlaid(explorer, lin_sweep):
    grid = explorer.snapshots.grid
    line = explorer.prediction_panel.linearized
    assert line.get_label() == "linearized model"
    assert "linearized model" in [t.get_text() for t in explorer.prediction_panel.ax.get_legend().get_texts()]
    for width, step in ((3, 20), (3, 60), (5, 1), (5, 40)):
        explorer.select(width=width, iteration=step)
        linearized = lin_sweep.history(width, 1, "all", linearized=True)
        assert np.array_equal(line.get_xdata(), grid)
        np.testing.assert_allclose(line.get_ydata(), lf.predict(linearized.model(step), grid), rtol=1e-9, atol=1e-12)
        errors = explorer.error_panel.linearized_line
        np.testing.assert_array_equal(errors.get_ydata(), linearized.test_error)
        assert np.array_equal(errors.get_xdata(), linearized.steps)
    # the network's own prediction is still the network's
    network = lin_sweep.history(5, 1, "all").model(40)
    np.testing.assert_array_equal(explorer.prediction_panel.prediction.get_ydata(), lf.predict(network, grid))


def test_without_linearized_runs_there_is_no_overlay(plain_sweep):
    explorer = lf.Explorer(plain_sweep, mode="image", n_grid=32)
    try:
        assert explorer.prediction_panel.linearized is None and explorer.error_panel.linearized_line is None
        labels = [line.get_label() for line in explorer.prediction_panel.ax.lines]
        assert "linearized model" not in labels
    finally:
        explorer.close()


def test_a_selection_of_panels(plain_sweep, counted):
    explorer = lf.Explorer(plain_sweep, panels=("residual", "errors"), mode="image", n_grid=32)
    try:
        assert tuple(explorer.hosts) == ("errors", "residual")
        assert explorer.prediction_panel is None and explorer.movement_panel is None
        # only what a shown panel needs is computed
        assert counted == {"kernel_movement": 0, "residual_projections": 1, "spectrum_history": 0}
        explorer.iteration_slider.value = 20
        assert list(explorer.residual_panel.marker.get_xdata()) == [20, 20]
    finally:
        explorer.close()


def test_unknown_panel_names_are_refused(plain_sweep):
    with pytest.raises(ValueError, match=r"panels must be names from 'prediction', .*'spectrum_history'.*'kernel'"):
        lf.Explorer(plain_sweep, panels=("prediction", "kernel"), mode="image")
    with pytest.raises(ValueError, match="panels must"):
        lf.Explorer(plain_sweep, panels="everything", mode="image")


def test_in_an_event_loop_the_theory_is_computed_in_the_background(plain_sweep, data, monkeypatch):
    """As in a Jupyter kernel: the explorer opens at once, the theory panels say so, then draw when ready."""
    import asyncio
    import threading

    release = threading.Event()
    original = theory.kernel_movement

    def slow(*args, **kwargs):
        assert threading.current_thread() is not threading.main_thread()
        release.wait(10)
        return original(*args, **kwargs)

    monkeypatch.setattr(theory, "kernel_movement", slow)

    async def story():
        explorer = lf.Explorer(plain_sweep, panels=("errors", "movement"), mode="image", n_grid=32)
        try:
            panel, host = explorer.movement_panel, explorer.hosts["movement"]
            assert panel.pending and panel.note.get_text() == "computing…"
            assert "computing the theory panels" in explorer.status.value
            assert not panel.parameter_line.get_visible()
            explorer.iteration_slider.value = 20  # the slider works meanwhile
            assert list(explorer.error_panel.marker.get_xdata()) == [20, 20]
            draws = host.full_draws
            release.set()
            for _ in range(400):
                await asyncio.sleep(0.01)
                if not panel.pending:
                    break
            assert not panel.pending and panel.note.get_text() == "" and panel.parameter_line.get_visible()
            assert host.full_draws == draws + 1
            assert "computing" not in explorer.status.value and "SGD iteration 20" in explorer.status.value
            movement = lf.kernel_movement(plain_sweep.history(), data)
            np.testing.assert_array_equal(panel.kernel_line.get_ydata(), movement.kernel_distance[1:])
            assert list(panel.marker.get_xdata()) == [20, 20]
        finally:
            explorer.close()

    asyncio.run(story())
    with pytest.raises(ValueError, match="background=True needs a running event loop"):
        lf.Explorer(plain_sweep, background=True, mode="image")
    with pytest.raises(ValueError, match="background must be True, False or None"):
        lf.Explorer(plain_sweep, background="yes", mode="image")


def test_a_failure_in_the_background_is_shown(plain_sweep, monkeypatch):
    import asyncio

    def broken(*args, **kwargs):
        raise RuntimeError("kernel movement exploded")

    monkeypatch.setattr(theory, "kernel_movement", broken)

    async def story():
        explorer = lf.Explorer(plain_sweep, panels=("movement",), mode="image", n_grid=32)
        try:
            for _ in range(400):
                await asyncio.sleep(0.01)
                if explorer.error is not None:
                    break
            assert isinstance(explorer.error, RuntimeError)
            assert "kernel movement exploded" in explorer.errors.outputs[-1]["text"]
            assert "RuntimeError" in explorer.status.value
        finally:
            explorer.close()

    asyncio.run(story())
