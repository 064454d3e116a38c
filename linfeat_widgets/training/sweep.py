"""``sweep``: one training per (width, depth, paradigm) and seed, as the homework trains its widths.

Trainings run in local threads, or on any :class:`concurrent.futures.Executor` (a process
pool, a Dask cluster's ``client.get_executor()``); runs then travel as plain arrays
(:meth:`History.to_arrays`), never as pickled modules.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, FIRST_EXCEPTION, Executor, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from .._checks import check_choice, check_float, check_int
from ..data import Dataset
from ..models import make_mlp, mlp_from_sizes
from . import fast_backend
from .batched import train_seeds
from .history import History, flatten_parameters
from .plan import PARADIGMS, check_memory, check_progress, check_seed
from .progress import progress_bar
from .trainer import BACKENDS, DTYPES, _check_device, snapshot_bytes, train, working_bytes

__all__ = ["Band", "Config", "Sweep", "sweep"]


@dataclass(frozen=True, order=True)
class Config:
    """One configuration of a sweep, and the seed of its run.

    ``seed`` sets the initial network and the minibatch stream. Left out (``None``) in a
    lookup such as ``sweep[Config(40, 1, "all")]``, it means the sweep's first seed.
    """

    width: int
    depth: int
    paradigm: str
    seed: int | None = None


@dataclass(frozen=True, eq=False)
class Band:
    """Quartiles across seeds of one configuration's train and test error, per snapshot.

    Attributes
    ----------
    steps : int64 (S,) the snapshots' steps, shared by every seed.
    train, test : float64 (3, S) the 25th, 50th (median) and 75th percentile across
        seeds of the train and test error at each snapshot (``numpy.percentile``,
        linear interpolation).
    seeds : the K seeds the quartiles are taken over.
    """

    QUANTILES: ClassVar[tuple[int, int, int]] = (25, 50, 75)

    steps: np.ndarray
    train: np.ndarray
    test: np.ndarray
    seeds: tuple[int, ...]


def model_seed(seed: int, width: int, depth: int) -> int:
    """Seed of the initial network of (width, depth): distinct per configuration, fixed by ``seed``."""
    return int(np.random.SeedSequence([seed, width, depth]).generate_state(1)[0])


class Sweep(Mapping):
    """Histories of several configurations and seeds, keyed by :class:`Config`.

    Keys carry their seed; looking up a Config without one (``seed=None``) gives the
    sweep's first seed, so code written for one seed reads a many-seed sweep unchanged.

    Attributes
    ----------
    data : the Dataset every configuration trained on.
    widths, depths, paradigms, seeds : the swept values, in the order given.
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
        self.data = data
        self._histories = _keyed_by_seed(histories, "histories")
        self._linearized = None if linearized is None else _keyed_by_seed(linearized, "linearized")
        if self._linearized is not None and set(self._linearized) != set(self._histories):
            raise ValueError("linearized must hold one linearized History per configuration of histories")
        self.settings = dict(settings)
        keys = list(self._histories)
        self.widths = tuple(dict.fromkeys(k.width for k in keys))
        self.depths = tuple(dict.fromkeys(k.depth for k in keys))
        self.paradigms = tuple(dict.fromkeys(k.paradigm for k in keys))
        self.seeds = tuple(dict.fromkeys(k.seed for k in keys))

    @property
    def has_linearized(self) -> bool:
        """True when every configuration's linearized model was trained too."""
        return self._linearized is not None

    def __getitem__(self, key: Config) -> History:
        if isinstance(key, Config) and key.seed is None:
            key = dataclasses.replace(key, seed=self.seeds[0])
        return self._histories[key]

    def __iter__(self) -> Iterator[Config]:
        return iter(self._histories)

    def __len__(self) -> int:
        return len(self._histories)

    def __repr__(self) -> str:
        seeds = f", seeds={self.seeds}" if len(self.seeds) > 1 else ""
        return (
            f"Sweep(widths={self.widths}, depths={self.depths}, paradigms={self.paradigms}{seeds}, "
            f"histories={len(self)})"
        )

    def _pick(self, name: str, value, options: tuple):
        if value is None:
            if len(options) == 1:
                return options[0]
            raise ValueError(f"{name} must be given: this sweep has {name}s {options}")
        if value not in options:
            raise ValueError(f"{name} must be one of {options} (the swept values); got {value!r}")
        return value

    def config(
        self,
        width: int | None = None,
        depth: int | None = None,
        paradigm: str | None = None,
        seed: int | None = None,
    ) -> Config:
        """The :class:`Config` of the given values; an argument may be left out when only one was swept.

        ``seed`` left out means the first seed.
        """
        return Config(
            self._pick("width", width, self.widths),
            self._pick("depth", depth, self.depths),
            self._pick("paradigm", paradigm, self.paradigms),
            self.seeds[0] if seed is None else self._pick("seed", seed, self.seeds),
        )

    def history(
        self,
        width: int | None = None,
        depth: int | None = None,
        paradigm: str | None = None,
        seed: int | None = None,
        linearized: bool = False,
    ) -> History:
        """The :class:`History` of one configuration and seed (see :meth:`config`).

        ``linearized=True`` gives the run of the network's linearized model, from the same
        initial network (needs ``sweep(..., linearized=True)``).
        """
        config = self.config(width, depth, paradigm, seed)
        if not isinstance(linearized, bool):
            raise ValueError(f"linearized must be True or False; got {linearized!r}")
        if not linearized:
            return self._histories[config]
        if self._linearized is None:
            raise ValueError("linearized=True needs a sweep trained with sweep(..., linearized=True)")
        return self._linearized[config]

    def initial_model(self, width: int | None = None, depth: int | None = None, seed: int | None = None) -> nn.Module:
        """The network every paradigm of (width, depth) started from with ``seed`` (a fresh copy)."""
        config = self.config(width, depth, self.paradigms[0], seed)
        return self._histories[config].model(0)

    def band(self, width: int | None = None, depth: int | None = None, paradigm: str | None = None) -> Band:
        """Quartiles of the train and test error across the seeds of one configuration.

        Returns
        -------
        Band
            ``steps`` (S,), ``train`` and ``test`` (3, S): rows are the 25th, 50th and
            75th percentile over the K seeds at each snapshot. With one seed all three
            rows are that seed's errors.
        """
        config = self.config(width, depth, paradigm)
        runs = [self._histories[dataclasses.replace(config, seed=s)] for s in self.seeds]
        steps = runs[0].steps
        if any(not np.array_equal(r.steps, steps) for r in runs[1:]):
            raise ValueError(f"the seeds of {config} saved different steps; a band needs the same snapshots")
        train = np.percentile(np.stack([r.train_error for r in runs]), Band.QUANTILES, axis=0)
        test = np.percentile(np.stack([r.test_error for r in runs]), Band.QUANTILES, axis=0)
        for array in (train, test):
            array.setflags(write=False)
        return Band(steps=steps, train=train, test=test, seeds=self.seeds)


