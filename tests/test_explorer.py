"""The Explorer, headless, under ipympl's backend (canvas path) and under Agg (image path).

Controls are moved by setting their values, as a front end would; assertions are on the
artists' data, compared with the math API, and on how many redraws each move caused.
"""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from homework import homework_train

import linfeat_widgets as lf

pytestmark = pytest.mark.filterwarnings(
    # ipympl's Toolbar passes its canvas on to traitlets (ipympl's own deprecation, not ours)
    "ignore:Passing unrecognized arguments to super\\(Toolbar\\):DeprecationWarning"
)

BACKENDS = {"agg": "Agg", "ipympl": "module://ipympl.backend_nbagg"}


@pytest.fixture(params=list(BACKENDS))
def backend(request):
    previous = matplotlib.get_backend()
    matplotlib.use(BACKENDS[request.param])
    yield request.param
    matplotlib.use(previous)


@pytest.fixture(scope="module")
def small_sweep(data):
    return lf.sweep(
        data, widths=(3, 5), depths=(1, 2), paradigms=("all", "ridge"), n_steps=60, save_every=20, progress=False
    )


@pytest.fixture
def explorer(small_sweep, backend):
    e = lf.Explorer(small_sweep, n_grid=64, max_lines=12)
    yield e
    e.close()


def _refreshes(explorer):
    return {name: host.full_draws + host.blits for name, host in explorer.hosts.items()}


def _artists(explorer):
    counts = []
    for figure in explorer.figures:
        for ax in figure.axes:
            counts.append(
                (len(ax.lines), len(ax.collections), len(ax.texts), len(ax.patches), len(ax.images), len(ax.artists))
            )
        counts.append(len(figure.axes))
    return counts


def test_mode_follows_the_backend(explorer, backend):
    assert explorer.mode == ("ipympl" if backend == "ipympl" else "image")
    assert len(explorer.figures) == 5
    for host in explorer.hosts.values():
        if backend == "ipympl":
            assert host.widget is host.figure.canvas
            from ipympl.backend_nbagg import Canvas

            assert isinstance(host.widget, Canvas)  # ipympl's, with a faster frame encoder
            assert host.widget.header_visible is False
        else:
            assert host.widget.format == "png" and bytes(host.widget.value).startswith(b"\x89PNG")
            assert host.widget.layout.width.endswith("px")
    # the figures are the explorer's own: pyplot knows none of them
    assert plt.get_fignums() == []
    assert "SGD iteration 60" in explorer.status.value and "test error" in explorer.status.value


def test_prediction_line_is_the_selected_snapshots_model(explorer, small_sweep):
    history = small_sweep.history(3, 1, "all")
    grid = explorer.snapshots.grid
    for step in (1, 40, 20, 60):
        explorer.iteration_slider.value = step
        assert explorer.iteration == step
        model = history.model(step)
        line = explorer.prediction_panel.prediction
        assert np.array_equal(line.get_xdata(), grid)
        assert np.array_equal(line.get_ydata(), lf.predict(model, grid))
        with torch.no_grad():
            forward = model(torch.tensor(grid[:, None], dtype=torch.float32))[:, 0].numpy()
        np.testing.assert_allclose(line.get_ydata(), forward, atol=1e-5)
        # every hidden unit's ReLU, at its true height
        w = model[0].weight.detach().double().numpy()[:, 0]
        b = model[0].bias.detach().double().numpy()
        segments = explorer.prediction_panel.relus.get_segments()
        assert len(segments) == 3
        for segment, wi, bi in zip(segments, w, b):
            np.testing.assert_allclose(segment[:, 1], np.maximum(wi * segment[:, 0] + bi, 0), atol=1e-12)


