"""The SVD of the feature matrix: singular values and principal features.

With ``J = U S V^T`` the feature matrix at the training inputs (n, d), the right singular
vectors V (d, r) are directions in parameter space, and the principal features are the
functions ``x -> J(x) V``: combinations of linearized features, evaluated anywhere (not
just at the training points, where they equal ``U S``). Gradient descent on the
linearized model moves fastest along the directions with the largest singular values.

Two ways to compute it:

``"svd"``
    ``numpy.linalg.svd`` of J. Exact to rounding for every singular value.
``"gram"``
    Eigen-decomposition of the n x n Gram matrix ``K = J J^T`` (the empirical neural
    tangent kernel), far cheaper when d >> n. For this package's ReLU MLPs ``K`` is built
    without forming J, from the factors of each layer:
    ``K = sum_l (D_l D_l'^T) * (A_l A_l'^T + 1)`` (``*`` elementwise), and so are the
    principal features ``J(x) V = K(x, X) U / s``. Singular values below about
    ``sqrt(max(n, d) * eps) * s_max`` are lost to rounding in ``K``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from torch import nn

from ._checks import as_inputs, check_choice, check_float, check_int
from .linearize import (
    METHODS,
    _autograd_matrix,
    _check_model,
    _closed_form_matrix,
    check_finite,
    mlp_factors,
    resolve_method,
)

__all__ = ["SVD_METHODS", "Spectrum", "feature_svd", "ntk"]

#: Ways to compute the spectrum; "auto" picks "gram" when d > n, else "svd".
SVD_METHODS = ("auto", "svd", "gram")


@dataclass(frozen=True, eq=False)
class Spectrum:
    """Singular values, singular vectors and principal features of a feature matrix.

    r is the numerical rank: singular values at or below ``tol`` are dropped.

    Attributes
    ----------
    singular_values : (r,) in decreasing order.
    U : (n, r) left singular vectors (at the fitting inputs).
    V : (d, r) right singular vectors (directions in parameter space); computed on first
        access when the method is ``"gram"``.
    principal_features : (m, k) ``J(x_eval) V[:, :k]``: column j is principal feature j
        on the evaluation inputs; k = r unless ``n_components`` asked for fewer.
    x_fit : (n,) fitting inputs; x_eval : (m,) evaluation inputs.
    tol : the rank cut-off; method : "svd" or "gram"; shape : (n, d) of the feature matrix.
    """

    singular_values: np.ndarray
    U: np.ndarray
    principal_features: np.ndarray
    x_fit: np.ndarray = field(repr=False)
    x_eval: np.ndarray = field(repr=False)
    tol: float
    method: str
    shape: tuple[int, int]
    _right: Callable[[], np.ndarray] = field(repr=False)

    @cached_property
    def V(self) -> np.ndarray:
        """Right singular vectors, shape (d, r)."""
        return self._right()

    @property
    def rank(self) -> int:
        """Number of singular values above ``tol``."""
        return int(self.singular_values.shape[0])

    def __repr__(self) -> str:
        s = self.singular_values
        return (
            f"Spectrum(shape={self.shape}, rank={self.rank}, method={self.method!r}, "
            f"s_max={s[0] if len(s) else 0:.4g}, s_min={s[-1] if len(s) else 0:.4g})"
        )


def _outer(p: np.ndarray, q: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Write ``p @ q.T`` into ``out`` (p (n1, k), q (n2, k)); broadcast when k == 1, where BLAS is slow."""
    if p.shape[1] == 1:
        return np.multiply(p, q.T, out=out)
    return np.matmul(p, q.T, out=out)


def _gram_closed_form(f1, f2, buffers: tuple[np.ndarray, ...] | None = None) -> np.ndarray:
    """Sum over layers of (D1 D2^T) * (A1 A2^T + 1): J1 J2^T without forming J, shape (n1, n2).

    ``buffers``: three optional arrays of that shape, reused; touching fresh memory is
    slow on some machines (a virtual machine's page faults cost more than this math).
    """
    shape = (f1[0][0].shape[0], f2[0][0].shape[0])
    out, inputs, sensitivities = buffers if buffers is not None else (np.empty(shape) for _ in range(3))
    out.fill(0.0)
    for (a1, d1), (a2, d2) in zip(f1, f2):
        _outer(a1, a2, inputs)
        inputs += 1.0
        inputs *= _outer(d1, d2, sensitivities)
        out += inputs
    return out