def _keyed_by_seed(histories: dict[Config, History], name: str) -> dict[Config, History]:
    """``histories`` with every key's seed filled in (a key without one takes its run's seed, else 0)."""
    keyed: dict[Config, History] = {}
    for key, history in histories.items():
        if not isinstance(key, Config):
            raise ValueError(f"{name} must be keyed by Config; got a key {key!r}")
        if key.seed is None:
            seed = history.config.get("seed")
            key = dataclasses.replace(key, seed=seed if isinstance(seed, int) else 0)
        if key in keyed:
            raise ValueError(f"{name} hold {key} twice")
        keyed[key] = history
    return keyed


def sweep(
    data: Dataset,
    widths=(10, 20, 40),
    depths=(1,),
    paradigms=("all",),
    init="elbows",
    n_steps: int = 150_000,
    save_every: int = 1000,
    seed: int | None = None,
    backend: str = "auto",
    *,
    seeds=None,
    lr: float | None = None,
    dtype: str = "float32",
    device="cpu",
    progress: bool | Callable[[int], object] = True,
    n_jobs: int | None = None,
    executor: Executor | None = None,
    batch_seeds: bool | None = None,
    linearized: bool = False,
) -> Sweep:
    """Train every (width, depth, paradigm) of the grid for every seed, as the homework trains its widths.

    For each seed, every paradigm of a (width, depth) starts from the same initial network,
    built by :func:`make_mlp` with ``init`` and elbows in the data's ``x_range``; its seed
    is derived from the seed, ``width`` and ``depth``. Every run of that seed uses the
    minibatch stream of the seed. One seed gives exactly the runs it gave before seeds
    existed.

    Parameters
    ----------
    data : a :class:`Dataset`.
    widths, depths : hidden units per layer and numbers of hidden layers to sweep.
    paradigms : any of ``"all"``, ``"output"``, ``"ridge"``.
    init : initialization, see :func:`make_mlp`.
    n_steps, save_every, backend, lr, dtype, device : passed to :func:`train` (and
        checked before any network is built); ``lr=None`` uses each paradigm's default.
    seed : the one seed (default 0) when ``seeds`` is left out: an integer in
        ``[0, 2**63 - 1]``.
    seeds : several seeds, e.g. ``range(8)``: every configuration trains once per seed
        (an ensemble; see :meth:`Sweep.band`). Giving both needs ``seeds == (seed,)``.
    progress : ``True`` (one progress bar over all trainings), ``False`` (none) or a
        callable that receives the steps done, as in :func:`train` (with ``executor``:
        the trainings finished).
    n_jobs : trainings run at once, in local threads. Default: one per CPU core when the
        fast backend trains (its compiled loop releases the GIL), else 1.
    executor : any :class:`concurrent.futures.Executor` (a ``ProcessPoolExecutor``, or a
        Dask cluster's ``client.get_executor()``) to run the trainings on instead of
        local threads. Each job is a module-level function of plain arrays and returns
        :meth:`History.to_arrays`, so nothing but numbers crosses the wire; results are
        bit-identical to a local sweep with the same backend on the same kind of machine.
        An interrupt (Ctrl-C) while waiting cancels the trainings not yet finished.
    batch_seeds : train the seeds of a configuration together, in one batched torch
        computation (:func:`train_seeds`). Needs the torch backend; default: on for
        ``device="cuda"`` with several seeds, else off.
    linearized : also train each configuration's linearized model (``train(...,
        linearized=True)``) from the same initial network with the same settings and
        seed; ``sweep.history(..., linearized=True)`` returns it.

    Returns
    -------
    Sweep
        ``sweep.history(width=40, depth=1, paradigm="all", seed=0)`` is one
        :class:`History`; ``sweep.band(40, 1, "all")`` the quartiles across seeds.

    Raises
    ------
    ValueError
        For a bad argument, naming it; :class:`TrainingDiverged` when a training diverges.
    KeyboardInterrupt
        On Ctrl-C: queued trainings are cancelled, running ones stop at their next
        sub-chunk (about 0.05 s), the worker threads are joined, then the interrupt is
        raised. The same happens when one training fails: its error is raised once the
        others have stopped. Nothing is returned and ``data`` is unchanged. With an
        ``executor``, jobs not yet started are cancelled; a job already running on a
        worker finishes there (an executor cannot stop a running call).
    """
    if not isinstance(data, Dataset):
        raise ValueError(f"data must be a Dataset from make_dataset(); got {type(data).__name__}")
    widths = _values("widths", widths, lambda v: check_int("widths", v, 1))
    depths = _values("depths", depths, lambda v: check_int("depths", v, 1))
    paradigms = _values("paradigms", paradigms, lambda v: check_choice("paradigms", v, PARADIGMS))
    seeds = _seeds(seed, seeds)
    backend = check_choice("backend", backend, BACKENDS)
    device = _check_device(device)
    # what train would refuse, refused before any network is built or trained (or shipped)
    n_steps = check_int("n_steps", n_steps, 1)
    save_every = check_int("save_every", save_every, 1)
    if lr is not None:
        lr = check_float("lr", lr, positive=True)
    dtype = check_choice("dtype", dtype, DTYPES)
    progress = check_progress(progress)
    if not isinstance(linearized, bool):
        raise ValueError(f"linearized must be True or False; got {linearized!r}")
    if linearized and device.type != "cpu":
        raise ValueError(f"linearized=True trains the linearized models on the CPU; got device={str(device)!r}")
    if executor is not None and not isinstance(executor, Executor):
        raise ValueError(
            f"executor must be a concurrent.futures.Executor (e.g. a Dask client.get_executor()); "
            f"got {type(executor).__name__}"
        )
    torch_trains = backend == "torch" or (backend == "auto" and device.type == "cuda")
    if batch_seeds is None:
        batch_seeds = torch_trains and device.type == "cuda" and len(seeds) > 1
    elif not isinstance(batch_seeds, bool):
        raise ValueError(f"batch_seeds must be True, False or None; got {batch_seeds!r}")
    elif batch_seeds and not torch_trains:
        raise ValueError(f"batch_seeds=True needs backend='torch' (batching is torch's); got backend={backend!r}")
    if n_jobs is None:
        fast = not torch_trains and fast_backend.unavailable_reason() is None
        n_jobs = (os.cpu_count() or 1) if fast else 1
    n_jobs = check_int("n_jobs", n_jobs, 1)
    _check_sweep_memory(data, widths, depths, paradigms, n_steps, save_every, dtype, n_jobs, len(seeds))

    settings = {
        "init": init,
        "n_steps": n_steps,
        "save_every": save_every,
        "seed": seeds[0],
        "seeds": seeds,
        "backend": backend,
        "batch_seeds": batch_seeds,
        "linearized": linearized,
    }
    options = {
        "n_steps": n_steps,
        "save_every": save_every,
        "lr": lr,
        "backend": backend,
        "device": str(device),
        "dtype": dtype,
        "linearized": linearized,
    }
    initial = {
        (w, d, s): make_mlp(w, depth=d, init=init, seed=model_seed(s, w, d), elbow_range=data.x_range)
        for s, w, d in itertools.product(seeds, widths, depths)
    }
    jobs = []
    for w, d, p in itertools.product(widths, depths, paradigms):
        groups = [seeds] if batch_seeds and p != "ridge" else [(s,) for s in seeds]
        for group in groups:
            start = [flatten_parameters(initial[w, d, s]) for s in group]
            config = Config(w, d, p, group[0] if len(group) == 1 else None)
            jobs.append(_Job(config, group, _layer_sizes(w, d), tuple(start), options))
    n_trainings = len(seeds) * len(widths) * len(depths) * len(paradigms)

    if executor is None:
        by_key = {job.config: job for job in jobs}
        runs = 2 if linearized else 1
        total = runs * n_steps * sum(len(job.seeds) for job in jobs if job.config.paradigm != "ridge")
        with progress_bar(total, progress, "sweep") as update:
            done = _run(list(by_key), lambda key, tick: _train(by_key[key], data, tick), min(n_jobs, len(jobs)), update)
        results = [pair for key in by_key for pair in done[key]]
    else:
        shipped = _shippable(data)
        with progress_bar(n_trainings, progress, "sweep", unit="training") as update:
            results = [
                (History.from_arrays(net), None if lin is None else History.from_arrays(lin))
                for net, lin in _run_on(executor, jobs, shipped, update)
            ]
    keys = [dataclasses.replace(job.config, seed=s) for job in jobs for s in job.seeds]
    pairs = dict(zip(keys, results))
    # the grid's order, seed by seed: what iteration over a one-seed sweep always gave
    order = [Config(w, d, p, s) for s, w, d, p in itertools.product(seeds, widths, depths, paradigms)]
    histories = {key: pairs[key][0] for key in order}
    linear = {key: pairs[key][1] for key in order} if linearized else None
    return Sweep(data, histories, settings, linearized=linear)


