"""The homework's 1-D regression data: targets, noisy training set, noiseless test grid.

With its defaults, :func:`make_dataset` reproduces the homework's arrays bit for bit::

    rng = np.random.RandomState(1)
    X = np.sort(rng.rand(200, 1), axis=0)
    y = f(X) + rng.randn(200) * 0.1
    X_test = np.sort(np.concatenate([X, np.linspace(0, 1, 1000)[:, None]]), axis=0)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ._checks import as_real_array, check_float, check_int, check_memory, check_range

__all__ = ["TARGETS", "Dataset", "make_dataset", "piecewise_linear", "piecewise_linear_exact", "sin20"]


def piecewise_linear(x: np.ndarray) -> np.ndarray:
    """The homework's default target: a random-looking piecewise linear function.

    With ``T = 10 x``, on each interval ``k < T < k + 1`` it runs linearly from
    ``sin(12345 k)`` to ``sin(12345 (k + 1))``: a jump-free zigzag with a kink at every
    multiple of 0.1. (At exact integers T the formula gives 0, as in the homework.)

    Parameters
    ----------
    x : array of shape (n,)

    Returns
    -------
    array of shape (n,)
    """
    t = 10.0 * np.asarray(x, dtype=np.float64)
    # Written exactly as the homework does (same operations, same order) so the
    # training targets match its arrays bit for bit.
    return (t - np.floor(t)) * np.sin(12345 * np.ceil(t)) - (t - np.ceil(t)) * np.sin(12345 * np.floor(t))


def piecewise_linear_exact(x: np.ndarray) -> np.ndarray:
    """The homework's piecewise linear target with its knots where the formula misses them.

    Equal to :func:`piecewise_linear` bit for bit wherever ``10 x`` is not an integer; at the
    knots ``x = k / 10`` it gives ``sin(12345 k)``, the value both neighbouring pieces reach
    there, instead of the homework formula's 0 (at ``x = 1`` that is -0.899, not 0).

    Parameters
    ----------
    x : array of shape (n,)

    Returns
    -------
    array of shape (n,)
    """
    t = 10.0 * np.asarray(x, dtype=np.float64)
    return np.where(t == np.floor(t), np.sin(12345 * t), piecewise_linear(x))


def sin20(x: np.ndarray) -> np.ndarray:
    """The homework's alternative target ``sin(20 x)``; shape (n,) -> (n,)."""
    return np.sin(20 * np.asarray(x, dtype=np.float64))


#: Targets known by name, as the homework spells them.
TARGETS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "piecewise_linear": piecewise_linear,
    "sin(20x)": sin20,
    "piecewise_linear_exact": piecewise_linear_exact,
}


@dataclass(frozen=True, eq=False)
class Dataset:
    """A training set with noise and a noiseless test set, all float64.

    Checked when built: ``X`` (n, 1) and ``y`` (n,) with n >= 1, ``X_test`` (m, 1) and
    ``y_test`` (m,) with m >= 1, every entry a finite real number (integers and floats;
    strings, booleans and complex numbers are refused). The arrays are stored as
    read-only float64 copies, so the caller's arrays can change without changing the
    Dataset.

    Attributes
    ----------
    X : (n, 1) sorted training inputs.
    y : (n,) noisy training targets ``f(X) + sigma * noise``.
    X_test : (m, 1) sorted test inputs: the training inputs and an evenly spaced grid.
    y_test : (m,) noiseless test targets ``f(X_test)``.
    target : the target's name (``"piecewise_linear"``, ``"sin(20x)"`` or a callable's name).
    f : the target function, ``(k,) -> (k,)``; use it to draw the ground truth anywhere.
    sigma, seed, x_range, test_range : the recipe's arguments.
    """

    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    target: str
    f: Callable[[np.ndarray], np.ndarray] = field(repr=False)
    sigma: float
    seed: int
    x_range: tuple[float, float]
    test_range: tuple[float, float]

    def __post_init__(self) -> None:
        X = _checked_column("X", self.X)
        X_test = _checked_column("X_test", self.X_test)
        y = _checked_targets("y", self.y, "X", X.shape[0])
        y_test = _checked_targets("y_test", self.y_test, "X_test", X_test.shape[0])
        if not callable(self.f):
            raise ValueError(f"f must be a callable mapping an array (k,) to (k,); got {type(self.f).__name__}")
        if not isinstance(self.target, str):
            raise ValueError(f"target must be a string naming the target function; got {type(self.target).__name__}")
        for name, array in (("X", X), ("y", y), ("X_test", X_test), ("y_test", y_test)):
            array.setflags(write=False)
            object.__setattr__(self, name, array)  # the dataclass is frozen; this is its constructor

    @property
    def n_samples(self) -> int:
        """Number of training points n."""
        return int(self.X.shape[0])

    def __repr__(self) -> str:
        return (
            f"Dataset(target={self.target!r}, n_samples={self.n_samples}, sigma={self.sigma}, "
            f"seed={self.seed}, x_range={self.x_range}, test_range={self.test_range}, "
            f"n_test={self.X_test.shape[0]})"
        )


