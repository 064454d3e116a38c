"""Linearized features: the gradient of the network's output with respect to every parameter.

For a network ``y(x; theta)`` with d parameters, the linearized feature of parameter j is
the function ``x -> d y(x) / d theta_j``. Evaluated at n inputs they form the feature
matrix ``J`` of shape (n, d), the design matrix of the network's local linearization
``y(x; theta + delta) ~ y(x; theta) + J(x) delta``.

Two implementations, both one vectorized pass over all inputs:

``"closed_form"``
    For this package's ReLU MLPs (:func:`~linfeat_widgets.models.mlp_sizes`): a forward
    pass keeps each layer's input ``a`` (n, in), a backward pass gives each layer's output
    sensitivity ``delta = dy/dz`` (n, out), and the weight block of ``J`` is their outer
    product per point, ``J[p, (i, j)] = delta[p, i] * a[p, j]``; the bias block is ``delta``.
``"autograd"``
    Any module: ``torch.func.vmap(torch.func.jacrev(...))`` over the inputs.

Both compute in float64 whatever the network's dtype. ReLU'(0) is taken as 0, as PyTorch does.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import torch
from torch import nn

from ._checks import as_inputs, check_choice
from .models import mlp_sizes

__all__ = ["METHODS", "Features", "gradient_norms", "linearize", "predict"]

#: Ways to compute the Jacobian; "auto" uses the closed form wherever it applies.
METHODS = ("auto", "closed_form", "autograd")


@dataclass(frozen=True, eq=False)
class Features:
    """The feature matrix of a network at some inputs, with its columns named.

    Attributes
    ----------
    matrix : float64 (n, d); entry (i, j) is ``d y(x_i) / d theta_j``.
    x : float64 (n,) the inputs.
    names : (d,) column names ``"<parameter>.<flat index>"``, e.g. ``"0.weight.3"``, in
        ``model.named_parameters()`` order, each tensor flattened row-major.
    parameters : names of the parameter tensors, e.g. ``("0.weight", "0.bias", ...)``.
    """

    matrix: np.ndarray
    x: np.ndarray
    parameters: tuple[str, ...]
    _slices: dict[str, slice] = field(repr=False)

    @cached_property
    def names(self) -> tuple[str, ...]:
        """Column names, e.g. ``("0.weight.0", ..., "0.bias.0", ...)``; built on first use."""
        return tuple(f"{p}.{i}" for p in self.parameters for i in range(self._slices[p].stop - self._slices[p].start))

    @property
    def layers(self) -> tuple[str, ...]:
        """Names of the modules holding parameters, e.g. ``("0", "2")`` (their weight and bias)."""
        return tuple(dict.fromkeys(p.rpartition(".")[0] for p in self.parameters))

    @property
    def keys(self) -> tuple[str, ...]:
        """Everything :meth:`columns` accepts: ``"all"``, layer names and parameter names."""
        return ("all", *self.layers, *self.parameters)

    def slice(self, key: str) -> slice:
        """Column range of ``key``: ``"all"``, a layer (``"0"``) or a parameter (``"0.bias"``)."""
        if key == "all":
            return slice(0, self.matrix.shape[1])
        if key in self._slices:
            return self._slices[key]
        members = [self._slices[p] for p in self.parameters if p.rpartition(".")[0] == key]
        if not members:
            accepted = ", ".join(repr(k) for k in self.keys)
            raise ValueError(f"key must be one of {accepted}; got {key!r}")
        # a layer's parameters are adjacent in named_parameters order
        return slice(members[0].start, members[-1].stop)

    def columns(self, key: str = "all") -> np.ndarray:
        """The columns of one parameter tensor, one layer or all: shape (n, k)."""
        return self.matrix[:, self.slice(key)]

    def select(self, key: str) -> Features:
        """A :class:`Features` holding only the columns of ``key``."""
        sl = self.slice(key)
        kept = [p for p in self.parameters if self._slices[p].start >= sl.start and self._slices[p].stop <= sl.stop]
        slices = {p: slice(self._slices[p].start - sl.start, self._slices[p].stop - sl.start) for p in kept}
        return Features(self.matrix[:, sl], self.x, tuple(kept), slices)


def _column_slices(model: nn.Module) -> dict[str, slice]:
    slices, start = {}, 0
    for name, p in model.named_parameters():
        slices[name] = slice(start, start + p.numel())
        start += p.numel()
    return slices


def _mlp_weights(model: nn.Module) -> list[tuple[np.ndarray, np.ndarray]]:
    """(W (out, in), b (out,)) of each Linear layer, as float64 numpy arrays."""
    layers = [m for m in model if isinstance(m, nn.Linear)]
    return [(m.weight.detach().cpu().double().numpy(), m.bias.detach().cpu().double().numpy()) for m in layers]


def mlp_factors(model: nn.Module, x: np.ndarray) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """Forward and backward pass of a ReLU MLP at all inputs at once.

    Parameters
    ----------
    model : one of this package's ReLU MLPs.
    x : (n, 1) float64 inputs.

    Returns
    -------
    (y, factors)
        ``y`` (n,) the outputs; ``factors[l] = (a, delta)`` for Linear layer l, with ``a``
        (n, in) the layer's input and ``delta`` (n, out) the derivative of the output
        ``y`` with respect to the layer's pre-activation.
    """
    weights = _mlp_weights(model)
    inputs, masks = [], []
    a = x
    # in-place updates keep fresh allocations (and their page faults) to a minimum
    for i, (W, b) in enumerate(weights):
        inputs.append(a)
        a = a @ W.T
        a += b
        if i < len(weights) - 1:
            mask = a > 0
            masks.append(mask)
            a *= mask
    deltas = [None] * len(weights)
    delta = np.ones((x.shape[0], 1))
    for i in range(len(weights) - 1, -1, -1):
        deltas[i] = delta
        if i > 0:
            delta = delta @ weights[i][0]
            delta *= masks[i - 1]
    return a[:, 0], list(zip(inputs, deltas))


def _closed_form_matrix(factors) -> np.ndarray:
    n = factors[0][0].shape[0]
    d = sum(delta.shape[1] * (a.shape[1] + 1) for a, delta in factors)
    matrix = np.empty((n, d))
    start = 0
    for a, delta in factors:
        n_out, n_in = delta.shape[1], a.shape[1]
        block = matrix[:, start : start + n_out * n_in].reshape(n, n_out, n_in)  # a view
        np.multiply(delta[:, :, None], a[:, None, :], out=block)
        start += n_out * n_in
        matrix[:, start : start + n_out] = delta
        start += n_out
    return matrix


def _autograd_matrix(model: nn.Module, x: np.ndarray) -> np.ndarray:
    from torch.func import functional_call, jacrev, vmap

    module = _float64_copy(model)
    device = next(module.parameters()).device
    params = {n: p.detach() for n, p in module.named_parameters()}
    xt = torch.as_tensor(x, dtype=torch.float64, device=device)

    def output(p, xi):
        return functional_call(module, p, (xi[None, :],))[0, 0]

    jac = vmap(jacrev(output), in_dims=(None, 0))(params, xt)
    n = x.shape[0]
    return torch.cat([jac[name].reshape(n, -1) for name in params], dim=1).cpu().numpy()


def _float64_copy(model: nn.Module) -> nn.Module:
    return copy.deepcopy(model).to(torch.float64)


def resolve_method(model: nn.Module, method: str) -> str:
    """``"closed_form"`` or ``"autograd"`` for ``model``; checks ``method`` first."""
    method = check_choice("method", method, METHODS)
    closed = mlp_sizes(model) is not None
    if method == "closed_form" and not closed:
        raise ValueError(
            "method='closed_form' needs one of this package's ReLU MLPs (nn.Sequential of Linear and ReLU, "
            "1 input, 1 output); use method='autograd' for other modules"
        )
    if method == "auto":
        return "closed_form" if closed else "autograd"
    return method


def _check_model(model) -> None:
    if not isinstance(model, nn.Module) or not any(True for _ in model.parameters()):
        raise ValueError(f"model must be a torch.nn.Module with parameters; got {type(model).__name__}")


def linearize(model: nn.Module, x, method: str = "auto") -> Features:
    """The linearized features of ``model`` at inputs ``x``.

    Parameters
    ----------
    model : a network mapping (n, 1) to (n, 1), e.g. from :func:`make_mlp` or
        :meth:`History.model`.
    x : inputs, shape (n,) or (n, 1), finite.
    method : ``"auto"`` (closed form for this package's ReLU MLPs, autograd otherwise),
        ``"closed_form"`` or ``"autograd"``.

    Returns
    -------
    Features
        ``matrix`` (n, d) with entry (i, j) = ``d y(x_i) / d theta_j``, columns in
        ``model.named_parameters()`` order; ``columns("0.bias")`` picks one tensor's.
    """
    _check_model(model)
    xs = as_inputs("x", x)
    method = resolve_method(model, method)
    if method == "closed_form":
        matrix = _closed_form_matrix(mlp_factors(model, xs)[1])
    else:
        matrix = _autograd_matrix(model, xs)
    slices = _column_slices(model)
    return Features(matrix, xs[:, 0].copy(), tuple(slices), slices)


def predict(model: nn.Module, x) -> np.ndarray:
    """The network's output at inputs ``x`` (n,) or (n, 1), as float64 (n,)."""
    _check_model(model)
    xs = as_inputs("x", x)
    if mlp_sizes(model) is not None:
        return mlp_factors(model, xs)[0]
    module = _float64_copy(model)
    device = next(module.parameters()).device
    with torch.no_grad():
        return module(torch.as_tensor(xs, device=device)).reshape(-1).cpu().numpy()


def gradient_norms(model: nn.Module, X, y, by: str = "layer") -> dict[str, float]:
    """Euclidean norm of the gradient of the training MSE, per layer or per parameter tensor.

    The loss is ``mean((model(X) - y)^2)`` over all points, as in the homework's MSE, and
    its gradient is ``(2 / n) J^T (model(X) - y)``.

    Parameters
    ----------
    X : (n,) or (n, 1) inputs; y : (n,) targets.
    by : ``"layer"`` (keys ``"0"``, ``"2"``, ...: weight and bias together) or
        ``"parameter"`` (keys ``"0.weight"``, ``"0.bias"``, ...).

    Returns
    -------
    dict mapping each key, in network order, to its gradient norm.
    """
    by = check_choice("by", by, ("layer", "parameter"))
    _check_model(model)
    xs = as_inputs("X", X)
    targets = np.array(y, dtype=np.float64).reshape(-1)
    if targets.shape[0] != xs.shape[0]:
        raise ValueError(f"y must have one target per input: X has {xs.shape[0]} points, y has {targets.shape[0]}")
    if not np.all(np.isfinite(targets)):
        raise ValueError("y must be finite")
    module = _float64_copy(model)
    device = next(module.parameters()).device
    pred = module(torch.as_tensor(xs, device=device)).reshape(-1)
    loss = torch.mean((pred - torch.as_tensor(targets, device=device)) ** 2)
    names = [n for n, _ in module.named_parameters()]
    grads = torch.autograd.grad(loss, list(module.parameters()))
    squares: dict[str, float] = {}
    for name, g in zip(names, grads):
        key = name if by == "parameter" else name.rpartition(".")[0]
        squares[key] = squares.get(key, 0.0) + float(torch.sum(g**2))
    return {k: float(np.sqrt(v)) for k, v in squares.items()}