def _one_of_seeds(value) -> int:
    try:
        return check_seed(value, allow_none=False)
    except ValueError:
        raise ValueError(f"seeds must hold integers in [0, 2**63 - 1]; got {value!r}") from None


def _seeds(seed, seeds) -> tuple[int, ...]:
    if seed is not None:
        seed = check_seed(seed, allow_none=False)
    if seeds is None:
        return (0 if seed is None else seed,)
    seeds = _values("seeds", seeds, _one_of_seeds)
    if seed is not None and seeds != (seed,):
        raise ValueError(
            f"seed and seeds disagree (seed={seed}, seeds={seeds}): give seeds=(...) for an ensemble "
            "or seed=... for one run, not both"
        )
    return seeds


def _layer_sizes(width: int, depth: int) -> tuple[int, ...]:
    return (1, *([width] * depth), 1)


@dataclass(frozen=True)
class _Job:
    """One unit of work: a configuration for one seed, or for several seeds batched.

    Plain values only (sizes and flat initial parameters, not modules), so it pickles small.
    """

    config: Config  # seed None: the seeds are trained together
    seeds: tuple[int, ...]
    sizes: tuple[int, ...]
    initial: tuple[np.ndarray, ...]  # (d,) per seed, in the model's dtype
    options: dict

    def models(self) -> list[nn.Module]:
        models = []
        for theta in self.initial:
            # the default initialization is overwritten at once: leave torch's global stream alone
            with torch.random.fork_rng(devices=[]):
                model = mlp_from_sizes(self.sizes)
            with torch.no_grad():
                flat = torch.from_numpy(np.array(theta))
                start = 0
                for p in model.parameters():
                    p.copy_(flat[start : start + p.numel()].reshape(p.shape))
                    start += p.numel()
            models.append(model)
        return models