def _kernel_times(f1, f2, W: np.ndarray, block: int = 256) -> np.ndarray:
    """K(x1, x2) @ W for W (n2, k), shape (n1, k), in row blocks with reused buffers."""
    m, n2 = f1[0][0].shape[0], f2[0][0].shape[0]
    result = np.empty((m, W.shape[1]))
    buffers = [np.empty((min(block, m), n2)) for _ in range(3)]
    for start in range(0, m, block):
        stop = min(start + block, m)
        part = [(a[start:stop], d[start:stop]) for a, d in f1]
        K = _gram_closed_form(part, f2, tuple(b[: stop - start] for b in buffers))
        np.matmul(K, W, out=result[start:stop])
    return result


def _signs(U: np.ndarray) -> np.ndarray:
    """Signs (r,) that make each column of U have its largest-magnitude entry positive.

    Singular vectors are defined up to sign; applying these to each singular pair (U and V
    alike) keeps principal features from flipping between snapshots or between methods.
    """
    if U.shape[1] == 0:
        return np.ones(0)
    signs = np.sign(U[np.argmax(np.abs(U), axis=0), np.arange(U.shape[1])])
    signs[signs == 0] = 1.0
    return signs


def _arrays(features) -> list[np.ndarray]:
    """The arrays of a feature matrix (n, d) or of closed-form factors [(a, delta), ...]."""
    if isinstance(features, np.ndarray):
        return [features]
    return [array for pair in features for array in pair]


def ntk(model: nn.Module, x1, x2=None, method: str = "auto") -> np.ndarray:
    """The empirical neural tangent kernel ``J(x1) J(x2)^T``, shape (n1, n2).

    For this package's ReLU MLPs it is computed from per-layer factors without forming
    the (n, d) feature matrices. ``x1`` (n1,) or (n1, 1); ``x2`` (n2,) or (n2, 1),
    defaults to ``x1``; ``method`` as in :func:`linearize`.
    """
    method = check_choice("method", method, METHODS)
    _check_model(model)
    a = as_inputs("x1", x1)
    b = a if x2 is None else as_inputs("x2", x2)
    closed = resolve_method(model, method) == "closed_form"
    with np.errstate(over="ignore", invalid="ignore"):
        f1 = mlp_factors(model, a)[1] if closed else _autograd_matrix(model, a)
        check_finite("x1", a, "linearized features", *_arrays(f1))
        if x2 is None:
            f2 = f1
        else:
            f2 = mlp_factors(model, b)[1] if closed else _autograd_matrix(model, b)
            check_finite("x2", b, "linearized features", *_arrays(f2))
        K = _gram_closed_form(f1, f2) if closed else f1 @ f2.T
    check_finite("x1" if x2 is None else "x1 and x2", a if x2 is None else np.vstack([a, b]), "kernel values", K)
    return K


def feature_svd(
    model: nn.Module,
    X_fit,
    X_eval=None,
    method: str = "auto",
    rtol: float | None = None,
    jacobian: str = "auto",
    n_components: int | None = None,
) -> Spectrum:
    """SVD of the feature matrix at ``X_fit`` and the principal features at ``X_eval``.

    Parameters
    ----------
    model : the network (e.g. a snapshot from :meth:`History.model`).
    X_fit : (n,) or (n, 1) inputs of the feature matrix, e.g. the training inputs.
    X_eval : (m,) or (m, 1) inputs to evaluate the principal features at, e.g. a dense
        grid; defaults to ``X_fit``.
    method : ``"auto"`` (``"gram"`` when d > n, else ``"svd"``), ``"svd"`` or ``"gram"``.
    rtol : singular values ``<= rtol * s_max`` are dropped as numerically zero. Default:
        ``max(n, d) * eps`` for ``"svd"`` (as ``numpy.linalg.matrix_rank``) and
        ``sqrt(max(n, d) * eps)`` for ``"gram"`` (the same cut on ``K``'s eigenvalues).
    jacobian : how to differentiate: ``"auto"``, ``"closed_form"`` or ``"autograd"``
        (see :func:`linearize`).
    n_components : evaluate only the top k principal features (default: all r).

    Returns
    -------
    Spectrum
        ``singular_values`` (r,), ``V`` (d, r), ``principal_features`` (m, k).
    """
    method = check_choice("method", method, SVD_METHODS)
    jacobian = check_choice("jacobian", jacobian, METHODS)
    _check_model(model)
    jacobian = resolve_method(model, jacobian, name="jacobian")
    xf = as_inputs("X_fit", X_fit)
    xe = xf if X_eval is None else as_inputs("X_eval", X_eval)
    if rtol is not None:
        rtol = check_float("rtol", rtol, minimum=0.0)
    if n_components is not None:
        n_components = check_int("n_components", n_components, 1)
    n = xf.shape[0]
    d = sum(p.numel() for p in model.parameters())
    if method == "auto":
        method = "gram" if d > n else "svd"
    with np.errstate(over="ignore", invalid="ignore"):
        return _feature_svd(model, xf, xe, X_eval is None, method, jacobian, rtol, n_components, n, d)


