"""The dashboard (issue 12), headless: readable scales, formatting, step buttons, titles, themes and layouts."""

import html

import numpy as np
import pytest

import linfeat_widgets as lf
from linfeat_widgets.controls import IterationSlider, StepButtons, format_step

pytestmark = pytest.mark.filterwarnings(
    "ignore:Passing unrecognized arguments to super\\(Toolbar\\):DeprecationWarning"
)


@pytest.fixture(autouse=True)
def agg(agg_backend):
    """Every test here under Agg (the shared fixture in conftest.py)."""


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


def test_every_panel_has_a_title_and_a_caption(run):
    e = lf.Explorer(run, n_grid=32, mode="image", panels="all", background=False)
    for name, figure in zip(e.hosts, e.figures):
        spec = lf.PANELS[name]
        assert spec.title and len(spec.caption) > 40
        assert [t.get_text() for t in figure.texts] == [spec.title]
        card = e.cards[name]
        assert e.hosts[name].widget in card.children and spec.caption.split()[0] in card.children[1].value
        assert f"title='{html.escape(spec.caption)}'" in card.children[1].value  # the caption's tooltip
    # the features panel also names its layer
    assert "0.weight" in e.feature_panel.ax.get_title()
    e.layer = "0.bias"
    assert "0.bias" in e.feature_panel.ax.get_title()
    e.close()


def test_same_fonts_across_panels(explorer):
    theme = lf.THEMES["default"]
    for figure in explorer.figures:
        ax = figure.axes[0]
        assert figure.texts[0].get_fontsize() == theme.title_size
        assert ax.xaxis.label.get_fontsize() == theme.label_size
        assert {t.get_fontsize() for t in ax.get_xticklabels() + ax.get_yticklabels()} <= {theme.font_size}
        legend = ax.get_legend()
        if legend is not None:
            assert {t.get_fontsize() for t in legend.get_texts()} == {theme.legend_size}


def test_principal_direction_colors_shared(explorer):
    from matplotlib.colors import to_rgba

    lines = explorer.principal_panel.lines
    top = explorer.spectrum_panel.top
    s = explorer.snapshots.snapshot(explorer.iteration).singular_values
    assert len(top.get_offsets()) == len(lines) == 4
    np.testing.assert_allclose(np.asarray(top.get_offsets())[:, 1], s[:4])
    for j, line in enumerate(lines):
        assert to_rgba(line.get_color()) == tuple(top.get_edgecolors()[j])
    assert len({line.get_color() for line in lines}) == 4


def test_lecture_theme_is_larger_and_thicker(run):
    plain = lf.Explorer(run, n_grid=32, mode="image")
    lecture = lf.Explorer(run, n_grid=32, mode="image", theme="lecture")
    for a, b in zip(plain.figures, lecture.figures):
        assert b.texts[0].get_fontsize() > a.texts[0].get_fontsize()
        assert b.axes[0].xaxis.label.get_fontsize() > a.axes[0].xaxis.label.get_fontsize()
    scale = lf.THEMES["lecture"].line_scale
    assert (
        lecture.prediction_panel.prediction.get_linewidth() == scale * plain.prediction_panel.prediction.get_linewidth()
    )
    assert lecture.prediction_panel.prediction.get_linewidth() >= 3
    plain.close()
    lecture.close()
    with pytest.raises(ValueError, match="theme must be one of 'default', 'lecture'"):
        lf.Explorer(run, mode="image", theme="projector")


@pytest.mark.parametrize("layout", ["wide", "compact"])
def test_layouts_make_a_grid_of_equal_heights_that_fits(run, layout):
    dpi = 100
    e = lf.Explorer(run, n_grid=32, mode="image", layout=layout, dpi=dpi)
    grid = lf.LAYOUTS[layout]
    pixels = {name: figure.get_size_inches() * dpi for name, figure in zip(e.hosts, e.figures)}
    assert len({round(h, 6) for _, h in pixels.values()}) == 1  # equal heights
    for row in e.board.rows:
        width = sum(pixels[name][0] for name in row)
        assert width == pytest.approx(grid.width * 80)  # the same pixels at any dpi
        assert width <= 800 + 1e-6  # fits JupyterLab's output area in a 1,280 px window, file browser open
    for name, card in e.cards.items():
        assert card.layout.width == f"{round(pixels[name][0])}px"
    e.close()
    with pytest.raises(ValueError, match="layout must be one of 'wide', 'compact'"):
        lf.Explorer(run, mode="image", layout="huge")


def test_one_option_choices_are_text(explorer, run):
    width = explorer.choice_views["width"]
    assert width.single and explorer.width_selector.layout.display == "none"
    assert width.text.layout.display is None and "<b>width</b>&nbsp;5" in width.text.value
    assert explorer.choice_views["seed"].layout.display == "none"  # one seed: nothing to say


def test_choice_view_follows_the_options():
    from linfeat_widgets.dashboard import ChoiceView

    selector = lf.WidthSelector((10, 20), 10)
    view = ChoiceView(selector)
    assert not view.single and selector.layout.display is None and view.text.layout.display == "none"
    selector.set_choices((40,))
    assert view.single and selector.layout.display == "none" and "40" in view.text.value
    with pytest.raises(ValueError, match="selector"):
        ChoiceView(lf.IterationSlider([1, 2]))


def test_control_bar_groups_are_labelled(explorer):
    from linfeat_widgets.dashboard import control_group

    run, rest = explorer.children[0], explorer.children[1]
    step, view = rest.children
    headings = [g.children[0].value for g in (run, step, view)]
    assert all(word in h for word, h in zip(("RUN", "STEP", "VIEW"), headings))
    controls = step.children[1].children[0].children
    assert controls[0] is explorer.step_buttons.previous and controls[1] is explorer.iteration_slider
    assert controls[2] is explorer.step_buttons.next
    assert explorer.compare_checkbox in view.children[1].children
    assert control_group("x", []).children[0].value.count("X") == 1


def test_board_themes_outside_the_explorer(run, data):
    history = run[next(iter(run))]
    view = lf.PanelView.of(history, data, n_grid=32)
    board = lf.PanelBoard(("errors",), lf.PanelContext(data), theme="lecture", layout="compact")
    board.draw(view)
    assert board.figures["errors"].get_size_inches()[0] == pytest.approx(7.0)
    assert board.titles["errors"].get_fontsize() == lf.THEMES["lecture"].title_size
    with pytest.raises(ValueError, match="layout"):
        lf.PanelBoard(("errors",), lf.PanelContext(data), layout=lf.GridLayout("bad", 0.0, 1.0))