@pytest.mark.parametrize("layer", ["0.weight", "0.bias", "2.weight", "all"])
def test_feature_lines_equal_linearize(explorer, small_sweep, layer):
    explorer.select(width=5, depth=2, iteration=40, layer=layer)
    history = small_sweep.history(5, 2, "all")
    grid = explorer.snapshots.grid
    block = lf.linearize(history.model(40), grid).columns(layer)
    initial = lf.linearize(history.model(0), grid).columns(layer)
    columns = explorer.snapshots.features(40, layer).columns
    assert len(columns) == min(block.shape[1], 12)
    current = explorer.feature_panel.current.get_segments()
    assert len(current) == len(columns)
    for segment, j in zip(current, columns):
        assert np.array_equal(segment[:, 0], grid)
        np.testing.assert_allclose(segment[:, 1], block[:, j], rtol=1e-12, atol=1e-15)
    for segment, j in zip(explorer.feature_panel.initial.get_segments(), columns):
        np.testing.assert_allclose(segment[:, 1], initial[:, j], rtol=1e-12, atol=1e-15)
    if block.shape[1] > 12:
        assert f"({len(columns)} of {block.shape[1]} drawn)" in explorer.feature_panel.ax.get_title()
    explorer.compare_checkbox.value = False
    assert explorer.compare is False and len(explorer.feature_panel.initial.get_segments()) == 0


def test_spectrum_equals_feature_svd(explorer, small_sweep, data):
    explorer.select(width=5, depth=1, iteration=20)
    history = small_sweep.history(5, 1, "all")
    grid = explorer.snapshots.grid
    spectrum = lf.feature_svd(history.model(20), data.X, grid, n_components=4)
    initial = lf.feature_svd(history.model(0), data.X, grid, n_components=4)
    panel = explorer.spectrum_panel
    np.testing.assert_allclose(panel.current.get_ydata(), spectrum.singular_values, rtol=1e-12)
    assert np.array_equal(panel.current.get_xdata(), np.arange(1, spectrum.rank + 1))
    np.testing.assert_allclose(panel.initial.get_ydata(), initial.singular_values, rtol=1e-12)
    for j, line in enumerate(explorer.principal_panel.lines):
        np.testing.assert_allclose(line.get_ydata(), spectrum.principal_features[:, j], rtol=1e-9, atol=1e-12)


def test_error_panel_marks_the_selected_iteration(explorer, small_sweep):
    history = small_sweep.history(3, 1, "all")
    explorer.iteration_slider.value = 40
    panel = explorer.error_panel
    assert np.array_equal(panel.test_line.get_ydata(), history.test_error)
    assert list(panel.marker.get_xdata()) == [40, 40]
    i = history.index(40)
    assert list(panel.selected.get_ydata()) == [history.train_error[i], history.test_error[i]]
    assert panel.ax.get_yscale() == "log"


def test_a_move_redraws_each_panel_once(explorer):
    before = _refreshes(explorer)
    explorer.iteration_slider.value = 40
    after = _refreshes(explorer)
    assert all(after[name] == before[name] + 1 for name in before)
    before = after
    explorer.layer_selector.value = "0.bias"
    after = _refreshes(explorer)
    assert after["features"] == before["features"] + 1
    assert all(after[name] == before[name] for name in before if name != "features")


@pytest.mark.parametrize("change", [{"width": 5}, {"depth": 2}, {"width": 5, "depth": 2}, {"paradigm": "ridge"}])
def test_changing_the_run_redraws_once(explorer, backend, change, monkeypatch):
    explorer.iteration_slider.value = 40
    explorer.layer_selector.value = "0.bias"
    idle = {}
    if backend == "ipympl":
        for name, host in explorer.hosts.items():
            idle[name] = 0

            def count(name=name):
                idle[name] += 1

            monkeypatch.setattr(host.widget, "draw_idle", count)
    statuses = []
    explorer.status.observe(lambda c: statuses.append(c["new"]), "value")
    before = _refreshes(explorer)
    if len(change) == 1:
        selector = getattr(explorer, f"{next(iter(change))}_selector")
        selector.value = next(iter(change.values()))  # as a click would
    else:
        explorer.select(**change)
    after = _refreshes(explorer)
    assert all(after[name] == before[name] + 1 for name in before), (before, after)
    assert len(statuses) == 1
    if backend == "ipympl":
        assert all(count == 1 for count in idle.values()), idle
    for name, value in change.items():
        assert getattr(explorer, name) == value
    expected_steps = (1,) if change.get("paradigm") == "ridge" else (1, 20, 40, 60)
    assert explorer.iteration_slider.steps == expected_steps
    assert explorer.iteration == (1 if change.get("paradigm") == "ridge" else 40)
    assert explorer.layer == "0.bias" and explorer.layer_selector.value == "0.bias"
    assert explorer.history is explorer.sweep.history(explorer.width, explorer.depth, explorer.paradigm)