def _feature_svd(model, xf, xe, same, method, jacobian, rtol, n_components, n, d) -> Spectrum:
    eps = np.finfo(np.float64).eps
    X_eval = None if same else xe
    fit_name, eval_name = "X_fit", "X_fit" if same else "X_eval"
    closed = jacobian == "closed_form"
    if closed:
        fit_factors = mlp_factors(model, xf)[1]
        check_finite(fit_name, xf, "linearized features", *(a for pair in fit_factors for a in pair))
        eval_factors = fit_factors if X_eval is None else mlp_factors(model, xe)[1]
        check_finite(eval_name, xe, "linearized features", *(a for pair in eval_factors for a in pair))

        def jacobian_at(where: str) -> np.ndarray:
            return _closed_form_matrix(fit_factors if where == "fit" else eval_factors)
    else:
        J_fit = _autograd_matrix(model, xf)
        check_finite(fit_name, xf, "linearized features", J_fit)
        J_eval = J_fit if X_eval is None else _autograd_matrix(model, xe)
        check_finite(eval_name, xe, "linearized features", J_eval)

        def jacobian_at(where: str) -> np.ndarray:
            return J_fit if where == "fit" else J_eval

    if method == "svd":
        cut = max(n, d) * eps if rtol is None else rtol
        J = jacobian_at("fit")
        U, s, Vt = np.linalg.svd(J, full_matrices=False)
        check_finite(fit_name, xf, "singular values", s)
        keep = s > cut * s[0] if s[0] > 0 else np.zeros_like(s, dtype=bool)
        signs = _signs(U[:, keep])
        U, V = U[:, keep] * signs, Vt[keep].T * signs
        s = s[keep]
        k = len(s) if n_components is None else min(n_components, len(s))
        principal = (J if X_eval is None else jacobian_at("eval")) @ V[:, :k]

        def right() -> np.ndarray:
            return V
    else:
        cut = np.sqrt(max(n, d) * eps) if rtol is None else rtol
        J = None if closed else jacobian_at("fit")
        K = _gram_closed_form(fit_factors, fit_factors) if closed else J @ J.T
        check_finite(fit_name, xf, "kernel values", K)
        lam, U = np.linalg.eigh(K)
        lam, U = lam[::-1], U[:, ::-1]
        s_max = np.sqrt(max(lam[0], 0.0))
        keep = np.sqrt(np.clip(lam, 0.0, None)) > cut * s_max if s_max > 0 else np.zeros_like(lam, dtype=bool)
        U, s = U[:, keep] * _signs(U[:, keep]), np.sqrt(lam[keep])
        k = len(s) if n_components is None else min(n_components, len(s))
        # J(x) V = J(x) J^T U / s = K(x, X) U / s
        if X_eval is None:
            principal = U[:, :k] * s[:k]
        elif closed:
            principal = _kernel_times(eval_factors, fit_factors, U[:, :k] / s[:k])
        else:
            principal = jacobian_at("eval") @ (J.T @ (U[:, :k] / s[:k]))

        def right() -> np.ndarray:
            return jacobian_at("fit").T @ (U / s)

    check_finite(eval_name, xe, "principal features", principal)
    return Spectrum(
        singular_values=s,
        U=U,
        principal_features=principal,
        x_fit=xf[:, 0].copy(),
        x_eval=xe[:, 0].copy(),
        tol=float(cut * (s[0] if len(s) else 0.0)),
        method=method,
        shape=(n, d),
        _right=right,
    )