def _train(job: _Job, data: Dataset, progress) -> list[tuple[History, History | None]]:
    """(network's run, linearized model's run or None) of ``job``, one pair per seed, in the order of ``job.seeds``."""
    o = job.options
    models = job.models()

    def one(model: nn.Module, seed: int, linearized: bool) -> History:
        return train(
            model,
            data,
            paradigm=job.config.paradigm,
            n_steps=o["n_steps"],
            save_every=o["save_every"],
            lr=o["lr"],
            seed=seed,
            backend=o["backend"],
            device=o["device"],
            dtype=o["dtype"],
            progress=progress,
            linearized=linearized,
        )

    if len(job.seeds) > 1:
        common = (o["n_steps"], o["save_every"], o["lr"], job.seeds, o["device"])
        networks = train_seeds(models, data, job.config.paradigm, *common, dtype=o["dtype"], progress=progress)
    else:
        networks = [one(models[0], job.seeds[0], False)]
    if not o["linearized"]:
        return [(h, None) for h in networks]
    return [(h, one(m, s, True)) for h, m, s in zip(networks, models, job.seeds)]


def _train_remote(job: _Job, data: Dataset) -> list[tuple[dict, dict | None]]:
    """What an executor runs: the job's runs as plain arrays (:meth:`History.to_arrays`)."""
    return [
        (net.to_arrays(), None if lin is None else lin.to_arrays()) for net, lin in _train(job, data, lambda k: None)
    ]


