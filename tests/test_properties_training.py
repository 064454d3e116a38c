"""Property-based tests of train and sweep: every bad argument is refused before training, by name.

For each generated call exactly one argument is bad; the rest are valid and tiny. The
call must raise ``ValueError`` whose message names that argument, and no backend may
have been started (the backends are replaced by tripwires). Valid tiny calls must
return finite errors of the documented shapes.
"""

import contextlib
import importlib
import math
from unittest import mock

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import linfeat_widgets as lf
from linfeat_widgets.training import trainer
from linfeat_widgets.training.minibatches import snapshot_steps

sweep_module = importlib.import_module("linfeat_widgets.training.sweep")

SETTINGS = settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

DATA = lf.make_dataset(n_samples=20, n_grid=30)
MODEL = lf.make_mlp(3, seed=0)

# values that are not integers (or are bools, which are not counts)
not_an_int = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=4),
    st.none(),
    st.complex_numbers(),
    st.lists(st.integers(), max_size=2),
)
not_a_number = st.one_of(st.text(max_size=4), st.booleans(), st.none(), st.complex_numbers(), st.lists(st.floats()))


def counts(minimum: int):
    """Bad values for an integer argument that must be >= minimum."""
    return st.one_of(not_an_int, st.integers(max_value=minimum - 1))


def choices(accepted):
    return st.one_of(st.text(max_size=8).filter(lambda v: v not in accepted), st.integers(), st.none(), st.booleans())


def _not_a_cpu(value) -> bool:
    try:
        return torch.device(value).type != "cpu"
    except (RuntimeError, TypeError):
        return True


TRAIN_BAD = {
    "paradigm": choices(("all", "output", "ridge")),
    "n_steps": counts(1),
    "save_every": counts(1),
    "lr": st.one_of(not_a_number, st.floats(max_value=0.0), st.sampled_from([math.nan, math.inf, -math.inf])),
    "seed": st.one_of(
        st.integers(max_value=-1), st.integers(min_value=2**63, max_value=2**70), st.floats(), st.booleans(), st.text()
    ),
    "backend": choices(("auto", "torch", "fast")),
    "device": st.one_of(st.text(max_size=8).filter(_not_a_cpu), st.integers(min_value=-3, max_value=3), st.floats()),
    "dtype": choices(("float32", "float64")),
    "batch_size": st.one_of(counts(1), st.integers(min_value=21, max_value=10**6)),
    "ridge_lambda": st.one_of(not_a_number, st.floats(max_value=-1e-300), st.sampled_from([math.nan, math.inf])),
    "progress": st.one_of(st.text(), st.integers(), st.floats(), st.none(), st.lists(st.booleans(), max_size=2)),
}


@contextlib.contextmanager
def tripwires():
    """Replace both training loops: an argument check that lets a bad call through trips them."""

    def tripped(*args, **kwargs):
        raise AssertionError("training started although an argument was bad")

    with (
        mock.patch.object(trainer.fast_backend, "train_fast", tripped),
        mock.patch.object(trainer, "train_torch", tripped),
        mock.patch.object(trainer, "solve_ridge", tripped),
    ):
        yield


@st.composite
def one_bad_train_argument(draw):
    name = draw(st.sampled_from(sorted(TRAIN_BAD)))
    return name, draw(TRAIN_BAD[name])


@SETTINGS
@given(one_bad_train_argument())
def test_train_refuses_a_bad_argument_by_name_before_training(bad):
    name, value = bad
    assume(not (name in ("lr", "seed", "batch_size") and value is None))  # None: the default, valid
    if name == "device" and isinstance(value, int) and value >= 0:
        # torch.device(0) means cuda:0, refused only where no GPU exists
        assume(not torch.cuda.is_available())
    kwargs = {"n_steps": 2, "save_every": 1, "progress": False, "paradigm": "all", name: value}
    with tripwires(), pytest.raises(ValueError) as info:
        lf.train(MODEL, DATA, **kwargs)
    assert name in str(info.value), f"{name}={value!r}: {info.value}"


SWEEP_BAD = {
    "widths": st.one_of(
        st.just(()),
        st.integers(max_value=0),
        st.floats(),
        st.booleans(),
        st.text(min_size=1, max_size=3),
        st.lists(st.integers(max_value=0), min_size=1, max_size=3),
    ),
    "depths": st.one_of(st.just(()), st.integers(max_value=0), st.floats(), st.booleans()),
    "paradigms": st.one_of(st.just(()), st.lists(choices(("all", "output", "ridge")), min_size=1, max_size=2)),
    "n_steps": counts(1),
    "save_every": counts(1),
    "seed": TRAIN_BAD["seed"],
    "backend": TRAIN_BAD["backend"],
    "lr": st.one_of(not_a_number, st.floats(max_value=0.0)),
    "dtype": TRAIN_BAD["dtype"],
    "progress": TRAIN_BAD["progress"],
    "n_jobs": counts(1).filter(lambda v: v is not None),  # None: one per core
}


@st.composite
def one_bad_sweep_argument(draw):
    name = draw(st.sampled_from(sorted(SWEEP_BAD)))
    return name, draw(SWEEP_BAD[name])


@SETTINGS
@given(one_bad_sweep_argument())
def test_sweep_refuses_a_bad_argument_by_name_before_building_a_network(bad):
    name, value = bad
    assume(not (name == "lr" and value is None))  # lr=None means each paradigm's default
    kwargs = {"widths": (3,), "n_steps": 2, "save_every": 1, "progress": False, name: value}
    built = []
    with (
        mock.patch.object(sweep_module, "make_mlp", lambda *a, **k: built.append(a)),
        pytest.raises(ValueError) as info,
    ):
        lf.sweep(DATA, **kwargs)
    message = str(info.value)
    assert name in message, f"{name}={value!r}: {message}"
    assert built == []


@SETTINGS
@given(
    width=st.integers(1, 6),
    depth=st.integers(1, 3),
    paradigm=st.sampled_from(["all", "output", "ridge"]),
    n_steps=st.integers(1, 30),
    save_every=st.integers(1, 40),
    backend=st.sampled_from(["fast", "torch"]),
    seed=st.one_of(st.none(), st.integers(0, 2**63 - 1)),
)
def test_valid_tiny_trainings_give_finite_errors_of_the_documented_shapes(
    width, depth, paradigm, n_steps, save_every, backend, seed
):
    model = lf.make_mlp(width, depth=depth, seed=width)
    history = lf.train(
        model, DATA, paradigm, n_steps=n_steps, save_every=save_every, backend=backend, seed=seed, progress=False
    )
    expected = [1] if paradigm == "ridge" else snapshot_steps(n_steps, save_every).tolist()
    assert history.steps.tolist() == expected
    d = sum(p.numel() for p in model.parameters())
    assert history.params.shape == (len(expected), d)
    assert history.train_error.shape == history.test_error.shape == (len(expected),)
    assert np.all(np.isfinite(history.params))
    assert np.all(np.isfinite(history.train_error)) and np.all(history.test_error >= 0)
