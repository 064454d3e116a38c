"""The linear picture over a whole training run: kernel movement, residual projections, spectrum.

Near its parameters a network is a linear model in its linearized features J(x). Gradient
descent on that linear model fits the residual along the left singular vectors of the
feature matrix J(X) at rates set by the singular values, and this picture holds only while
the features stay put. The three functions here measure that for every snapshot of a
:class:`~linfeat_widgets.training.History` (plus step 0, the initialization):

- :func:`kernel_movement`: how far the parameters and the empirical neural tangent kernel
  ``K_t = J_t(X) J_t(X)^T`` moved from the initialization;
- :func:`residual_projections`: the residual ``y - f_t(X)`` in the basis of left singular
  vectors of J(X), at theta_0 or at each snapshot;
- :func:`spectrum_history`: the singular values of J(X) at every snapshot.

How it is computed
    For each snapshot, one forward and backward pass of the network at the training
    inputs, in numpy on the snapshot's flat parameters, gives the outputs and the
    per-layer factors of J (as :func:`~linfeat_widgets.linearize.mlp_factors` does; the
    training stage's copy is used, since it reads flat vectors without building a module);
    K_t is built from them without forming J (the closed form of
    :func:`~linfeat_widgets.spectrum.ntk`), and its
    eigen-decomposition ``K = U diag(s^2) U^T`` gives the singular values s (square roots
    of the eigenvalues, clipped at 0) and the left singular vectors U. Singular values
    below about ``sqrt(n * eps) * s_max`` are rounding in K, not features. This work is
    done once per (history, data) pair and shared by the three functions (a small cache
    keyed by the objects' identities; histories and datasets are immutable). Where
    ``threadpoolctl`` is installed, BLAS runs on one thread during these passes: the
    problems are small, and threads on shared cores only wait on each other.

    For a linearized run (``history.config["linearized"] is True``, from
    ``train(..., linearized=True)``) the features are those at theta_0 at every step, so
    K_t = K_0 (kernel distance 0), the spectrum is constant, and ``f_t(X)`` is
    ``f(X; theta_0) + J(X; theta_0) (theta_t - theta_0)``.

This module is math: it imports neither matplotlib nor ipywidgets.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from torch import nn

from ._checks import check_choice, check_int
from .data import Dataset
from .models import mlp_sizes
from .spectrum import _gram_closed_form, _signs
from .training import History
from .training.linearized import LinearizedMLP, factors, jacobian_times, split_layers

__all__ = ["BASES", "Movement", "Projections", "kernel_movement", "residual_projections", "spectrum_history"]

#: Bases of :func:`residual_projections`: the feature matrix's singular vectors at theta_0
#: or at each snapshot.
BASES = ("initial", "current")


@dataclass(frozen=True, eq=False)
class Movement:
    """How far training moved the parameters and the kernel, per snapshot.

    Attributes
    ----------
    steps : int64 (S,) 0 (the initialization), then ``history.steps``.
    parameter_distance : float64 (S,) ``||theta_t - theta_0|| / ||theta_0||`` (0 at step 0).
    kernel_distance : float64 (S,) ``||K_t - K_0||_F / ||K_0||_F`` with
        ``K_t = J_t(X) J_t(X)^T`` (n, n) the empirical neural tangent kernel on the
        training inputs (0 at step 0; 0 throughout for a linearized run).
    """

    steps: np.ndarray
    parameter_distance: np.ndarray
    kernel_distance: np.ndarray


@dataclass(frozen=True, eq=False)
class Projections:
    """The training residual in a basis of left singular vectors of the feature matrix.

    Attributes
    ----------
    steps : int64 (S,) 0 (the initialization), then ``history.steps``.
    singular_values : float64 (r,) singular values of the basis's feature matrix J(X),
        largest first: at theta_0 for ``basis="initial"``, at the last snapshot for
        ``basis="current"`` (:func:`spectrum_history` has them at every snapshot).
    coefficients : float64 (S, r) ``U^T (y - f_t(X))``; column k is the residual along
        direction k. U (n, r) holds the left singular vectors of J(X) at theta_0
        (``"initial"``) or at snapshot t (``"current"``), each column's sign fixed so that
        its largest-magnitude entry is positive (as :func:`feature_svd` does).
    remainder : float64 (S,) ``||r_t - U U^T r_t||``: the norm of the part of the
        residual outside span(U), which gradient descent on the linearized model cannot fit.
    basis : ``"initial"`` or ``"current"``.

    r is the numerical rank: singular values above ``sqrt(max(n, d) * eps) * s_max`` (the
    default cut of :func:`feature_svd` with ``method="gram"``); for ``"current"`` the
    smallest such rank over all snapshots, so every kept direction is a feature at every step.
    """

    steps: np.ndarray
    singular_values: np.ndarray
    coefficients: np.ndarray
    remainder: np.ndarray
    basis: str


def _one_blas_thread():
    """Limit BLAS to one thread while the per-snapshot passes run, where threadpoolctl is installed.

    Each snapshot's problems are small (n x n, n about 200): splitting them over BLAS
    threads gains nothing, and where cores are shared the threads wait on each other and a
    200 x 200 eigen-decomposition runs 5 to 50 times slower than on one thread. The limit
    is process-wide while it lasts (BLAS has no per-thread setting); results are the same.
    """
    global _controller
    if _controller is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # an optional speed-up: without it, BLAS keeps its own thread count
            _controller = False
        else:
            _controller = ThreadpoolController()  # finding the loaded BLAS libraries takes a while: once
    return _controller.limit(limits=1, user_api="blas") if _controller else contextlib.nullcontext()


_controller = None


def _heavy(method):
    """A cached property computed with BLAS on one thread (see :func:`_one_blas_thread`)."""

    @functools.wraps(method)
    def compute(self):
        with _one_blas_thread():
            return method(self)

    return cached_property(compute)


def _read_only(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array)
    array.setflags(write=False)
    return array


class _Trajectory:
    """Per-snapshot outputs, kernels and eigen-decompositions of one run, computed once.

    Rows are in the order 0, *history.steps.
    """

    def __init__(self, history: History, data: Dataset):
        self.linearized = history.config.get("linearized") is True
        template = history.model(0)
        network = template.network() if self.linearized else template
        self.sizes = mlp_sizes(network)
        self.steps = np.concatenate([[0], history.steps]).astype(np.int64)
        # rows are read (and cast to float64) one at a time: a wide network's (S, d) array is large
        self._initial_params, self._params = history.initial_params, history.params
        self.X = np.asarray(data.X, dtype=np.float64)
        self.y = np.asarray(data.y, dtype=np.float64)
        self.n, self.d = self.X.shape[0], self._params.shape[1]
        self._lock = threading.Lock()

    def factors(self, i: int):
        """(outputs (n,), per-layer factors) of snapshot row i, straight from its flat parameters."""
        return factors(self.sizes, self.theta(i), self.X)

    def theta(self, i: int) -> np.ndarray:
        """Flat parameters (d,) of snapshot row i (row 0: theta_0), float64."""
        return np.asarray(self._initial_params if i == 0 else self._params[i - 1], dtype=np.float64)

    @cached_property
    def parameter_distance(self) -> np.ndarray:
        theta0 = self.theta(0)
        norm0 = np.linalg.norm(theta0)
        if norm0 == 0:
            raise ValueError("history starts from all-zero parameters: the relative parameter distance is undefined")
        distance = [np.linalg.norm(self.theta(i) - theta0) for i in range(len(self.steps))]
        return _read_only(np.asarray(distance) / norm0)

    @cached_property
    def _initial(self):
        """(outputs (n,), factors, K_0 (n, n)) at theta_0."""
        f0, fac = self.factors(0)
        return f0, fac, _gram_closed_form(fac, fac)

    @_heavy
    def _pass(self):
        """One pass over the snapshots: outputs (S, n), kernel distances (S,), eigenvalues (S, n)."""
        f0, fac0, K0 = self._initial
        S = len(self.steps)
        outputs = np.empty((S, self.n))
        kernel_distance = np.zeros(S)
        eigenvalues = np.empty((S, self.n))
        lam0 = np.linalg.eigvalsh(K0)[::-1]
        if self.linearized:
            outputs[:] = f0 + self._tangent_outputs(fac0)
            eigenvalues[:] = lam0
        else:
            norm0 = np.linalg.norm(K0)
            buffers = tuple(np.empty((self.n, self.n)) for _ in range(3))
            outputs[0], eigenvalues[0] = f0, lam0
            for i in range(1, S):
                outputs[i], fac = self.factors(i)
                K = _gram_closed_form(fac, fac, buffers)
                kernel_distance[i] = np.linalg.norm(K - K0) / norm0
                eigenvalues[i] = np.linalg.eigvalsh(K)[::-1]
        return _read_only(outputs), _read_only(kernel_distance), _read_only(eigenvalues)

    def _tangent_outputs(self, fac0) -> np.ndarray:
        """``J(X; theta_0) (theta_t - theta_0)`` for every row, (S, n)."""
        out = np.zeros((len(self.steps), self.n))
        for i in range(1, len(self.steps)):
            tangent = split_layers(self.sizes, self.theta(i) - self.theta(0))
            out[i] = jacobian_times(fac0, tangent)
        return out

    @property
    def outputs(self) -> np.ndarray:
        return self._pass[0]

    @property
    def kernel_distance(self) -> np.ndarray:
        return self._pass[1]

    @property
    def eigenvalues(self) -> np.ndarray:
        return self._pass[2]

    def _cut(self, lam: np.ndarray) -> int:
        """Numerical rank of J from K's eigenvalues (descending), as feature_svd's gram default."""
        s = np.sqrt(np.clip(lam, 0.0, None))
        if s[0] <= 0:
            return 0
        return int(np.count_nonzero(s > np.sqrt(max(self.n, self.d) * np.finfo(np.float64).eps) * s[0]))

    @_heavy
    def initial_projections(self) -> Projections:
        _, _, K0 = self._initial
        lam, U = np.linalg.eigh(K0)
        lam, U = lam[::-1], U[:, ::-1]
        r = self._cut(lam)
        # the full eigenbasis is orthonormal: the remainder is the norm of the coefficients past r
        full = (self.y - self.outputs) @ (U * _signs(U))
        return Projections(
            steps=self.steps,
            singular_values=_read_only(np.sqrt(np.clip(lam[:r], 0.0, None))),
            coefficients=_read_only(full[:, :r]),
            remainder=_read_only(np.linalg.norm(full[:, r:], axis=1)),
            basis="initial",
        )

    @_heavy
    def current_projections(self) -> Projections:
        if self.linearized:
            p = self.initial_projections
            return Projections(p.steps, p.singular_values, p.coefficients, p.remainder, "current")
        residual = self.y - self.outputs
        _, fac0, K0 = self._initial
        S = len(self.steps)
        full = np.empty((S, self.n))
        ranks = np.empty(S, dtype=np.int64)
        buffers = tuple(np.empty((self.n, self.n)) for _ in range(3))
        for i in range(S):
            fac = fac0 if i == 0 else self.factors(i)[1]
            K = K0 if i == 0 else _gram_closed_form(fac, fac, buffers)
            lam, U = np.linalg.eigh(K)
            lam, U = lam[::-1], U[:, ::-1]
            ranks[i] = self._cut(lam)
            full[i] = residual[i] @ (U * _signs(U))
        r = int(ranks.min())
        return Projections(
            steps=self.steps,
            singular_values=_read_only(np.sqrt(np.clip(lam[:r], 0.0, None))),
            coefficients=_read_only(full[:, :r]),
            remainder=_read_only(np.linalg.norm(full[:, r:], axis=1)),
            basis="current",
        )


_CACHE: OrderedDict = OrderedDict()
_CACHE_SIZE = 8
_CACHE_LOCK = threading.Lock()


def _trajectory(history, data) -> _Trajectory:
    """The shared per-snapshot work of (history, data), from the cache or fresh."""
    _check(history, data)
    key = (id(history), id(data))
    with _CACHE_LOCK:
        entry = _CACHE.get(key)
        # ids are reused after an object dies: the weak references tell a live entry from a stale one
        if entry is not None and entry[0]() is history and entry[1]() is data:
            _CACHE.move_to_end(key)
            return entry[2]
    trajectory = _Trajectory(history, data)
    with _CACHE_LOCK:
        _CACHE[key] = (weakref.ref(history), weakref.ref(data), trajectory)
        _CACHE.move_to_end(key)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return trajectory


def _check(history, data) -> None:
    if not isinstance(history, History):
        raise ValueError(f"history must be a History from train() or sweep(); got {type(history).__name__}")
    if not isinstance(data, Dataset):
        raise ValueError(f"data must be the Dataset the history trained on (make_dataset()); got {type(data).__name__}")
    model = history.model(0)
    if history.config.get("linearized") is True:
        ok = isinstance(model, LinearizedMLP)
    else:
        ok = isinstance(model, nn.Module) and mlp_sizes(model) is not None
    if not ok:
        raise ValueError(
            "history must come from training one of this package's ReLU MLPs (make_mlp), "
            "or be a linearized run (train(..., linearized=True))"
        )


def kernel_movement(history: History, data: Dataset) -> Movement:
    """How far each snapshot's parameters and neural tangent kernel are from the initialization.

    Parameters
    ----------
    history : a :class:`History` of one of this package's ReLU MLPs, or a linearized run.
    data : the :class:`Dataset` it trained on; the kernel is taken on its training inputs X (n, 1).

    Returns
    -------
    Movement
        ``steps`` (S,) = 0 then ``history.steps``; ``parameter_distance`` (S,)
        ``||theta_t - theta_0|| / ||theta_0||``; ``kernel_distance`` (S,)
        ``||K_t - K_0||_F / ||K_0||_F`` with K_t (n, n) the empirical NTK at snapshot t.
    """
    t = _trajectory(history, data)
    with t._lock:
        return Movement(steps=t.steps, parameter_distance=t.parameter_distance, kernel_distance=t.kernel_distance)


def residual_projections(history: History, data: Dataset, basis: str = "initial") -> Projections:
    """The training residual ``y - f_t(X)`` along the left singular vectors of the feature matrix.

    For gradient descent on the linearized model with the full batch, coefficient k decays
    as ``c_k(t) = (1 - 2 lr s_k^2 / n)^t c_k(0)`` in the ``"initial"`` basis: large
    singular values are fitted first.

    Parameters
    ----------
    history : a :class:`History` of one of this package's ReLU MLPs, or a linearized run.
    data : the :class:`Dataset` it trained on (X (n, 1) and y (n,)).
    basis : ``"initial"`` (U of J(X; theta_0), one basis for every step) or ``"current"``
        (U of J(X; theta_t) at each snapshot t).

    Returns
    -------
    Projections
        ``steps`` (S,), ``singular_values`` (r,), ``coefficients`` (S, r) = U^T (y - f_t(X)),
        ``remainder`` (S,), ``basis``.
    """
    basis = check_choice("basis", basis, BASES)
    t = _trajectory(history, data)
    with t._lock:
        return t.initial_projections if basis == "initial" else t.current_projections


def spectrum_history(history: History, data: Dataset, n_components: int | None = None) -> np.ndarray:
    """The singular values of the feature matrix J(X) at every snapshot, largest first.

    Parameters
    ----------
    history : a :class:`History` of one of this package's ReLU MLPs, or a linearized run
        (whose features are those at theta_0: every row is the same).
    data : the :class:`Dataset` it trained on (J is taken at its X (n, 1)).
    n_components : keep the top k singular values (default: all min(n, d)).

    Returns
    -------
    float64 array (S, k), rows in the order 0 (the initialization), *history.steps, each
    decreasing; k = min(n, d, n_components). No rank cut is applied, so the shape is the
    same at every step: values below about ``sqrt(n * eps) * s_max`` are rounding.
    """
    if n_components is not None:
        n_components = check_int("n_components", n_components, 1)
    t = _trajectory(history, data)
    with t._lock:
        k = min(t.n, t.d) if n_components is None else min(t.n, t.d, n_components)
        return _read_only(np.sqrt(np.clip(t.eigenvalues[:, :k], 0.0, None)))
