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

from ._checks import as_inputs, as_real_array, check_choice
from .models import mlp_sizes

__all__ = ["CONTRACT", "METHODS", "Features", "gradient_norms", "linearize", "predict"]

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
        if not isinstance(key, str):
            accepted = ", ".join(repr(k) for k in self.keys)
            raise ValueError(f"key must be one of {accepted}; got {key!r}")
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


def resolve_method(model: nn.Module, method: str, name: str = "method") -> str:
    """``"closed_form"`` or ``"autograd"`` for ``model``; checks ``method`` (the argument ``name``) first."""
    method = check_choice(name, method, METHODS)
    closed = mlp_sizes(model) is not None
    if method == "closed_form" and not closed:
        raise ValueError(
            f"{name}='closed_form' needs one of this package's ReLU MLPs exactly as make_mlp builds them (an "
            "nn.Sequential itself, not a subclass, of Linear and ReLU layers without hooks, 1 input, 1 output); "
            f"use {name}='autograd' for other modules"
        )
    if method == "auto":
        return "closed_form" if closed else "autograd"
    return method


#: What every function of the math API accepts, quoted in its error messages.
CONTRACT = (
    "a torch.nn.Module with one input and one output (it maps (n, 1) to (n, 1)), whose state is its "
    "parameters (no persistent buffers such as BatchNorm's statistics) and whose parameters are finite real numbers"
)


def _check_model(model) -> tuple[int, ...] | None:
    """Refuse a module outside :data:`CONTRACT`; return its :func:`mlp_sizes`.

    A module that is not one of the package's MLPs is probed with a tiny input, so a model
    with two inputs or two outputs is refused here instead of failing deep inside torch
    or, worse, having its first output silently taken.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be {CONTRACT}; got {type(model).__name__}")
    named = list(model.named_parameters())
    if not named:
        raise ValueError(f"model must be {CONTRACT}; this {type(model).__name__} has no parameters")
    # Persistent buffers are state that is not a parameter (BatchNorm's running statistics). Non-persistent
    # ones are constants of the function, such as the linearized model's theta_0, and change nothing here.
    parameter_names = {name for name, _ in model.named_parameters(remove_duplicate=False)}
    buffers = [name for name in model.state_dict() if name not in parameter_names]
    if buffers:
        raise ValueError(f"model must be {CONTRACT}; this one has buffers ({', '.join(buffers[:3])})")
    for name, p in named:
        if p.is_meta:
            raise ValueError(f"model must be {CONTRACT}; parameter {name!r} is on the meta device (it has no values)")
        if not p.is_floating_point():
            raise ValueError(f"model must be {CONTRACT}; parameter {name!r} has dtype {p.dtype}")
        bad = _count_nonfinite(p)
        if bad:
            raise ValueError(f"model must be {CONTRACT}; parameter {name!r} has {bad} NaN or infinite entries")
    sizes = mlp_sizes(model)
    if sizes is None:
        _probe(model)
    return sizes


def _count_nonfinite(p: torch.Tensor) -> int:
    values = p.detach()
    if values.device.type == "cpu" and values.dtype in (torch.float32, torch.float64):
        finite = np.isfinite(values.numpy())  # numpy is quicker than torch on these small tensors
        return 0 if finite.all() else int(np.count_nonzero(~finite))
    return int((~torch.isfinite(values)).sum())


def _probe(model: nn.Module) -> None:
    module = _float64_copy(model)
    device = next(module.parameters()).device
    probe = torch.tensor([[0.25], [0.75]], dtype=torch.float64, device=device)
    try:
        with torch.no_grad():
            out = module(probe)
    except Exception as exc:  # any failure on a well-formed (n, 1) input means the model is outside the contract
        raise ValueError(
            f"model must be {CONTRACT}; on inputs of shape (2, 1) it raised {type(exc).__name__}: {exc}"
        ) from None
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (2, 1):
        got = f"shape {tuple(out.shape)}" if isinstance(out, torch.Tensor) else f"a {type(out).__name__}"
        raise ValueError(f"model must be {CONTRACT}; on inputs of shape (2, 1) it returned {got}")


def check_finite(name: str, x: np.ndarray, what: str, *arrays: np.ndarray) -> None:
    """Refuse results that overflowed: ``arrays`` computed from inputs ``x`` (n, 1) named ``name``."""
    if all(np.all(np.isfinite(a)) for a in arrays):
        return
    raise ValueError(
        f"{name} is too large for this network: its {what} overflow float64 and are not finite "
        f"(largest |{name}| = {float(np.max(np.abs(x))):.3g}); use inputs of a smaller magnitude"
    )


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
    method = check_choice("method", method, METHODS)
    _check_model(model)
    xs = as_inputs("x", x)
    method = resolve_method(model, method)
    with np.errstate(over="ignore", invalid="ignore"):
        if method == "closed_form":
            matrix = _closed_form_matrix(mlp_factors(model, xs)[1])
        else:
            matrix = _autograd_matrix(model, xs)
    check_finite("x", xs, "linearized features", matrix)
    slices = _column_slices(model)
    return Features(matrix, xs[:, 0].copy(), tuple(slices), slices)


def predict(model: nn.Module, x) -> np.ndarray:
    """The network's output at inputs ``x`` (n,) or (n, 1), as float64 (n,)."""
    sizes = _check_model(model)
    xs = as_inputs("x", x)
    if sizes is not None:
        with np.errstate(over="ignore", invalid="ignore"):
            out = mlp_factors(model, xs)[0]
    else:
        module = _float64_copy(model)
        device = next(module.parameters()).device
        with torch.no_grad():
            out = module(torch.as_tensor(xs, device=device)).reshape(-1).cpu().numpy()
    check_finite("x", xs, "predictions", out)
    return out


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
    targets = as_real_array("y", y)
    if targets.ndim > 1 and targets.size == targets.shape[0]:  # (n, 1) targets, as a column
        targets = targets.reshape(-1)
    if targets.ndim != 1 or targets.shape[0] != xs.shape[0]:
        raise ValueError(
            f"y must have shape (n,), one target per input: X has {xs.shape[0]} points, y has shape {targets.shape}"
        )
    if not np.all(np.isfinite(targets)):
        raise ValueError("y must be finite")
    module = _float64_copy(model)
    device = next(module.parameters()).device
    pred = module(torch.as_tensor(xs, device=device)).reshape(-1)
    check_finite("X", xs, "predictions", pred.detach().cpu().numpy())
    loss = torch.mean((pred - torch.as_tensor(targets, device=device)) ** 2)
    names = [n for n, _ in module.named_parameters()]
    grads = torch.autograd.grad(loss, list(module.parameters()))
    if not (torch.isfinite(loss) and all(bool(torch.isfinite(g).all()) for g in grads)):
        raise ValueError(
            "X and y are too large for this network: the MSE or its gradient overflows float64 "
            f"(largest |X| = {float(np.max(np.abs(xs))):.3g}, largest |y| = {float(np.max(np.abs(targets))):.3g})"
        )
    squares: dict[str, float] = {}
    for name, g in zip(names, grads):
        key = name if by == "parameter" else name.rpartition(".")[0]
        squares[key] = squares.get(key, 0.0) + float(torch.sum(g**2))
    return {k: float(np.sqrt(v)) for k, v in squares.items()}
