"""``sweep``: one training per (width, depth, paradigm), as the homework trains its widths."""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass

import numpy as np
from torch import nn

from .._checks import check_choice, check_int
from ..data import Dataset
from ..models import make_mlp
from . import fast_backend
from .history import History
from .plan import PARADIGMS
from .progress import progress_bar
from .trainer import BACKENDS, train

__all__ = ["Config", "Sweep", "sweep"]


@dataclass(frozen=True, order=True)
class Config:
    """One configuration of a sweep."""

    width: int
    depth: int
    paradigm: str


def model_seed(seed: int, width: int, depth: int) -> int:
    """Seed of the initial network of (width, depth): distinct per configuration, fixed by ``seed``."""
    return int(np.random.SeedSequence([seed, width, depth]).generate_state(1)[0])


class Sweep(Mapping):
    """Histories of several configurations, keyed by :class:`Config`.

    Attributes
    ----------
    data : the Dataset every configuration trained on.
    widths, depths, paradigms : the swept values, in the order given.
    has_linearized : whether each configuration's linearized model was trained too
        (``sweep(..., linearized=True)``); iterating and indexing give the networks' runs.
    """

    def __init__(
        self,
        data: Dataset,
        histories: dict[Config, History],
        settings: dict,
        linearized: dict[Config, History] | None = None,
    ):
        if not histories:
            raise ValueError("a Sweep needs at least one history")
        if linearized is not None and set(linearized) != set(histories):
            raise ValueError("linearized must hold one linearized History per configuration of histories")
        self.data = data
        self._histories = dict(histories)
        self._linearized = None if linearized is None else dict(linearized)
        self.settings = dict(settings)
        keys = list(self._histories)
        self.widths = tuple(dict.fromkeys(k.width for k in keys))
        self.depths = tuple(dict.fromkeys(k.depth for k in keys))
        self.paradigms = tuple(dict.fromkeys(k.paradigm for k in keys))

    def __getitem__(self, key: Config) -> History:
        return self._histories[key]

    def __iter__(self) -> Iterator[Config]:
        return iter(self._histories)

    def __len__(self) -> int:
        return len(self._histories)

    def __repr__(self) -> str:
        return f"Sweep(widths={self.widths}, depths={self.depths}, paradigms={self.paradigms}, histories={len(self)})"

    def _pick(self, name: str, value, options: tuple):
        if value is None:
            if len(options) == 1:
                return options[0]
            raise ValueError(f"{name} must be given: this sweep has {name}s {options}")
        if value not in options:
            raise ValueError(f"{name} must be one of {options} (the swept values); got {value!r}")
        return value

    def config(self, width: int | None = None, depth: int | None = None, paradigm: str | None = None) -> Config:
        """The :class:`Config` of the given values; an argument may be left out when only one was swept."""
        return Config(
            self._pick("width", width, self.widths),
            self._pick("depth", depth, self.depths),
            self._pick("paradigm", paradigm, self.paradigms),
        )

    @property
    def has_linearized(self) -> bool:
        """True when every configuration's linearized model was trained too."""
        return self._linearized is not None

    def history(
        self,
        width: int | None = None,
        depth: int | None = None,
        paradigm: str | None = None,
        linearized: bool = False,
    ) -> History:
        """The :class:`History` of one configuration (see :meth:`config`).

        ``linearized=True`` gives the run of the network's linearized model, from the same
        initial network (needs ``sweep(..., linearized=True)``).
        """
        config = self.config(width, depth, paradigm)
        if not isinstance(linearized, bool):
            raise ValueError(f"linearized must be True or False; got {linearized!r}")
        if not linearized:
            return self._histories[config]
        if self._linearized is None:
            raise ValueError("linearized=True needs a sweep trained with sweep(..., linearized=True)")
        return self._linearized[config]

    def initial_model(self, width: int | None = None, depth: int | None = None) -> nn.Module:
        """The network every paradigm of (width, depth) started from (a fresh copy)."""
        config = self.config(width, depth, self.paradigms[0])
        return self._histories[config].model(0)


