import numpy as np
import pytest
import torch
from homework import homework_dataset

import linfeat_widgets as lf


@pytest.mark.parametrize("target", ["piecewise_linear", "sin(20x)"])
def test_default_dataset_equals_homework_bit_for_bit(target):
    data = lf.make_dataset(target=target)
    X, y, X_test, y_test = homework_dataset(target)
    for ours, theirs in [(data.X, X), (data.y, y), (data.X_test, X_test), (data.y_test, y_test)]:
        assert ours.dtype == np.float64
        assert ours.shape == theirs.shape
        assert np.array_equal(ours, theirs)


def test_shapes_sorting_and_test_grid_contains_training_inputs():
    data = lf.make_dataset(n_samples=50, n_grid=300)
    assert data.X.shape == (50, 1) and data.y.shape == (50,)
    assert data.X_test.shape == (350, 1) and data.y_test.shape == (350,)
    assert np.all(np.diff(data.X[:, 0]) >= 0) and np.all(np.diff(data.X_test[:, 0]) >= 0)
    assert np.isin(data.X[:, 0], data.X_test[:, 0]).all()
    assert np.allclose(data.y_test, data.f(data.X_test[:, 0]))


def test_piecewise_linear_target_interpolates_sines_between_tenths():
    k = np.arange(10)
    just_after = lf.data.piecewise_linear((k + 1e-9) / 10)
    just_before = lf.data.piecewise_linear((k + 1 - 1e-9) / 10)
    assert np.allclose(just_after, np.sin(12345 * k), atol=1e-6)
    assert np.allclose(just_before, np.sin(12345 * (k + 1)), atol=1e-6)
    mid = lf.data.piecewise_linear(np.array([0.35]))
    assert np.isclose(mid[0], 0.5 * (np.sin(12345 * 3) + np.sin(12345 * 4)))
    # the homework's formula gives 0 at exact integers of 10 x
    assert lf.data.piecewise_linear(np.array([0.0]))[0] == 0.0


def test_exact_knots_target_differs_from_the_homeworks_only_at_the_knots():
    homework, exact = lf.make_dataset(), lf.make_dataset(target="piecewise_linear_exact")
    # same draws, so the same inputs and noise; only targets at x = k / 10 change
    assert np.array_equal(exact.X, homework.X) and np.array_equal(exact.X_test, homework.X_test)
    knots = 10 * homework.X_test[:, 0] == np.floor(10 * homework.X_test[:, 0])
    assert homework.X_test[knots, 0].tolist() == [0.0, 1.0]
    assert np.array_equal(exact.y_test[~knots], homework.y_test[~knots])
    assert homework.y_test[-1] == 0.0 and np.isclose(exact.y_test[-1], -0.8986477854155375)
    # continuity: the knot's value is the limit of both neighbouring pieces
    k = np.arange(11)
    for side in (-1e-9, 1e-9):
        near = lf.data.piecewise_linear_exact(np.clip(k / 10 + side, 0, None))
        assert np.allclose(
            near[(k > 0) | (side > 0)], lf.data.piecewise_linear_exact(k / 10)[(k > 0) | (side > 0)], atol=1e-6
        )
    assert np.allclose(lf.data.piecewise_linear_exact(k / 10), np.sin(12345 * k))


def test_noise_level_and_noiseless_test_set():
    data = lf.make_dataset(n_samples=2000, sigma=0.3, seed=3)
    residual = data.y - data.f(data.X[:, 0])
    assert abs(residual.std() - 0.3) < 0.02
    assert np.array_equal(lf.make_dataset(sigma=0.0).y, lf.make_dataset(sigma=0.0).f(lf.make_dataset().X[:, 0]))


def test_partial_training_range_and_full_test_range():
    data = lf.make_dataset(x_range=(-1.0, 0.4), test_range=(-1.0, 1.0))
    assert data.X.min() >= -1.0 and data.X.max() < 0.4
    assert data.X_test.min() == -1.0 and data.X_test.max() == 1.0
    assert np.isin(data.X[:, 0], data.X_test[:, 0]).all()
    # the default test range is the training range
    assert lf.make_dataset(x_range=(-1.0, 0.4)).X_test.max() <= 0.4


def test_callable_target_and_its_name():
    def bump(x):
        return np.exp(-((x - 0.5) ** 2) * 20)

    data = lf.make_dataset(target=bump, sigma=0.0)
    assert data.target == "bump"
    assert np.allclose(data.y, bump(data.X[:, 0]))


