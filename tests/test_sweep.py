import numpy as np
import pytest
import torch

import linfeat_widgets as lf


@pytest.fixture(scope="module")
def small_sweep(data):
    return lf.sweep(
        data,
        widths=(5, 7),
        depths=(1, 2),
        paradigms=("all", "output", "ridge"),
        n_steps=120,
        save_every=50,
        progress=False,
    )


def test_one_history_per_configuration(small_sweep):
    assert len(small_sweep) == 12
    assert small_sweep.widths == (5, 7) and small_sweep.depths == (1, 2)
    assert small_sweep.paradigms == ("all", "output", "ridge")
    history = small_sweep.history(width=7, depth=2, paradigm="all")
    assert history.steps.tolist() == [1, 50, 100, 120]
    assert history.params.shape[1] == 7 * 2 + 7 * 7 + 7 + 7 + 1
    assert small_sweep[lf.Config(7, 2, "all")] is history


def test_every_paradigm_of_a_width_and_depth_starts_from_the_same_network(small_sweep):
    for width in (5, 7):
        for depth in (1, 2):
            starts = [small_sweep.history(width, depth, p).initial_params for p in small_sweep.paradigms]
            assert all(np.array_equal(starts[0], s) for s in starts[1:])
    assert not np.array_equal(
        small_sweep.history(5, 1, "all").initial_params,
        lf.sweep(small_sweep.data, widths=5, n_steps=2, progress=False, seed=1).history().initial_params,
    )


def test_initial_network_has_elbows_in_the_data_range(data):
    data = lf.make_dataset(x_range=(-1.0, 0.4), test_range=(-1.0, 1.0))
    s = lf.sweep(data, widths=(30,), n_steps=1, progress=False)
    model = s.initial_model()
    elbows = -(model[0].bias / model[0].weight[:, 0]).detach().numpy()
    assert elbows.min() >= -1.0 - 1e-5 and elbows.max() <= 0.4 + 1e-5


def test_same_seed_same_sweep(data):
    a = lf.sweep(data, widths=(5,), n_steps=60, save_every=20, progress=False, seed=3)
    b = lf.sweep(data, widths=(5,), n_steps=60, save_every=20, progress=False, seed=3)
    assert np.array_equal(a.history().params, b.history().params)
    for p, q in zip(a.initial_model().parameters(), b.initial_model().parameters()):
        assert torch.equal(p, q)


def test_a_progress_callback_sees_every_step(data):
    seen = []
    lf.sweep(data, widths=(3, 4), n_steps=70, save_every=25, progress=seen.append)
    assert sum(seen) == 140


def test_lookup_errors(small_sweep):
    with pytest.raises(ValueError, match=r"width must be one of \(5, 7\)"):
        small_sweep.history(width=10, depth=1, paradigm="all")
    with pytest.raises(ValueError, match="depth must be given"):
        small_sweep.history(width=5, paradigm="all")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"widths": ()}, "widths must hold at least one value"),
        ({"widths": (0,)}, "widths must be an integer >= 1"),
        ({"depths": (1, -1)}, "depths must be an integer >= 1"),
        ({"paradigms": ("all", "adam")}, "paradigms must be one of 'all', 'output', 'ridge'"),
        ({"init": "zeros"}, "init must be one of"),
        ({"seed": -1}, r"seed must be an integer in \[0, 2\*\*63 - 1\]; got -1"),
    ],
)
def test_bad_arguments(data, kwargs, match):
    with pytest.raises(ValueError, match=match):
        lf.sweep(data, n_steps=2, progress=False, **kwargs)


def test_data_must_be_a_dataset():
    with pytest.raises(ValueError, match="data must be a Dataset"):
        lf.sweep(None)
