"""Controls and FigureHost: clear refusals and controls that do not run together."""

import ipywidgets as widgets
import pytest
from matplotlib.figure import Figure

import linfeat_widgets as lf


@pytest.mark.parametrize("animated", [[1, 2], ["line"], 5, "line", [None]])
def test_figure_host_refuses_what_is_not_artists(animated):
    with pytest.raises(ValueError, match="animated must"):
        lf.FigureHost(Figure(), animated=animated)


def test_figure_host_takes_a_generator_of_artists():
    figure = Figure()
    ax = figure.add_subplot()
    (line,) = ax.plot([0, 1], [0, 1], animated=True)
    host = lf.FigureHost(figure, animated=(a for a in [line]))
    assert host.animated == (line,)
    host.close()


@pytest.mark.parametrize(
    "cls, name", [(lf.WidthSelector, "width"), (lf.DepthSelector, "depth"), (lf.ParadigmSelector, "paradigm")]
)
def test_one_option_choices_keep_their_label_apart_from_the_next(cls, name):
    one = cls(("all",) if name == "paradigm" else (1,))
    assert one.disabled and one.description == name
    assert one.tooltip  # says what the choice is
    right = one.layout.margin.split()[1]
    assert right.endswith("px") and int(right[:-2]) >= 12
    row = widgets.HBox([one, cls(("all",) if name == "paradigm" else (2,))])
    assert all(child.layout.margin for child in row.children)


def test_a_given_layout_is_kept():
    layout = widgets.Layout(margin="0")
    assert lf.WidthSelector((3, 5), layout=layout).layout is layout
