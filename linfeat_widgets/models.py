"""The homework's ReLU networks: ``1 -> width -> ... -> width -> 1``.

Networks are plain ``torch.nn.Sequential`` modules laid out exactly as in the homework, so
parameter names are ``"0.weight"``, ``"0.bias"``, ``"2.weight"``, ... and a state dict
saved by the homework loads into them.
"""

from __future__ import annotations

import contextlib
import itertools

import torch
from torch import nn

from ._checks import check_float, check_int, check_range

__all__ = ["INITS", "make_mlp", "mlp_from_sizes", "mlp_sizes"]

#: Initialization schemes known by name; a positive float ``s`` is also accepted.
INITS = ("elbows", "default", "kaiming")


def mlp_from_sizes(sizes: tuple[int, ...]) -> nn.Sequential:
    """An MLP with layer sizes ``(1, h1, ..., hk, 1)`` and ReLU between Linear layers.

    Its parameters are PyTorch's default initialization; use :func:`make_mlp` for the
    homework's.
    """
    modules: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        if i > 0:
            modules.append(nn.ReLU())
        modules.append(nn.Linear(n_in, n_out))
    return nn.Sequential(*modules)


def mlp_sizes(model: nn.Module) -> tuple[int, ...] | None:
    """Layer sizes ``(1, h1, ..., hk, 1)`` if ``model`` is one of this package's ReLU MLPs.

    That is an ``nn.Sequential`` alternating ``Linear`` and ``ReLU``, starting and ending
    with a ``Linear`` layer, with one input and one output. Returns ``None`` for any other
    module; the closed-form Jacobian and the fast trainer handle exactly these networks.
    """
    if not isinstance(model, nn.Sequential) or len(model) % 2 != 1:
        return None
    sizes = [1]
    for i, module in enumerate(model):
        if i % 2 == 1:
            if type(module) is not nn.ReLU:
                return None
            continue
        if type(module) is not nn.Linear or module.bias is None or module.in_features != sizes[-1]:
            return None
        sizes.append(module.out_features)
    if sizes[-1] != 1:
        return None
    return tuple(sizes)


def _check_init(init) -> str | float:
    if isinstance(init, str):
        if init not in INITS:
            raise ValueError(
                f"init must be one of {', '.join(repr(i) for i in INITS)} or a positive number s "
                f"(every weight and bias uniform in [-s, s]); got {init!r}"
            )
        return init
    try:
        return check_float("init", init, positive=True)
    except ValueError:
        raise ValueError(
            f"init must be one of {', '.join(repr(i) for i in INITS)} or a positive number s "
            f"(every weight and bias uniform in [-s, s]); got {init!r}"
        ) from None


def make_mlp(
    width: int,
    depth: int = 1,
    init: str | float = "elbows",
    seed: int | None = None,
    elbow_range: tuple[float, float] = (0.0, 1.0),
) -> nn.Sequential:
    """Build the homework's ReLU network ``Linear(1,w), ReLU, [Linear(w,w), ReLU] * (depth-1), Linear(w,1)``.

    Parameters
    ----------
    width : hidden units per layer, at least 1.
    depth : number of hidden layers, at least 1.
    init :
        ``"elbows"`` (default, the homework's): PyTorch's default weights, then first-layer
        biases ``b_i = -e_i w_i`` with ``e`` sorted uniform in ``elbow_range``, so unit i's
        ReLU has its elbow (kink) at ``x = e_i``, inside the data.
        ``"default"``: PyTorch's default initialization.
        ``"kaiming"``: He initialization, weights normal with variance ``2 / fan_in``, biases 0.
        A positive float ``s``: every weight and bias uniform in ``[-s, s]`` (the sequel's
        0.03 and 3.0).
    seed : with an integer, the network depends only on the arguments (same seed, same
        network) and PyTorch's global random state is left untouched; with ``None`` it is
        drawn from PyTorch's global random state.
    elbow_range : interval of the elbows for ``init="elbows"``: the training data's range.

    Returns
    -------
    torch.nn.Sequential
        float32, on the CPU, with parameters ``"0.weight"`` (w, 1), ``"0.bias"`` (w,), ...,
        ``f"{2*depth}.weight"`` (1, w), ``f"{2*depth}.bias"`` (1,).
    """
    width = check_int("width", width, 1)
    depth = check_int("depth", depth, 1)
    init = _check_init(init)
    if seed is not None:
        seed = check_int("seed", seed, 0)
    low, high = check_range("elbow_range", elbow_range)

    rng_scope = torch.random.fork_rng(devices=[]) if seed is not None else contextlib.nullcontext()
    with rng_scope:
        if seed is not None:
            torch.manual_seed(seed)
        model = mlp_from_sizes((1,) + (width,) * depth + (1,))
        linears = [m for m in model if isinstance(m, nn.Linear)]
        with torch.no_grad():
            if init == "elbows":
                elbows = torch.sort(low + (high - low) * torch.rand(width, dtype=torch.float64)).values
                first = linears[0]
                first.bias.copy_(-elbows * first.weight[:, 0].double())
            elif init == "kaiming":
                for layer in linears:
                    nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
                    nn.init.zeros_(layer.bias)
            elif isinstance(init, float):
                for p in model.parameters():
                    nn.init.uniform_(p, -init, init)
    return model