def _checked_column(name: str, value) -> np.ndarray:
    arr = as_real_array(name, value)
    if arr.ndim != 2 or arr.shape[1] != 1 or arr.shape[0] < 1:
        raise ValueError(f"{name} must have shape (n, 1) with n >= 1; got shape {arr.shape}")
    _check_finite(name, arr)
    return arr


def _checked_targets(name: str, value, inputs: str, n: int) -> np.ndarray:
    arr = as_real_array(name, value)
    if arr.ndim != 1:
        raise ValueError(f"{name} must have shape (n,), one target per row of {inputs}; got shape {arr.shape}")
    if arr.shape[0] != n:
        raise ValueError(
            f"{name} must have one target per row of {inputs}: {inputs} has {n} rows, {name} has {len(arr)}"
        )
    _check_finite(name, arr)
    return arr


def _check_finite(name: str, arr: np.ndarray) -> None:
    if not np.all(np.isfinite(arr)):
        bad = int(np.count_nonzero(~np.isfinite(arr)))
        raise ValueError(f"{name} must be finite; it has {bad} NaN or infinite entries")


def _resolve_target(target) -> tuple[str, Callable[[np.ndarray], np.ndarray]]:
    if callable(target):
        return getattr(target, "__name__", "custom"), target
    if isinstance(target, str) and target in TARGETS:
        return target, TARGETS[target]
    accepted = ", ".join(repr(t) for t in TARGETS)
    raise ValueError(f"target must be one of {accepted} or a callable f(x) -> y; got {target!r}")


def _evaluate(f: Callable, x: np.ndarray, name: str) -> np.ndarray:
    values = as_real_array(f"target {name!r}", f(x), verb="return")
    if values.shape != x.shape:
        raise ValueError(
            f"target {name!r} must map an array of shape {x.shape} to the same shape; it returned shape {values.shape}"
        )
    if not np.all(np.isfinite(values)):
        raise ValueError(f"target {name!r} returned NaN or infinite values")
    return values


_BYTES_PER_POINT = 12 * 8


def make_dataset(
    target: str | Callable[[np.ndarray], np.ndarray] = "piecewise_linear",
    n_samples: int = 200,
    sigma: float = 0.1,
    seed: int = 1,
    x_range: tuple[float, float] = (0.0, 1.0),
    test_range: tuple[float, float] | None = None,
    n_grid: int = 1000,
) -> Dataset:
    """Draw the homework's training and test data.

    Parameters
    ----------
    target : ``"piecewise_linear"`` (default, the homework's formula, which gives 0 at the
        knots x = k / 10, e.g. at the test point x = 1), ``"piecewise_linear_exact"`` (the
        same function with the right values at its knots), ``"sin(20x)"``, or a callable
        mapping an array of shape (k,) to shape (k,).
    n_samples : number of training points n, at least 5.
    sigma : standard deviation of the Gaussian noise added to the training targets, >= 0.
    seed : seed of ``np.random.RandomState``, ``0 <= seed <= 2**32 - 1``; inputs are drawn
        first, then the noise.
    x_range : interval the training inputs are drawn from uniformly (the sequel uses
        ``(-1.0, 0.4)`` to train on part of the axis only).
    test_range : interval of the noiseless test grid; defaults to ``x_range``. The test
        inputs always include the training inputs, as in the homework.
    n_grid : number of evenly spaced grid points in the test set, at least 2.

    Returns
    -------
    Dataset
        ``X`` (n, 1), ``y`` (n,), ``X_test`` (n + n_grid, 1), ``y_test`` (n + n_grid,).
    """
    name, f = _resolve_target(target)
    n_samples = check_int("n_samples", n_samples, 5)
    sigma = check_float("sigma", sigma, minimum=0.0)
    seed = check_int("seed", seed, 0, 2**32 - 1)
    low, high = check_range("x_range", x_range)
    t_low, t_high = check_range("test_range", (low, high) if test_range is None else test_range)
    n_grid = check_int("n_grid", n_grid, 2)
    # X, y, X_test, y_test, their sorting and the target's temporaries: about a dozen
    # float64 values per point is generous for the two built-in targets.
    check_memory(f"n_samples={n_samples} and n_grid={n_grid}", _BYTES_PER_POINT * (n_samples + (n_samples + n_grid)))

    rng = np.random.RandomState(seed)
    u = rng.rand(n_samples, 1)
    # For the default (0, 1) this is u itself, bit for bit (0 + 1 * u is exact).
    X = np.sort(low + (high - low) * u, axis=0)
    y = _evaluate(f, X[:, 0], name) + rng.randn(n_samples) * sigma

    grid = np.linspace(t_low, t_high, n_grid)[:, None]
    X_test = np.sort(np.concatenate([X, grid]), axis=0)
    y_test = _evaluate(f, X_test[:, 0], name)

    for array in (X, y, X_test, y_test):
        array.setflags(write=False)
    return Dataset(
        X=X,
        y=y,
        X_test=X_test,
        y_test=y_test,
        target=name,
        f=f,
        sigma=sigma,
        seed=seed,
        x_range=(low, high),
        test_range=(t_low, t_high),
    )
