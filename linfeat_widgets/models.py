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

from ._checks import check_float, check_int, check_memory, check_range

__all__ = ["INITS", "MAX_DEPTH", "make_mlp", "mlp_from_sizes", "mlp_sizes", "n_parameters"]

#: Initialization schemes known by name; a positive float ``s`` is also accepted.
INITS = ("elbows", "default", "kaiming")

#: The deepest network :func:`make_mlp` builds. Far deeper than the homework's, yet a
#: thousand layers build in a fraction of a second; a million would take minutes.
MAX_DEPTH = 1000

# bytes per parameter while building: the float32 value, its initial draw and the
# module bookkeeping, rounded up
_BYTES_PER_PARAMETER = 12


def n_parameters(width: int, depth: int) -> int:
    """Number of parameters d of ``make_mlp(width, depth)``: ``3w + 1 + (depth - 1)(w^2 + w)``."""
    return 2 * width + (depth - 1) * (width * width + width) + width + 1


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


def _plain(module: nn.Module) -> bool:
    """True when nothing changes what ``module``'s class computes: no hooks, no own ``forward``."""
    return not (
        module._forward_hooks
        or module._forward_pre_hooks
        or getattr(module, "_forward_hooks_with_kwargs", None)
        or "forward" in vars(module)  # a forward patched onto the instance
    )


def _plain_linear(module: nn.Module, n_in: int) -> bool:
    if type(module) is not nn.Linear or not _plain(module) or module._buffers or module._modules:
        return False
    if set(module._parameters) != {"weight", "bias"} or module.bias is None:
        return False
    weight, bias = module.weight, module.bias
    return (
        weight.is_floating_point()
        and bias.dtype == weight.dtype
        and not weight.is_meta
        and not bias.is_meta
        and bias.device == weight.device
        and weight.ndim == 2
        and weight.shape[1] == n_in
        and tuple(bias.shape) == (weight.shape[0],)
    )


def mlp_sizes(model: nn.Module) -> tuple[int, ...] | None:
    """Layer sizes ``(1, h1, ..., hk, 1)`` if ``model`` is exactly one of this package's ReLU MLPs.

    That is exactly what :func:`mlp_from_sizes` and :func:`make_mlp` build: an
    ``nn.Sequential`` (the class itself, not a subclass, which may have its own
    ``forward``) alternating ``nn.Linear`` (with a bias, floating point, not on the meta
    device) and ``nn.ReLU``, starting and ending with a ``Linear`` layer, with one input
    and one output, no layer or parameter used twice, and no forward hooks or patched
    ``forward`` on it or its layers.
    Returns ``None`` for any other module: the closed-form Jacobian and the fast trainer
    compute exactly these networks and nothing else, so every other module goes through
    autograd and the reference trainer.
    """
    if type(model) is not nn.Sequential or len(model) % 2 != 1 or not _plain(model):
        return None
    if model._parameters or model._buffers or _global_hooks():
        return None
    sizes = [1]
    dtype = None
    for i, module in enumerate(model):
        if i % 2 == 1:
            if type(module) is not nn.ReLU or not _plain(module) or module._modules:
                return None
            continue
        if not _plain_linear(module, sizes[-1]):
            return None
        if dtype is not None and module.weight.dtype != dtype:
            return None
        dtype = module.weight.dtype
        sizes.append(int(module.weight.shape[0]))
    if sizes[-1] != 1:
        return None
    # a layer or parameter used twice is one set of columns for autograd, two for the closed form
    linears = list(model._modules.values())[::2]  # slicing the Sequential would build a new one
    if len({id(p) for layer in linears for p in (layer.weight, layer.bias)}) != 2 * len(linears):
        return None
    return tuple(sizes)


def _global_hooks() -> bool:
    """True when hooks registered for every module (``register_module_forward_hook``) exist."""
    from torch.nn.modules import module as torch_module

    return bool(
        getattr(torch_module, "_global_forward_hooks", None) or getattr(torch_module, "_global_forward_pre_hooks", None)
    )


# Largest s whose draw uniform(-s, s) stays finite in float32: torch computes 2 s.
_MAX_INIT = float(torch.finfo(torch.float32).max) / 2


def _check_init(init) -> str | float:
    if isinstance(init, str):
        if init not in INITS:
            raise ValueError(
                f"init must be one of {', '.join(repr(i) for i in INITS)} or a positive number s "
                f"(every weight and bias uniform in [-s, s]); got {init!r}"
            )
        return init
    try:
        scale = check_float("init", init, positive=True)
    except ValueError:
        raise ValueError(
            f"init must be one of {', '.join(repr(i) for i in INITS)} or a positive number s "
            f"(every weight and bias uniform in [-s, s]); got {init!r}"
        ) from None
    if scale > _MAX_INIT:
        raise ValueError(
            f"init must be at most {_MAX_INIT:.4g} (the interval [-s, s] must fit in float32); got {init!r}"
        )
    return scale


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
    depth : number of hidden layers, from 1 to :data:`MAX_DEPTH`. Networks whose
        parameters would not fit in memory are refused before anything is allocated.
    init :
        ``"elbows"`` (default, the homework's): PyTorch's default weights, then first-layer
        biases ``b_i = -e_i w_i`` with ``e`` sorted uniform in ``elbow_range``, so unit i's
        ReLU has its elbow (kink) at ``x = e_i``, inside the data.
        ``"default"``: PyTorch's default initialization.
        ``"kaiming"``: He initialization, weights normal with variance ``2 / fan_in``, biases 0.
        A positive float ``s``: every weight and bias uniform in ``[-s, s]`` (the sequel's
        0.03 and 3.0).
    seed : with an integer ``0 <= seed <= 2**64 - 1``, the network depends only on the arguments (same seed, same
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
    depth = check_int("depth", depth, 1, MAX_DEPTH)
    d = n_parameters(width, depth)
    check_memory(f"make_mlp(width={width}, depth={depth}) with {d:,} parameters", _BYTES_PER_PARAMETER * d)
    init = _check_init(init)
    if seed is not None:
        seed = check_int("seed", seed, 0, 2**64 - 1)
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