def test_many_moves_add_no_figure_or_artist(explorer):
    figures = explorer.figures
    artists = _artists(explorer)
    rng = np.random.default_rng(0)
    for _ in range(40):
        explorer.iteration_slider.value = int(rng.choice(explorer.iteration_slider.steps))
    for layer in ("0.bias", "all", "2.weight", "0.weight"):
        explorer.layer = layer
    for width, depth in ((5, 2), (3, 2), (5, 1), (3, 1)):
        explorer.select(width=width, depth=depth)
        explorer.iteration_slider.value = 20
    explorer.compare = False
    explorer.compare = True
    assert explorer.figures == figures and all(a is b for a, b in zip(explorer.figures, figures))
    assert _artists(explorer) == artists
    assert plt.get_fignums() == []


def test_blitted_frames_match_full_draws(small_sweep):
    explorer = lf.Explorer(small_sweep, mode="image", n_grid=64)
    try:
        for step in (1, 40, 20):
            explorer.iteration_slider.value = step
        host = explorer.hosts["features"]
        assert host.blits > 0
        blitted = np.asarray(host.figure.canvas.buffer_rgba()).copy()
        host.refresh(full=True)
        assert np.array_equal(blitted, np.asarray(host.figure.canvas.buffer_rgba()))
        shown = bytes(explorer.hosts["prediction"].widget.value)
        explorer.iteration_slider.value = 60
        assert bytes(explorer.hosts["prediction"].widget.value) != shown
    finally:
        explorer.close()


def test_ipympl_canvas_blits_after_the_front_ends_draw(small_sweep, monkeypatch):
    previous = matplotlib.get_backend()
    matplotlib.use(BACKENDS["ipympl"])
    explorer = lf.Explorer(small_sweep, n_grid=64)
    try:
        host = explorer.hosts["prediction"]
        canvas = host.widget
        blits = []
        monkeypatch.setattr(canvas, "blit", lambda bbox=None: blits.append(bbox))
        explorer.iteration_slider.value = 20
        assert host.blits == 0 and not blits  # nothing drawn yet: a draw_idle asks for a frame
        canvas.draw()  # what ipympl runs when the front end answers
        explorer.iteration_slider.value = 40
        assert host.blits == 1 and len(blits) == 1
        expected = explorer.snapshots.snapshot(40).prediction
        assert np.array_equal(explorer.prediction_panel.prediction.get_ydata(), expected)
    finally:
        explorer.close()
        matplotlib.use(previous)


def test_savefig_includes_the_animated_artists(small_sweep, tmp_path):
    explorer = lf.Explorer(small_sweep, mode="image", n_grid=64)
    try:
        host = explorer.hosts["prediction"]
        background = host._background
        figure = host.figure
        figure.savefig(tmp_path / "with.png")
        explorer.prediction_panel.prediction.set_visible(False)
        figure.savefig(tmp_path / "without.png")
        explorer.prediction_panel.prediction.set_visible(True)
        assert (tmp_path / "with.png").read_bytes() != (tmp_path / "without.png").read_bytes()
        assert host._background is background  # saving leaves the blitting background alone
    finally:
        explorer.close()


def test_errors_in_a_callback_are_shown_and_raised(explorer, monkeypatch):
    def broken(step):
        raise RuntimeError("snapshot exploded")

    monkeypatch.setattr(explorer.snapshots, "snapshot", broken)
    with pytest.raises(RuntimeError, match="snapshot exploded"):
        explorer.iteration_slider.value = 20
    assert isinstance(explorer.error, RuntimeError)
    assert "snapshot exploded" in explorer.errors.outputs[-1]["text"]
    assert "RuntimeError" in explorer.status.value
    monkeypatch.undo()
    explorer.iteration_slider.value = 40
    assert explorer.error is None and explorer.errors.outputs == ()
    assert "SGD iteration 40" in explorer.status.value