def _target_not_shipped(x):
    raise ValueError("the target function stays with the caller; a remote training needs only the arrays")


def _shippable(data: Dataset) -> Dataset:
    """``data`` without its target function (a lambda would not pickle; training needs only the arrays)."""
    return dataclasses.replace(data, f=_target_not_shipped)


def _run_on(executor: Executor, jobs: list[_Job], data: Dataset, update) -> list[tuple[dict, dict | None]]:
    """Run every job on ``executor``; (network, linearized or None) arrays per seed, in the order of ``jobs``.

    ``update(k)`` is called here, in the caller's thread, as each job's k trainings finish.
    A KeyboardInterrupt (or any failure) while waiting cancels the jobs not yet finished.
    """
    # longest first, so the biggest network does not start last and finish alone
    order = sorted(range(len(jobs)), key=lambda i: _cost(jobs[i].config), reverse=True)
    futures = {}
    try:
        for i in order:
            futures[executor.submit(_train_remote, jobs[i], data)] = i
        remaining = set(futures)
        while remaining:
            finished, remaining = wait(remaining, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in finished:
                future.result()  # a failed training raises here, and the rest are cancelled below
                update(len(jobs[futures[future]].seeds))
    except BaseException:
        for future in futures:
            future.cancel()
        raise
    results = {futures[f]: f.result() for f in futures}
    return [run for i in range(len(jobs)) for run in results[i]]


class _Cancelled(Exception):
    """Raised inside a worker's training, between two sub-chunks, once its sweep is cancelled."""


def _run(configs: list[Config], job, n_jobs: int, update) -> dict[Config, History]:
    """Run ``job(config, update)`` for every config, in ``n_jobs`` threads.

    Worker threads only add to a counter; this thread moves it to ``update``, so a
    notebook progress widget is only ever touched from the thread that made it.

    When anything goes wrong here (a training raises, or Ctrl-C raises KeyboardInterrupt
    in this thread while it waits), every queued training is cancelled, every running
    one stops at its next sub-chunk (its progress callback raises once ``stop`` is set),
    the worker threads are joined, and the first error is raised: nothing keeps running
    and no partial result is returned.
    """
    if n_jobs == 1:
        return {config: job(config, update) for config in configs}
    pending, lock, stop = [0], threading.Lock(), threading.Event()

    def tick(k: int) -> None:
        with lock:
            pending[0] += k
        if stop.is_set():
            raise _Cancelled

    def flush() -> None:
        with lock:
            k, pending[0] = pending[0], 0
        if k:
            update(k)

    pool = ThreadPoolExecutor(max_workers=n_jobs, thread_name_prefix="linfeat-sweep")
    try:
        # longest first, so the biggest network does not start last and finish alone
        futures = {config: pool.submit(job, config, tick) for config in sorted(configs, key=_cost, reverse=True)}
        remaining = set(futures.values())
        while remaining:
            _, remaining = wait(remaining, timeout=0.1, return_when=FIRST_EXCEPTION)
            flush()
            failed = [f for f in futures.values() if f.done() and not f.cancelled() and f.exception()]
            if failed:
                raise failed[0].exception()
        return {config: futures[config].result() for config in configs}
    except BaseException:
        stop.set()
        raise
    finally:
        _shut_down(pool)


def _shut_down(pool: ThreadPoolExecutor) -> None:
    """Cancel what has not started and join the workers (each ends within one sub-chunk)."""
    while True:
        try:
            pool.shutdown(wait=True, cancel_futures=True)
            return
        except KeyboardInterrupt:
            # a second Ctrl-C while the workers finish their sub-chunk: join them anyway,
            # so that no thread outlives the sweep
            continue


def _cost(config: Config) -> int:
    """Rough cost of one SGD step: multiply-adds of the network, plus a fixed overhead."""
    if config.paradigm == "ridge":
        return 0
    if config.paradigm == "output":
        return config.width
    return (config.depth - 1) * config.width**2 + 4 * config.width + 200


def _n_params(width: int, depth: int) -> int:
    """Parameters of make_mlp(width, depth): the first layer, depth - 1 square ones, the output."""
    return 2 * width + (depth - 1) * (width * width + width) + width + 1


def _check_sweep_memory(data, widths, depths, paradigms, n_steps, save_every, dtype, n_jobs, n_seeds=1) -> None:
    """Refuse a sweep whose networks, snapshots or running trainings would not fit, before building any.

    Every seed keeps its own runs, so the snapshots count ``n_seeds`` times.
    """
    configs = list(itertools.product(widths, depths))
    itemsize = 8 if dtype == "float64" else 4
    sizes = {(w, d): _n_params(w, d) for w, d in configs}
    trained = n_seeds * sum(
        sizes[w, d] * itemsize
        + (
            snapshot_bytes(sizes[w, d], 1, 1, dtype)
            if p == "ridge"
            else snapshot_bytes(sizes[w, d], n_steps, save_every, dtype)
        )
        for w, d in configs
        for p in paradigms
    )
    batch = max(1, data.n_samples // 5)
    running = max(working_bytes(d + 1, w, data, sizes[w, d], batch, dtype) for w, d in configs)
    biggest = max(configs, key=lambda c: sizes[c])
    check_memory(
        trained + min(n_jobs, n_seeds * len(configs) * len(paradigms)) * running,
        f"widths, depths, n_steps / save_every: this sweep "
        f"({n_seeds * len(configs) * len(paradigms)} training(s){f' over {n_seeds} seeds' if n_seeds > 1 else ''}, "
        f"up to width {max(widths):,} and "
        f"{sizes[biggest]:,} parameters, {n_steps // save_every + 2:,} snapshots each)",
        "use smaller widths or depths, " + ("fewer seeds, " if n_seeds > 1 else "") + "or raise save_every",
    )


def _values(name: str, values, check) -> tuple:
    if isinstance(values, np.ndarray) and values.ndim == 0:
        values = (values.item(),)  # a 0-d array is one value
    if isinstance(values, (str, int)) or not hasattr(values, "__iter__"):
        values = (values,)
    values = tuple(dict.fromkeys(check(v) for v in values))
    if not values:
        raise ValueError(f"{name} must hold at least one value")
    return values