def sweep(
    data: Dataset,
    widths=(10, 20, 40),
    depths=(1,),
    paradigms=("all",),
    init="elbows",
    n_steps: int = 150_000,
    save_every: int = 1000,
    seed: int = 0,
    backend: str = "auto",
    *,
    lr: float | None = None,
    dtype: str = "float32",
    progress: bool = True,
    n_jobs: int | None = None,
    linearized: bool = False,
) -> Sweep:
    """Train every (width, depth, paradigm) of the grid, as the homework trains its widths.

    Every paradigm of a (width, depth) starts from the same initial network, built by
    :func:`make_mlp` with ``init`` and elbows in the data's ``x_range``; its seed is
    derived from ``seed``, ``width`` and ``depth``. Every run uses the minibatch stream
    of ``seed``.

    Parameters
    ----------
    data : a :class:`Dataset`.
    widths, depths : hidden units per layer and numbers of hidden layers to sweep.
    paradigms : any of ``"all"``, ``"output"``, ``"ridge"``.
    init : initialization, see :func:`make_mlp`.
    n_steps, save_every, seed, backend, lr, dtype : passed to :func:`train`; ``lr=None``
        uses each paradigm's default.
    progress : one progress bar over all trainings.
    n_jobs : trainings run at once, in threads. Default: one per CPU core when the fast
        backend trains (its compiled loop releases the GIL), else 1.
    linearized : also train each configuration's linearized model (``train(...,
        linearized=True)``) from the same initial network with the same settings;
        ``sweep.history(..., linearized=True)`` returns it.

    Returns
    -------
    Sweep
        ``sweep.history(width=40, depth=1, paradigm="all")`` is one :class:`History`.
    """
    if not isinstance(data, Dataset):
        raise ValueError(f"data must be a Dataset from make_dataset(); got {type(data).__name__}")
    widths = _values("widths", widths, lambda v: check_int("widths", v, 1))
    depths = _values("depths", depths, lambda v: check_int("depths", v, 1))
    paradigms = _values("paradigms", paradigms, lambda v: check_choice("paradigms", v, PARADIGMS))
    seed = check_int("seed", seed, 0)
    backend = check_choice("backend", backend, BACKENDS)
    if n_jobs is None:
        fast = backend != "torch" and fast_backend.unavailable_reason() is None
        n_jobs = (os.cpu_count() or 1) if fast else 1
    n_jobs = check_int("n_jobs", n_jobs, 1)
    if not isinstance(linearized, bool):
        raise ValueError(f"linearized must be True or False; got {linearized!r}")

    initial = {
        (w, d): make_mlp(w, depth=d, init=init, seed=model_seed(seed, w, d), elbow_range=data.x_range)
        for w, d in itertools.product(widths, depths)
    }
    configs = [Config(w, d, p) for w, d, p in itertools.product(widths, depths, paradigms)]
    total = n_steps * sum(c.paradigm != "ridge" for c in configs) * (2 if linearized else 1)

    def job(config: Config, update: Callable[[int], object]) -> tuple[History, History | None]:
        runs = [
            train(
                initial[config.width, config.depth],
                data,
                paradigm=config.paradigm,
                n_steps=n_steps,
                save_every=save_every,
                lr=lr,
                seed=seed,
                backend=backend,
                dtype=dtype,
                progress=update,
                linearized=flag,
            )
            for flag in ((False, True) if linearized else (False,))
        ]
        return runs[0], runs[1] if linearized else None

    with progress_bar(total, progress, "sweep") as update:
        results = _run(configs, job, min(n_jobs, len(configs)), update)
    histories = {config: pair[0] for config, pair in results.items()}
    linear = {config: pair[1] for config, pair in results.items()} if linearized else None
    settings = {
        "init": init,
        "n_steps": n_steps,
        "save_every": save_every,
        "seed": seed,
        "backend": backend,
        "linearized": linearized,
    }
    return Sweep(data, histories, settings, linearized=linear)


def _run(configs: list[Config], job, n_jobs: int, update) -> dict:
    """Run ``job(config, update)`` for every config, in ``n_jobs`` threads.

    Worker threads only add to a counter; this thread moves it to ``update``, so a
    notebook progress widget is only ever touched from the thread that made it.
    """
    if n_jobs == 1:
        return {config: job(config, update) for config in configs}
    pending, lock = [0], threading.Lock()

    def tick(k: int) -> None:
        with lock:
            pending[0] += k

    def flush() -> None:
        with lock:
            k, pending[0] = pending[0], 0
        if k:
            update(k)

    with ThreadPoolExecutor(max_workers=n_jobs, thread_name_prefix="linfeat-sweep") as pool:
        # longest first, so the biggest network does not start last and finish alone
        futures = {config: pool.submit(job, config, tick) for config in sorted(configs, key=_cost, reverse=True)}
        remaining = set(futures.values())
        while remaining:
            _, remaining = wait(remaining, timeout=0.2, return_when=FIRST_EXCEPTION)
            flush()
            failed = [f for f in futures.values() if f.done() and not f.cancelled() and f.exception()]
            if failed:
                for f in remaining:
                    f.cancel()
                raise failed[0].exception()
        return {config: futures[config].result() for config in configs}


def _cost(config: Config) -> int:
    """Rough cost of one SGD step: multiply-adds of the network, plus a fixed overhead."""
    if config.paradigm == "ridge":
        return 0
    if config.paradigm == "output":
        return config.width
    return (config.depth - 1) * config.width**2 + 4 * config.width + 200


def _values(name: str, values, check) -> tuple:
    if isinstance(values, (str, int)) or not hasattr(values, "__iter__"):
        values = (values,)
    values = tuple(dict.fromkeys(check(v) for v in values))
    if not values:
        raise ValueError(f"{name} must hold at least one value")
    return values