def test_bad_arguments_raise_value_errors(small_sweep, data):
    history = small_sweep.history(3, 1, "all")
    with pytest.raises(ValueError, match="sweep is empty"):
        lf.Explorer({})
    with pytest.raises(ValueError, match="a Sweep needs at least one history"):
        lf.Sweep(data, {}, {})
    with pytest.raises(ValueError, match="layer must be one of '0.weight', '0.bias'"):
        lf.Explorer(small_sweep, layer="1.weight", mode="image")
    with pytest.raises(ValueError, match=r"width must be one of \(3, 5\)"):
        lf.Explorer(small_sweep, width=4, mode="image")
    with pytest.raises(ValueError, match="step 7 was not saved"):
        lf.Explorer(small_sweep, iteration=7, mode="image")
    with pytest.raises(ValueError, match="data must be the Dataset"):
        lf.Explorer(history)
    with pytest.raises(ValueError, match="mode must be one of 'auto', 'ipympl', 'image'"):
        lf.Explorer(small_sweep, mode="svg")
    explorer = lf.Explorer(small_sweep, mode="image", n_grid=32)
    try:
        with pytest.raises(ValueError, match="layer must be one of"):
            explorer.layer = "all-of-them"
        with pytest.raises(ValueError, match="step 7 was not saved"):
            explorer.iteration = 7
        with pytest.raises(ValueError, match=r"depth must be one of \(1, 2\)"):
            explorer.select(depth=3, iteration=20)
        with pytest.raises(ValueError, match="select accepts"):
            explorer.select(colour="red")
        assert (explorer.depth, explorer.iteration, explorer.layer) == (1, 60, "0.weight")  # rolled back
    finally:
        explorer.close()


def test_one_history_and_its_data(small_sweep, data):
    history = small_sweep.history(5, 2, "ridge")
    explorer = lf.Explorer(history, data=data, mode="image", n_grid=32)
    try:
        assert (explorer.width, explorer.depth, explorer.paradigm, explorer.iteration) == (5, 2, "ridge", 1)
        assert explorer.width_selector.disabled and explorer.iteration_slider.steps == (1,)
        assert "ridge solution" in explorer.status.value
    finally:
        explorer.close()


def test_close_releases_the_widgets(small_sweep):
    explorer = lf.Explorer(small_sweep, mode="image", n_grid=32)
    widgets = [host.widget for host in explorer.hosts.values()] + [explorer.iteration_slider, explorer.status]
    explorer.close()
    assert all(w.comm is None for w in widgets) and explorer.comm is None


def test_explore_trains_and_opens(data):
    explorer = lf.explore(widths=(3, 4), n_steps=30, save_every=10, progress=False, mode="image", n_grid=32)
    try:
        assert explorer.sweep.widths == (3, 4) and explorer.sweep.data.target == "piecewise_linear"
        assert explorer.iteration_slider.steps == (1, 10, 20, 30) and explorer.iteration == 30
    finally:
        explorer.close()
    explorer = lf.explore(depths=(1, 2), widths=(3,), target="sin(20x)", n_steps=10, save_every=5, progress=False)
    try:
        assert explorer.sweep.depths == (1, 2) and explorer.sweep.data.target == "sin(20x)"
    finally:
        explorer.close()


def test_make_history_interactive_takes_the_homeworks_own_history():
    from homework import homework_dataset

    X, y, X_test, y_test = homework_dataset()
    net = lf.make_mlp(4, seed=3)
    torch.manual_seed(0)
    history = homework_train(net, X, y, X_test, y_test, n_steps=30, save_every=10, lr=0.02)
    before = [p.detach().clone() for p in net.parameters()]
    explorer = lf.make_history_interactive(history, X, y, X_test, y_test, net, mode="image", n_grid=40)
    try:
        assert explorer.iteration_slider.steps == (1, 10, 20, 30) and explorer.iteration == 1
        for step in (20, 1, 30):
            explorer.iteration_slider.value = step
            reference = lf.make_mlp(4, seed=3)
            reference.load_state_dict(history[step]["state"])
            np.testing.assert_allclose(
                explorer.prediction_panel.prediction.get_ydata(), lf.predict(reference, explorer.snapshots.grid)
            )
            assert explorer.error_panel.selected.get_ydata()[1] == pytest.approx(history[step]["test_error"])
        # drawing a snapshot never loads it into the homework's network
        assert all(torch.equal(p, q) for p, q in zip(before, net.parameters()))
    finally:
        explorer.close()
    with pytest.raises(ValueError, match="history is empty"):
        lf.make_history_interactive({}, X, y, X_test, y_test, net)
    with pytest.raises(ValueError, match="y must have one target per input"):
        lf.make_history_interactive(history, X, y[:-1], X_test, y_test, net)
