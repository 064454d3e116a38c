"""Panels on plain matplotlib Axes (Agg), used alone, and the ReLU geometry."""

import io

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import linfeat_widgets as lf
from linfeat_widgets.panels import _AutoLimits, elbows_inside, relu_vertices


def _axes():
    figure = Figure(figsize=(4, 3), dpi=60)
    FigureCanvasAgg(figure)
    return figure.add_subplot()


def _artist_count(ax):
    return len(ax.lines) + len(ax.collections) + len(ax.texts) + len(ax.patches) + len(ax.images)


# every sign case of (w, b), w = 0, elbows inside, on and outside [0, 1]
CASES = [(2.0, -1.0), (-2.0, 1.0), (2.0, 1.0), (-2.0, -1.0), (0.5, -2.0), (-0.5, 2.0), (0.0, 0.7), (0.0, -0.3), (4, 0)]


def test_relu_vertices_draw_every_unit_at_its_true_height():
    w = np.array([c[0] for c in CASES])
    b = np.array([c[1] for c in CASES])
    vertices = relu_vertices(w, b, (0.0, 1.0))
    assert vertices.shape == (len(CASES), 3, 2)
    x, y = vertices[..., 0], vertices[..., 1]
    assert np.all(x[:, 0] == 0.0) and np.all(x[:, 2] == 1.0)  # every unit spans the range
    np.testing.assert_allclose(y, np.maximum(w[:, None] * x + b[:, None], 0.0))
    # the homework drew w < 0, b > 0 at height -b * w at x = 0; the ReLU is b there
    assert y[1, 0] == 1.0
    # exact: the ReLU is linear between the vertices, so a dense evaluation agrees
    dense = np.linspace(0, 1, 1001)
    for i, (wi, bi) in enumerate(CASES):
        np.testing.assert_allclose(np.interp(dense, x[i], y[i]), np.maximum(wi * dense + bi, 0.0), atol=1e-12)


def test_elbow_dots_only_inside_the_range():
    w = np.array([c[0] for c in CASES])
    b = np.array([c[1] for c in CASES])
    elbows = elbows_inside(w, b, (0.0, 1.0))
    assert sorted(elbows.tolist()) == [0.0, 0.5, 0.5]


def test_auto_limits_grow_only_until_reset():
    limits = _AutoLimits(margin=0.0)
    assert limits.fit(0.0, 1.0) == (0.0, 1.0)
    assert limits.fit(0.2, 0.5) is None  # inside: keep
    assert limits.fit(-1.0, 0.5) == (-1.0, 1.0)  # grows to the union
    limits.reset()
    assert limits.fit(0.2, 0.5) == (0.2, 0.5)
    log = _AutoLimits(log=True, margin=0.0, min_span=1.0)
    low, high = log.fit(0.1, 0.2)
    assert np.isclose(np.log10(high) - np.log10(low), 1.0)
    assert log.fit(float("nan"), 1.0) is None


def test_prediction_panel_alone(data):
    ax = _axes()
    panel = lf.PredictionPanel(ax, data)
    history = lf.train(lf.make_mlp(5, seed=1), data, n_steps=20, save_every=10, progress=False)
    cache = lf.SnapshotCache(history, data, n_grid=50)
    count = _artist_count(ax)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["prediction", "training data points", "Ground truth"]
    for step in (1, 10, 20, 10):
        assert panel.update(cache.snapshot(step)) is False
        snap = cache.snapshot(step)
        assert np.array_equal(panel.prediction.get_ydata(), snap.prediction)
        assert len(panel.relus.get_segments()) == 5
        assert panel.elbows.get_offsets().shape == (len(elbows_inside(snap.weights, snap.biases, (0, 1))), 2)
    assert _artist_count(ax) == count
    assert not panel.prediction.get_animated()
    buffer = io.BytesIO()
    panel.figure.savefig(buffer, format="png")
    assert buffer.getvalue().startswith(b"\x89PNG")


def _features(step, values, key="0.weight", n_columns=None):
    x = np.linspace(0, 1, values.shape[0])
    columns = np.arange(values.shape[1])
    return lf.LayerFeatures(step, key, x, values, columns, n_columns or values.shape[1])


def test_feature_panel_lines_and_limits():
    ax = _axes()
    panel = lf.FeaturePanel(ax, animated=True)
    assert panel.animated == (panel.current,) and panel.current.get_animated()
    first = _features(0, np.linspace(0, 1, 20)[:, None] * np.arange(3))
    later = _features(5, np.linspace(0, 1, 20)[:, None] * np.arange(3) * 0.5)
    assert panel.update(first, first) is True  # title, x range, initialization, y-limits
    assert panel.update(later, first) is False  # inside the limits: nothing moved
    segments = panel.current.get_segments()
    assert len(segments) == 3
    np.testing.assert_array_equal(segments[2][:, 1], later.values[:, 2])
    assert len(panel.initial.get_segments()) == 3
    assert panel.update(later, None) is True and len(panel.initial.get_segments()) == 0
    bigger = _features(9, later.values * 10)
    assert panel.update(bigger, None) is True
    assert ax.get_ylim()[1] >= 10 * later.values.max()


def test_feature_panel_says_when_lines_are_capped():
    values = np.zeros((10, 4))
    features = lf.LayerFeatures(3, "all", np.linspace(0, 1, 10), values, np.array([0, 5, 10, 15]), 16)
    assert lf.FeaturePanel.title(features) == "d y(x) / d θ, θ in all parameters (4 of 16 drawn)"


def test_spectrum_and_principal_panels():
    ax = _axes()
    spectrum = lf.SpectrumPanel(ax)
    assert spectrum.update(np.array([3.0, 1.0, 0.1]), np.array([2.0, 0.5])) is True
    assert spectrum.current.get_xdata().tolist() == [1, 2, 3]
    assert spectrum.initial.get_ydata().tolist() == [2.0, 0.5]
    assert ax.get_yscale() == "log"
    principal = lf.PrincipalFeaturePanel(_axes(), n_components=3)
    pf = np.random.default_rng(0).normal(size=(30, 2))  # rank 2 < 3 lines
    principal.update(np.linspace(0, 1, 30), pf)
    assert np.array_equal(principal.lines[1].get_ydata(), pf[:, 1])
    assert len(principal.lines[2].get_xdata()) == 0


def test_error_panel():
    ax = _axes()
    panel = lf.ErrorPanel(ax)
    steps = np.array([1, 10, 20])
    assert panel.set_history(steps, np.array([1.0, 0.5, 0.2]), np.array([0.9, 0.4, 0.3])) is True
    assert panel.update(10, 0.5, 0.4) is False
    assert panel.marker.get_xdata() == [10, 10]
    assert panel.selected.get_ydata() == [0.5, 0.4]
    low, high = ax.get_ylim()
    assert low < 0.2 and high > 1.0
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Train Error", "Test Error"]


def test_panels_need_an_axes(data):
    with pytest.raises(ValueError, match="ax must be a matplotlib Axes"):
        lf.PredictionPanel(None, data)
    with pytest.raises(ValueError, match="data must be a Dataset"):
        lf.PredictionPanel(_axes(), None)
    with pytest.raises(ValueError, match="n_components must be an integer >= 1"):
        lf.PrincipalFeaturePanel(_axes(), 0)
