"""``sweep``: one training per (width, depth, paradigm), as the homework trains its widths."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
from torch import nn

from .._checks import check_choice, check_int
from ..data import Dataset
from ..models import make_mlp
from .history import History
from .plan import PARADIGMS
from .progress import progress_bar
from .trainer import train

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
    """

    def __init__(self, data: Dataset, histories: dict[Config, History], settings: dict):
        if not histories:
            raise ValueError("a Sweep needs at least one history")
        self.data = data
        self._histories = dict(histories)
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

    def history(self, width: int | None = None, depth: int | None = None, paradigm: str | None = None) -> History:
        """The :class:`History` of one configuration (see :meth:`config`)."""
        return self._histories[self.config(width, depth, paradigm)]

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

    initial = {
        (w, d): make_mlp(w, depth=d, init=init, seed=model_seed(seed, w, d), elbow_range=data.x_range)
        for w, d in itertools.product(widths, depths)
    }
    configs = [Config(w, d, p) for w, d, p in itertools.product(widths, depths, paradigms)]
    total = n_steps * sum(c.paradigm != "ridge" for c in configs)
    histories = {}
    with progress_bar(total, progress, "sweep") as update:
        for config in configs:
            histories[config] = train(
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
            )
    settings = {"init": init, "n_steps": n_steps, "save_every": save_every, "seed": seed, "backend": backend}
    return Sweep(data, histories, settings)


def _values(name: str, values, check) -> tuple:
    if isinstance(values, (str, int)) or not hasattr(values, "__iter__"):
        values = (values,)
    values = tuple(dict.fromkeys(check(v) for v in values))
    if not values:
        raise ValueError(f"{name} must hold at least one value")
    return values