def test_arrays_are_read_only():
    data = lf.make_dataset()
    with pytest.raises(ValueError):
        data.X[0, 0] = 5.0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"target": "cos"}, "target must be one of 'piecewise_linear', 'sin\\(20x\\)'"),
        ({"n_samples": 4}, "n_samples must be an integer >= 5"),
        ({"n_samples": 10.5}, "n_samples must be an integer"),
        ({"sigma": -0.1}, "sigma must be >= 0"),
        ({"sigma": float("nan")}, "sigma must be a finite number"),
        ({"x_range": (1.0, 1.0)}, "x_range must be a non-empty interval"),
        ({"x_range": (0.4, -1.0)}, "x_range must be a non-empty interval"),
        ({"x_range": 3}, "x_range must be a pair"),
        ({"test_range": (0.0, float("inf"))}, "test_range\\[1\\] must be a finite number"),
        ({"n_grid": 1}, "n_grid must be an integer >= 2"),
        ({"target": lambda x: x[:3]}, "must map an array of shape"),
        ({"target": lambda x: x / 0.0}, "returned NaN or infinite"),
        ({"target": lambda x: x.astype(str)}, r"target '<lambda>' must return real numbers .*; got strings"),
        ({"target": lambda x: x + 0j}, r"target '<lambda>' must return real numbers .*; got complex numbers"),
        ({"target": lambda x: x > 0.5}, r"target '<lambda>' must return real numbers .*; got booleans"),
        ({"seed": 2**32}, r"seed must be an integer with 0 <= seed <= 2\*\*32 - 1; got 4294967296"),
        ({"seed": 2**64}, r"seed must be an integer with 0 <= seed <= 2\*\*32 - 1"),
        ({"seed": True}, r"seed must be an integer"),
        ({"sigma": np.timedelta64(1)}, r"sigma must be a finite number"),
        ({"x_range": {0.0, 1.0}}, r"x_range must be a pair"),
        ({"n_samples": 10**11}, r"n_samples=100000000000 and n_grid=1000 would need about .* TiB of memory"),
        ({"n_grid": 10**12}, r"n_samples=200 and n_grid=1000000000000 would need about .* of memory, more than"),
    ],
)
def test_bad_arguments_are_refused_with_their_name(kwargs, match):
    with pytest.raises(ValueError, match=match), np.errstate(divide="ignore", invalid="ignore"):
        lf.make_dataset(**kwargs)


# --- a Dataset built by hand is checked ---------------------------------------------------


def _arrays(n=6, m=9):
    X = np.linspace(0, 1, n)[:, None]
    X_test = np.linspace(0, 1, m)[:, None]
    return {"X": X, "y": np.sin(X[:, 0]), "X_test": X_test, "y_test": np.sin(X_test[:, 0])}


def _dataset(**changes):
    arrays = {**_arrays(), **changes}
    return lf.Dataset(**arrays, target="sin", f=np.sin, sigma=0.0, seed=0, x_range=(0.0, 1.0), test_range=(0.0, 1.0))


def test_hand_made_dataset_is_stored_as_read_only_float64_copies():
    X = np.arange(4, dtype=np.int64)[:, None]
    y = np.array([0.0, 1.0, 2.0, 3.0], dtype=np.float32)
    data = _dataset(X=X, y=y)
    assert data.X.dtype == np.float64 and data.y.dtype == np.float64
    assert np.array_equal(data.X, X) and np.array_equal(data.y, y)
    X[0, 0] = 7
    assert data.X[0, 0] == 0.0  # a copy: the caller's array may change
    for array in (data.X, data.y, data.X_test, data.y_test):
        assert not array.flags.writeable
    torch_data = _dataset(X=torch.tensor(X, dtype=torch.float32), y=torch.zeros(4))
    assert torch_data.X.dtype == np.float64


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"y": np.zeros(5)}, r"^y must have one target per row of X: X has 6 rows, y has 5"),
        ({"y_test": np.zeros(10)}, r"^y_test must have one target per row of X_test: X_test has 9 rows"),
        ({"X": np.zeros(6)}, r"^X must have shape \(n, 1\) with n >= 1; got shape \(6,\)"),
        ({"X": np.zeros((6, 2))}, r"^X must have shape \(n, 1\)"),
        ({"y": np.zeros((6, 1))}, r"^y must have shape \(n,\)"),
        ({"X": np.zeros((0, 1)), "y": np.zeros(0)}, r"^X must have shape \(n, 1\) with n >= 1; got shape \(0, 1\)"),
        ({"X_test": np.zeros((0, 1)), "y_test": np.zeros(0)}, r"^X_test must have shape \(n, 1\) with n >= 1"),
        ({"X": np.full((6, 1), "a")}, r"^X must be an array of real numbers .*; got strings"),
        ({"y": np.zeros(6, dtype=complex)}, r"^y must be an array of real numbers .*; got complex numbers"),
        ({"y_test": np.zeros(9, dtype=bool)}, r"^y_test must be an array of real numbers .*; got booleans"),
        (
            {"X_test": np.zeros((9, 1), dtype=object)},
            r"^X_test must be an array of real numbers .*; got Python objects",
        ),
        ({"y": np.array([0, 1, 2, np.nan, 4, 5.0])}, r"^y must be finite; it has 1 NaN or infinite entries"),
        ({"X_test": np.full((9, 1), np.inf)}, r"^X_test must be finite; it has 9 NaN"),
        ({"X": None}, r"^X must be an array of real numbers"),
    ],
)
def test_hand_made_dataset_is_checked_naming_the_field(changes, match):
    with pytest.raises(ValueError, match=match):
        _dataset(**changes)


def test_a_short_y_never_reaches_training():
    with pytest.raises(ValueError, match="y must have one target per row of X"):
        lf.train(lf.make_mlp(3, seed=0), _dataset(y=np.zeros(3)), n_steps=5, progress=False)


def test_homework_arrays_still_make_a_dataset():
    from linfeat_widgets.homework import _dataset_from_arrays

    arrays = _arrays()
    data = _dataset_from_arrays(arrays["X"][:, 0], arrays["y"], arrays["X_test"], arrays["y_test"])
    assert data.X.shape == (6, 1) and data.y_test.shape == (9,)
    assert data.target == "homework arrays"
    with pytest.raises(ValueError, match="y must be an array of real numbers"):
        _dataset_from_arrays(arrays["X"], arrays["y"].astype(str), arrays["X_test"], arrays["y_test"])
