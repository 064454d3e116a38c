"""Each control alone: choices, values, the nearest step, errors."""

import numpy as np
import pytest

import linfeat_widgets as lf


def test_iteration_slider():
    slider = lf.IterationSlider(np.array([1, 1000, 2000, 3000]))
    assert slider.description == "SGD iteration"
    assert slider.value == 3000 and slider.steps == (1, 1000, 2000, 3000)
    assert slider.options == (("1", 1), ("1,000", 1000), ("2,000", 2000), ("3,000", 3000))
    seen = []
    slider.observe(lambda change: seen.append(change["new"]), "index")
    slider.value = 1000
    assert seen == [1]
    assert slider.nearest(1400) == 1000 and slider.nearest(1600) == 2000
    slider.set_choices([1])
    assert slider.value == 1 and slider.steps == (1,)
    slider.set_choices([1, 10, 20], value=20)
    assert slider.value == 20


@pytest.mark.parametrize(
    "steps, value, match",
    [
        ([], None, "at least one saved step"),
        ([3, 1], None, "increasing"),
        (["a"], None, "steps must be a sequence"),
        ([1, 2], 5, "value must be one of the saved steps"),
    ],
)
def test_iteration_slider_errors(steps, value, match):
    with pytest.raises(ValueError, match=match):
        lf.IterationSlider(steps, value)


def test_layer_selector():
    selector = lf.LayerSelector(("0.weight", "0.bias", "2.weight", "2.bias", "all"))
    assert selector.value == "0.weight"
    selector.value = "all"
    selector.set_choices(("0.weight", "all"))
    assert selector.value == "all"
    selector.set_choices(("0.weight", "0.bias"))
    assert selector.value == "0.weight"
    with pytest.raises(ValueError, match="layer must be one of '0.weight', '0.bias'; got 'x'"):
        selector.set_choices(("0.weight", "0.bias"), "x")
    with pytest.raises(ValueError, match="keys must be a non-empty sequence"):
        lf.LayerSelector(())


@pytest.mark.parametrize(
    "cls, values", [(lf.WidthSelector, (10, 20, 40)), (lf.DepthSelector, (1, 2)), (lf.ParadigmSelector, ("all",))]
)
def test_run_selectors(cls, values):
    selector = cls(values)
    assert selector.value == values[0] and selector.choices == values
    assert selector.disabled == (len(values) == 1)
    name = cls._name
    assert selector.description == name
    with pytest.raises(ValueError, match=f"{name} must be one of"):
        cls(values, "nope")
    with pytest.raises(ValueError, match=f"{name}s must hold at least one value"):
        cls(())
