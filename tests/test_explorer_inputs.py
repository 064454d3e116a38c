"""The Explorer refuses what it cannot show (a ValueError that is also a TraitError), and explore()
checks the Explorer's options before it trains."""

import pytest
from traitlets import TraitError

import linfeat_widgets as lf
from linfeat_widgets import explorer as explorer_module


@pytest.fixture(scope="module")
def small_sweep(data):
    return lf.sweep(data, widths=(3, 5), depths=(1, 2), n_steps=60, save_every=20, progress=False)


@pytest.fixture(scope="module")
def explorer(small_sweep):
    explorer = lf.Explorer(small_sweep, mode="image", n_grid=32)
    yield explorer
    explorer.close()


@pytest.mark.parametrize(
    "name, value, match",
    [
        ("iteration", 40.7, r"iteration must be an integer \(the saved step shown"),
        ("iteration", "abc", "iteration must be an integer"),
        ("iteration", "40", "iteration must be an integer"),
        ("iteration", True, "iteration must be an integer"),
        ("iteration", 7, "iteration must be a saved step of the run shown: step 7 was not saved"),
        ("layer", 5, r"layer must be one of '0.weight', '0.bias', '2.weight', '2.bias', 'all'; got 5"),
        ("layer", "4.weight", "layer must be one of"),
        ("width", 4, r"width must be one of \(3, 5\) \(the swept widths\); got 4"),
        ("width", 5.5, "width must be an integer"),
        ("depth", True, "depth must be an integer"),
        ("paradigm", 5, r"paradigm must be one of \('all',\)"),
        ("compare", "no", "compare must be True or False"),
    ],
)
def test_a_value_that_cannot_be_shown_is_refused_and_rolled_back(explorer, name, value, match):
    before = {key: getattr(explorer, key) for key in ("width", "depth", "paradigm", "iteration", "layer", "compare")}
    with pytest.raises(ValueError, match=match) as info:
        setattr(explorer, name, value)
    assert isinstance(info.value, TraitError)
    assert {key: getattr(explorer, key) for key in before} == before


def test_a_whole_float_is_a_step(explorer):
    explorer.iteration = 40.0
    assert explorer.iteration == 40 and isinstance(explorer.iteration, int)
    assert explorer.iteration_slider.value == 40


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"dpi": "80"}, "dpi must be a finite number; got '80'"),
        ({"dpi": 0}, "dpi must be > 0"),
        ({"iteration": 40.5}, "iteration must be an integer"),
        ({"iteration": True}, "iteration must be an integer"),
        ({"compare": "yes"}, "compare must be True or False"),
        ({"depth": True}, "depth must be an integer"),
        ({"width": 3.5}, "width must be an integer"),
    ],
)
def test_explorer_arguments_are_checked(small_sweep, kwargs, match):
    with pytest.raises(ValueError, match=match):
        lf.Explorer(small_sweep, mode="image", n_grid=32, **kwargs)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"layr": "0.bias"}, "explore got unknown option\\(s\\) 'layr'; .* layer"),
        ({"dpi": "80"}, "dpi must be a finite number"),
        ({"mode": "svg"}, "mode must be one of"),
        ({"n_grid": 1}, "n_grid must be an integer >= 2"),
        ({"n_principal": 0}, "n_principal must be an integer >= 1"),
        ({"max_lines": 2.0}, "max_lines must be an integer >= 1"),
        ({"compare": 1}, "compare must be True or False"),
        ({"width": 7}, r"width must be one of \(3,\) \(the widths to be swept\); got 7"),
        ({"width": 3.5}, "width must be an integer"),
        ({"depth": 2}, r"depth must be one of \(1,\)"),
        ({"paradigm": "output"}, r"paradigm must be one of \('all',\)"),
        ({"layer": "4.weight"}, "layer must be one of '0.weight', '0.bias', '2.weight', '2.bias', 'all'"),
        ({"iteration": 150}, "iteration must be a step that will be saved: 1, every save_every=1,000 and the last"),
        ({"iteration": 500.7}, "iteration must be an integer"),
    ],
)
def test_explore_checks_the_explorers_options_before_it_trains(kwargs, match, monkeypatch):
    trained = []
    monkeypatch.setattr(explorer_module, "sweep", lambda *a, **k: trained.append(k))
    with pytest.raises(ValueError, match=match):
        lf.explore(widths=(3,), n_steps=100_000, **kwargs)
    assert trained == []


def test_explore_accepts_options_that_will_hold(monkeypatch):
    trained = []

    class Stop(Exception):
        pass

    def fake_sweep(*args, **kwargs):
        trained.append(kwargs)
        raise Stop

    monkeypatch.setattr(explorer_module, "sweep", fake_sweep)
    with pytest.raises(Stop):
        lf.explore(
            widths=(3, 5),
            depths=(1, 2),
            n_steps=2500,
            save_every=1000,
            width=5,
            depth=2,
            layer="4.bias",
            iteration=2500,
        )
    with pytest.raises(Stop):
        lf.explore(widths=(3,), paradigms=("ridge",), iteration=1, dpi=60.0, compare=False)
    assert len(trained) == 2
