"""``train``: check the arguments, pick a backend, run it, return a :class:`History`."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable

import torch
from torch import nn

from .._checks import check_choice, check_float, check_int
from ..data import Dataset
from ..models import mlp_sizes
from . import fast_backend
from .history import History, flatten_parameters
from .linearized import LinearizedMLP, train_linearized
from .plan import DEFAULT_LR, PARADIGMS, Plan
from .progress import progress_bar
from .torch_backend import solve_ridge, train_torch

__all__ = ["BACKENDS", "DTYPES", "BackendFallbackWarning", "choose_backend", "train"]

#: Training backends: "torch" is the reference loop, "fast" the compiled one; "auto" picks
#: "fast" wherever it applies.
BACKENDS = ("auto", "torch", "fast")
DTYPES = ("float32", "float64")


class BackendFallbackWarning(UserWarning):
    """``backend="auto"`` could not use the fast backend and trains with torch instead."""


def choose_backend(backend: str, model: nn.Module, plan: Plan) -> str:
    """The backend that will train: ``"fast"``, ``"torch"`` or ``"closed form"`` (ridge).

    ``"ridge"`` is always the closed-form solve. Otherwise ``"auto"`` takes ``"fast"``
    for this package's ReLU MLPs on the CPU; on a GPU it takes ``"torch"``; for any other
    module, or where numba cannot compile, it warns once per call
    (:class:`BackendFallbackWarning`) and takes ``"torch"``. An explicit ``"fast"`` that
    cannot run raises ``ValueError`` saying why.
    """
    backend = check_choice("backend", backend, BACKENDS)
    if plan.paradigm == "ridge":
        return "closed form"
    if backend == "torch":
        return "torch"
    reason = fast_backend.unsupported_reason(model, plan) or fast_backend.unavailable_reason()
    if backend == "fast":
        if reason:
            raise ValueError(f"backend='fast' cannot train this: {reason}; use backend='torch'")
        return "fast"
    if reason and plan.device.type == "cpu":
        warnings.warn(
            f"the fast backend cannot train this ({reason}); using torch", BackendFallbackWarning, stacklevel=3
        )
    return "torch" if reason else "fast"


def _check_device(device) -> torch.device:
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device must be 'cpu', 'cuda', 'cuda:N' or a torch.device; got {device!r}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} is not available here (torch.cuda.is_available() is False); use 'cpu'")
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu' or 'cuda'; got {device!r}")
    return dev


def _check_model(model, paradigm: str) -> int:
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module (see make_mlp); got {type(model).__name__}")
    n_params = sum(p.numel() for p in model.parameters())
    if n_params == 0:
        raise ValueError("model has no parameters to train")
    if any(True for _ in model.buffers()):
        raise ValueError(
            "model has buffers (e.g. BatchNorm statistics); train supports models whose state is their parameters"
        )
    if paradigm in ("output", "ridge"):
        last = model[-1] if isinstance(model, nn.Sequential) and len(model) else None
        if not isinstance(last, nn.Linear) or last.out_features != 1 or last.bias is None:
            raise ValueError(
                f"paradigm {paradigm!r} needs an nn.Sequential ending in nn.Linear(w, 1) with a bias "
                "(its output layer); make_mlp builds one"
            )
    return n_params


def _check_output(model: nn.Module, plan: Plan) -> None:
    probe = torch.tensor(plan.data.X[:2], dtype=plan.torch_dtype, device=plan.device)
    with torch.no_grad():
        out = model(probe)
    if tuple(out.shape) != (2, 1):
        raise ValueError(
            f"model must map inputs of shape (n, 1) to outputs of shape (n, 1); it gave {tuple(out.shape)} for n=2"
        )


def make_plan(
    model,
    data,
    paradigm="all",
    n_steps=150_000,
    save_every=1000,
    lr=None,
    seed=0,
    device="cpu",
    dtype="float32",
    batch_size=None,
    ridge_lambda=1e-5,
) -> Plan:
    """Check every argument of :func:`train` and gather them in a :class:`Plan`."""
    paradigm = check_choice("paradigm", paradigm, PARADIGMS)
    if not isinstance(data, Dataset):
        raise ValueError(f"data must be a Dataset from make_dataset(); got {type(data).__name__}")
    n_params = _check_model(model, paradigm)
    n_steps = check_int("n_steps", n_steps, 1)
    save_every = check_int("save_every", save_every, 1)
    if paradigm == "ridge":
        lr = None
    elif lr is None:
        lr = DEFAULT_LR[paradigm]
    else:
        lr = check_float("lr", lr, positive=True)
    if seed is not None:
        seed = check_int("seed", seed, 0)
    n = data.n_samples
    batch_size = max(1, n // 5) if batch_size is None else check_int("batch_size", batch_size, 1)
    if batch_size > n:
        raise ValueError(f"batch_size must be at most the number of training points ({n}); got {batch_size}")
    return Plan(
        data=data,
        paradigm=paradigm,
        lr=lr,
        n_steps=n_steps,
        save_every=save_every,
        seed=seed,
        batch_size=batch_size,
        ridge_lambda=check_float("ridge_lambda", ridge_lambda, minimum=0.0),
        device=_check_device(device),
        dtype=check_choice("dtype", dtype, DTYPES),
        n_params=n_params,
    )


def train(
    model: nn.Module,
    data: Dataset,
    paradigm: str = "all",
    n_steps: int = 150_000,
    save_every: int = 1000,
    lr: float | None = None,
    seed: int | None = 0,
    backend: str = "auto",
    device: str | torch.device = "cpu",
    *,
    dtype: str = "float32",
    batch_size: int | None = None,
    ridge_lambda: float = 1e-5,
    progress: bool | Callable[[int], object] = True,
    linearized: bool = False,
) -> History:
    """Train a copy of ``model`` on ``data`` and keep snapshots along the way.

    Parameters
    ----------
    model : the network, e.g. from :func:`make_mlp`; it maps (n, 1) to (n, 1). It is never
        modified: training runs on a copy.
    data : a :class:`Dataset` from :func:`make_dataset`.
    paradigm : ``"all"`` (SGD on every parameter), ``"output"`` (SGD on the output layer
        only) or ``"ridge"`` (output layer solved in closed form on the last hidden
        layer's features plus a constant).
    n_steps : SGD steps, each on a minibatch of ``batch_size`` points drawn without
        replacement. Ignored by ``"ridge"``.
    save_every : a snapshot is kept at step 1, every ``save_every`` steps and at the
        last step.
    lr : SGD learning rate; defaults to the homework's 0.02 for ``"all"`` and 0.2 for
        ``"output"``.
    seed : seed of the minibatch stream (``numpy.random.default_rng``); same seed, same
        history. ``None`` draws fresh entropy.
    backend : ``"auto"`` (default: ``"fast"`` wherever it applies, see
        :func:`choose_backend`), ``"fast"`` (compiled loop, CPU, this package's MLPs) or
        ``"torch"`` (the reference loop).
    device : ``"cpu"`` or ``"cuda"``.
    dtype : ``"float32"`` (the homework's) or ``"float64"``.
    batch_size : minibatch size; defaults to the homework's ``n // 5``.
    ridge_lambda : ridge penalty for ``"ridge"`` (default 1e-5, as in the homework).
    progress : show a progress bar when training takes more than a second; ``False``
        for none, or a callable that receives the number of steps done after each chunk.
    linearized : train the network's linearized model
        ``f_lin(x; theta) = f(x; theta_0) + J(x; theta_0) (theta - theta_0)`` instead of
        the network, with the same paradigm, lr, minibatch stream, batch size, snapshots and
        dtype (see :mod:`~linfeat_widgets.training.linearized`). Needs one of this
        package's ReLU MLPs and the CPU; ``backend`` is not used. For ``"ridge"`` the
        linearized model is the network itself, so its ridge solution is returned.

    Returns
    -------
    History
        Snapshots with ``steps`` (S,), ``params`` (S, d), ``train_error`` and
        ``test_error`` (S,), and ``model(step)`` to rebuild any of them;
        ``config["linearized"]`` says which model trained. For a linearized run,
        ``model(step)`` is a :class:`~linfeat_widgets.training.linearized.LinearizedMLP`
        computing ``f_lin`` at that snapshot's theta, and the errors are ``f_lin``'s.

    Raises
    ------
    ValueError
        For any bad argument, naming it and what is accepted.
    TrainingDiverged
        (a ``ValueError``) when the loss becomes NaN or infinite; it names the step.
    """
    plan = make_plan(model, data, paradigm, n_steps, save_every, lr, seed, device, dtype, batch_size, ridge_lambda)
    linearized = _check_linearized(linearized, model, plan)
    template = copy.deepcopy(model).cpu().to(plan.torch_dtype)
    work = copy.deepcopy(template).to(plan.device)
    _check_output(work, plan)
    if linearized:
        check_choice("backend", backend, BACKENDS)
        used = "closed form" if plan.paradigm == "ridge" else "linearized"
    else:
        used = choose_backend(backend, model, plan)
    initial = flatten_parameters(work)

    if used == "closed form":
        result = solve_ridge(work, plan)
    else:
        run = {"fast": fast_backend.train_fast, "torch": train_torch, "linearized": train_linearized}[used]
        with progress_bar(plan.n_steps, progress, f"train {plan.paradigm} ({used})") as update:
            result = run(work, plan, update)
    steps, params, train_error, test_error = result
    if linearized:
        template = LinearizedMLP(template)
    config = {**plan.config(used), "linearized": linearized}
    return History(template, steps, params, train_error, test_error, initial, config)


def _check_linearized(linearized, model: nn.Module, plan: Plan) -> bool:
    if not isinstance(linearized, bool):
        raise ValueError(f"linearized must be True or False; got {linearized!r}")
    if linearized and mlp_sizes(model) is None:
        raise ValueError(
            "linearized=True needs one of this package's ReLU MLPs (make_mlp): its Jacobian is taken in closed form"
        )
    if linearized and plan.device.type != "cpu":
        raise ValueError(f"linearized=True trains on the CPU; got device {str(plan.device)!r}")
    return linearized
