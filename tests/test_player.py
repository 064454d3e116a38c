"""The play button: an ipywidgets.Play stepping the Explorer's iteration slider."""

import ipywidgets as widgets
import matplotlib
import pytest

import linfeat_widgets as lf
from linfeat_widgets.controls import IterationSlider
from linfeat_widgets.player import PlayControl


@pytest.fixture(scope="module")
def runs():
    data = lf.make_dataset(n_samples=20, n_grid=20)
    return lf.sweep(data, widths=(3, 4), n_steps=100, save_every=20, progress=False)


@pytest.fixture
def explorer(runs):
    previous = matplotlib.get_backend()
    matplotlib.use("Agg")
    e = lf.Explorer(runs, n_grid=32, max_lines=8, mode="image")
    yield e
    e.close()
    matplotlib.use(previous)


def test_play_button_is_linked_to_the_slider(explorer):
    play, slider = explorer.play_button, explorer.iteration_slider
    assert isinstance(play, widgets.Play)
    assert play.min == 0 and play.max == len(slider.options) - 1 == 5
    assert play.value == slider.index == 5
    play.value = 2  # what the front end sends on each tick
    assert slider.index == 2 and explorer.iteration == 40
    explorer.iteration = 80
    assert play.value == slider.index == 4


def test_play_range_follows_a_new_run(explorer, runs):
    longer = lf.sweep(runs.data, widths=(3,), n_steps=200, save_every=20, progress=False)
    slider = IterationSlider(longer.history(3, 1, "all").steps)
    control = PlayControl(slider)
    assert control.play.max == 10
    slider.set_choices([1, 20, 40])
    assert control.play.max == 2 and control.play.value == slider.index
    control.close()
    control.close()  # twice is fine
    assert control.play.value == 2
    slider.index = 0  # no longer followed
    assert control.play.value == 2


def test_speed_sets_the_interval(explorer):
    explorer.player.speed.value = 20
    assert explorer.play_button.interval == 50
    explorer.player.speed.value = 1
    assert explorer.play_button.interval == 1000
    assert explorer.player.fps == 1


def test_play_control_is_in_the_layout(explorer):
    def walk(widget):
        yield widget
        for child in getattr(widget, "children", ()):
            yield from walk(child)

    assert explorer.player in list(walk(explorer))


@pytest.mark.parametrize("fps", [0, 31, float("nan"), "fast"])
def test_bad_speed_is_refused(fps):
    with pytest.raises(ValueError, match="fps"):
        PlayControl(IterationSlider([1, 2, 3]), fps=fps)


def test_bad_slider_is_refused():
    with pytest.raises(ValueError, match="slider"):
        PlayControl(widgets.IntSlider())
