"""The panel registry and the theory panels on plain Agg figures, with arrays of known values."""

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import linfeat_widgets as lf
from linfeat_widgets.panel_specs import DEFAULT_PANELS, LAYOUT, PANELS, STATES, panel_rows
from linfeat_widgets.theory_panels import MovementPanel, ResidualPanel, SpectrumHistoryPanel

STEPS = np.array([0, 1, 20, 40, 60])


def _axes(size=(4, 3)):
    figure = Figure(figsize=size, dpi=50)
    FigureCanvasAgg(figure)
    return figure.add_subplot()


def _artists(ax):
    axes = [ax, *ax.child_axes]
    return [(len(a.lines), len(a.collections), len(a.images), len(a.texts), len(a.patches)) for a in axes]


def test_the_registry_names_eight_panels_and_a_layout():
    assert tuple(PANELS) == (*DEFAULT_PANELS, "movement", "residual", "spectrum_history")
    assert {name for row in LAYOUT for name in row} == set(PANELS)
    for name, spec in PANELS.items():
        assert spec.name == name and spec.depends <= set(STATES) and spec.depends
        assert spec.attribute.endswith("_panel") and len(spec.size) == 2
    with pytest.raises(ValueError, match="depends must name states"):
        lf.PanelSpec("x", "x_panel", "", (1, 1), frozenset({"colour"}), None, None)


def test_panel_rows_follow_the_layout_or_the_rows_given():
    assert panel_rows() == (("prediction", "errors"), ("features", "spectrum", "principal"))
    assert panel_rows("all") == LAYOUT
    assert panel_rows(("residual", "prediction")) == (("prediction",), ("residual",))
    assert panel_rows("movement") == (("movement",),)
    assert panel_rows([["residual", "errors"], ["movement"]]) == (("residual", "errors"), ("movement",))


@pytest.mark.parametrize(
    "panels, message",
    [
        (
            ("prediction", "kernel"),
            r"panels must be names from 'prediction', 'errors', .*'spectrum_history' .*'kernel'",
        ),
        ("everything", "'everything'"),
        ((), "at least one panel"),
        (("errors", "errors"), "each panel once"),
        (("errors", ("movement",)), "not a mixture"),
        (3, "panels must be 'all' or a sequence"),
        ((("errors",), ()), "every row"),
    ],
)
def test_bad_panel_selections_are_refused(panels, message):
    with pytest.raises(ValueError, match=message):
        panel_rows(panels)


def test_movement_panel_draws_the_distances_after_step_0_on_log_axes():
    panel = MovementPanel(_axes(), animated=True)
    parameters = np.array([0.0, 1e-3, 5e-3, 8e-3, 1e-2])
    kernel = np.array([0.0, 1e-6, 2e-5, 6e-5, 1e-4])
    assert panel.set_run(STEPS, parameters, kernel) is True
    assert np.array_equal(panel.parameter_line.get_xdata(), STEPS[1:])
    assert np.array_equal(panel.parameter_line.get_ydata(), parameters[1:])
    assert np.array_equal(panel.kernel_line.get_ydata(), kernel[1:])
    assert panel.ax.get_xscale() == "log" and panel.ax.get_yscale() == "log"
    low, high = panel.ax.get_ylim()
    assert low <= 1e-6 and high >= 1e-2
    before = _artists(panel.ax)
    assert panel.update(40) is False
    assert list(panel.marker.get_xdata()) == [40, 40]
    assert list(panel.selected.get_ydata()) == [8e-3, 6e-5]
    assert set(panel.animated) == {panel.marker, panel.selected}
    assert all(artist.get_animated() for artist in panel.animated)
    assert _artists(panel.ax) == before
    with pytest.raises(KeyError):
        panel.update(7)  # not a saved step


def test_residual_panel_image_is_the_coefficients_magnitude():
    panel = ResidualPanel(_axes((5.2, 3.2)), animated=True)
    rng = np.random.default_rng(0)
    coefficients = rng.normal(size=(len(STEPS), 3))
    coefficients[2, 1] = 0.0  # an exact zero is masked, not an error on the log scale
    singular_values = np.array([3.0, 1.0, 0.1])
    assert panel.set_run(STEPS, coefficients, singular_values) is True
    shown = panel.image.get_array()
    assert shown.shape == (3, len(STEPS))  # k down, step across
    np.testing.assert_array_equal(shown.filled(0.0), np.abs(coefficients).T)
    assert shown.mask[1, 2] and shown.mask.sum() == 1
    norm = panel.image.norm
    assert norm.vmax == pytest.approx(np.abs(coefficients).max())
    positive = np.abs(coefficients)[np.abs(coefficients) > 0]
    assert norm.vmin == pytest.approx(np.percentile(positive, 2.0))
    assert np.array_equal(panel.singular_line.get_xdata(), singular_values)
    assert np.array_equal(panel.singular_line.get_ydata(), [1, 2, 3])
    assert panel.ax.get_ylim() == (3.5, 0.5)  # direction 1 on top
    before = _artists(panel.ax)
    assert panel.update(20) is False and list(panel.marker.get_xdata()) == [20, 20]
    assert panel.animated == (panel.marker,) and _artists(panel.ax) == before
    # a run with other shapes reuses the same image
    image = panel.image
    panel.set_run(STEPS[:2], coefficients[:2, :1], singular_values[:1])
    assert panel.image is image and _artists(panel.ax) == before
    panel.figure.canvas.draw()


def test_spectrum_history_panel_draws_the_top_singular_values():
    panel = SpectrumHistoryPanel(_axes(), n_lines=2, animated=True)
    values = np.array([[3.0, 2.0, 1.0]]) * (1 + STEPS[:, None] / 60)
    assert panel.set_run(STEPS, values) is True
    for j, line in enumerate(panel.lines):
        assert np.array_equal(line.get_xdata(), STEPS)
        assert np.array_equal(line.get_ydata(), values[:, j])
    assert panel.update(60) is False
    assert list(panel.selected.get_ydata()) == [6.0, 4.0]
    assert panel.update(0) is False  # the initialization is a row too
    panel.set_run(STEPS, values[:, :1])
    assert len(panel.lines[1].get_xdata()) == 0
    with pytest.raises(ValueError, match="n_lines must be an integer >= 1"):
        SpectrumHistoryPanel(_axes(), n_lines=0)


def test_a_board_draws_only_the_panels_that_follow_a_change(data):
    history = lf.train(lf.make_mlp(3, seed=0), data, n_steps=40, save_every=20)
    board = lf.PanelBoard(DEFAULT_PANELS, lf.PanelContext(data))
    view = lf.PanelView.of(history, data, 20, n_grid=32)
    assert set(board.draw(view)) == set(DEFAULT_PANELS)
    assert set(board.draw(view, {"layer"})) == {"features"}
    assert set(board.draw(view, {"iteration"})) == set(DEFAULT_PANELS)
    expected = lf.predict(history.model(20), view.snapshots.grid)
    assert np.array_equal(board.panels["prediction"].prediction.get_ydata(), expected)
    assert board.panels["prediction"].linearized is None
    with pytest.raises(ValueError, match="context must be a PanelContext"):
        lf.PanelBoard(DEFAULT_PANELS, None)
    movement = lf.PanelBoard(("movement",), lf.PanelContext(data))
    bare = lf.PanelView(history, view.snapshots, 20)
    with pytest.raises(ValueError, match="'movement' panel needs a view with theory"):
        movement.draw(bare)


def test_a_board_of_all_eight_draws_outside_the_explorer(data):
    """What an export does: the same panels on Agg figures, from a History and its linearized model."""
    model = lf.make_mlp(4, seed=1)
    history = lf.train(model, data, n_steps=40, save_every=20)
    linear = lf.train(model, data, n_steps=40, save_every=20, linearized=True)
    board = lf.PanelBoard("all", lf.PanelContext(data, linearized=True))
    view = lf.PanelView.of(history, data, 20, linearized=linear, n_grid=32)
    assert set(board.draw(view)) == set(lf.PANELS)
    assert board.theory == ("movement", "projections", "spectrum")
    grid = view.snapshots.grid
    overlay = board.panels["prediction"].linearized.get_ydata()
    np.testing.assert_allclose(overlay, lf.predict(linear.model(20), grid), rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match="same theta_0"):
        lf.TheoryCache(history, data, linearized=lf.train(lf.make_mlp(4, seed=2), data, n_steps=40, save_every=20))
    np.testing.assert_array_equal(board.panels["errors"].linearized_line.get_ydata(), linear.test_error)
    spectra = lf.spectrum_history(history, data)
    np.testing.assert_array_equal(board.panels["spectrum_history"].lines[0].get_ydata(), spectra[:, 0])
    for figure in board.figures.values():
        figure.canvas.draw()
    with pytest.raises(ValueError, match="step 7 was not saved"):
        lf.PanelView.of(history, data, 7)
