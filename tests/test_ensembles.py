"""Seed ensembles: sweep(seeds=...), Sweep.history(seed=), Sweep.band, and sweeps on an Executor."""

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch

import linfeat_widgets as lf
from linfeat_widgets.training.sweep import model_seed

SEEDS = (0, 1, 2, 5)


@pytest.fixture(autouse=True)
def one_torch_thread():
    # two intra-op threads on a shared two-core machine make the tiny torch loops crawl
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def ensemble(data):
    return lf.sweep(
        data, widths=(5, 6), paradigms=("all", "ridge"), seeds=SEEDS, n_steps=90, save_every=30, progress=False
    )


def _same_run(a, b):
    arrays = ("steps", "params", "train_error", "test_error", "initial_params")
    return all(np.array_equal(getattr(a, k), getattr(b, k)) for k in arrays) and a.config == b.config


def test_every_configuration_trains_for_every_seed(ensemble):
    assert ensemble.seeds == SEEDS
    assert len(ensemble) == 2 * 2 * len(SEEDS)
    assert {c.seed for c in ensemble} == set(SEEDS)
    for seed in SEEDS:
        history = ensemble.history(6, 1, "all", seed=seed)
        assert history.config["seed"] == seed
        assert ensemble[lf.Config(6, 1, "all", seed)] is history


def test_one_seed_is_todays_sweep_bit_for_bit(data):
    """A seed s trains make_mlp(seed=model_seed(s, w, d)) with minibatch seed s, as sweep(seed=s) always did."""
    one = lf.sweep(data, widths=(5,), depths=(1, 2), paradigms=("all", "output"), n_steps=70, save_every=30, seed=3)
    also = lf.sweep(data, widths=(5,), depths=(1, 2), paradigms=("all", "output"), n_steps=70, save_every=30, seeds=[3])
    assert one.seeds == also.seeds == (3,)
    for config, history in one.items():
        model = lf.make_mlp(
            config.width, depth=config.depth, seed=model_seed(3, config.width, config.depth), elbow_range=data.x_range
        )
        direct = lf.train(model, data, config.paradigm, n_steps=70, save_every=30, seed=3, progress=False)
        assert _same_run(history, direct)
        assert _same_run(history, also[config])


def test_lookups_without_a_seed_give_the_first_seed(ensemble):
    first = ensemble.history(5, 1, "all", seed=SEEDS[0])
    assert ensemble.history(5, 1, "all") is first
    assert ensemble[lf.Config(5, 1, "all")] is first
    assert ensemble.config(5, 1, "all") == lf.Config(5, 1, "all", SEEDS[0])
    assert lf.Config(5, 1, "all") in ensemble
    first_layer = ensemble.initial_model(5, 1, seed=2)[0].weight.detach().numpy()[:, 0]
    np.testing.assert_array_equal(first_layer, ensemble.history(5, 1, "ridge", seed=2).initial_params[:5])


def test_seeds_give_different_runs(ensemble):
    runs = [ensemble.history(6, 1, "all", seed=s) for s in SEEDS]
    for i, a in enumerate(runs):
        for b in runs[i + 1 :]:
            assert not np.array_equal(a.initial_params, b.initial_params)
            assert not np.array_equal(a.train_error, b.train_error)
    # each seed's paradigms share that seed's initial network
    for seed in SEEDS:
        assert np.array_equal(
            ensemble.history(6, 1, "all", seed=seed).initial_params,
            ensemble.history(6, 1, "ridge", seed=seed).initial_params,
        )


def test_the_seed_also_sets_the_minibatch_stream(data):
    """Same initial network, different seed: the minibatches alone make the runs differ."""
    model = lf.make_mlp(5, seed=0)
    a = lf.train(model, data, n_steps=5, save_every=5, seed=0, progress=False)
    b = lf.train(model, data, n_steps=5, save_every=5, seed=1, progress=False)
    s = lf.sweep(data, widths=5, seeds=(0, 1), n_steps=5, save_every=5, progress=False)
    assert not np.array_equal(a.params, b.params)
    assert s.history(seed=1).config["seed"] == 1


def test_band_is_numpys_percentiles(ensemble):
    band = ensemble.band(width=6, depth=1, paradigm="all")
    runs = [ensemble.history(6, 1, "all", seed=s) for s in SEEDS]
    train = np.stack([r.train_error for r in runs])  # (K, S)
    test = np.stack([r.test_error for r in runs])
    assert band.seeds == SEEDS
    np.testing.assert_array_equal(band.steps, runs[0].steps)
    assert band.train.shape == band.test.shape == (3, len(runs[0].steps))
    for row, q in enumerate((25, 50, 75)):
        np.testing.assert_allclose(band.train[row], np.percentile(train, q, axis=0), rtol=0, atol=0)
        np.testing.assert_allclose(band.test[row], np.percentile(test, q, axis=0), rtol=0, atol=0)
    # quartiles are ordered and inside the seeds' range
    assert np.all(band.test[0] <= band.test[1]) and np.all(band.test[1] <= band.test[2])
    assert np.all(band.test[0] >= test.min(axis=0)) and np.all(band.test[2] <= test.max(axis=0))
    with pytest.raises(ValueError, match="read-only"):
        band.test[0, 0] = 0.0


def test_band_of_four_seeds_by_hand(ensemble):
    """Four values a<b<c<d: numpy's linear quartiles are a+3(b-a)/4, (b+c)/2 and c+(d-c)/4."""
    band = ensemble.band(5, 1, "ridge")
    a, b, c, d = np.sort([ensemble.history(5, 1, "ridge", seed=s).test_error[0] for s in SEEDS])
    np.testing.assert_allclose(band.test[:, 0], [a + 0.75 * (b - a), (b + c) / 2, c + 0.25 * (d - c)], rtol=1e-12)


def test_band_of_one_seed_is_that_seed(data):
    s = lf.sweep(data, widths=5, n_steps=40, save_every=20, progress=False)
    band = s.band()
    for row in band.test:
        np.testing.assert_array_equal(row, s.history().test_error)


def test_a_progress_callback_sees_every_step_of_every_seed(data):
    seen = []
    lf.sweep(data, widths=(3,), paradigms=("all", "ridge"), seeds=(0, 1, 2), n_steps=40, progress=seen.append)
    assert sum(seen) == 3 * 40


def test_a_sweep_built_from_configs_without_seeds_takes_the_historys_seed(data):
    history = lf.train(lf.make_mlp(4, seed=0), data, n_steps=10, seed=7, progress=False)
    s = lf.Sweep(data, {lf.Config(4, 1, "all"): history}, {})
    assert s.seeds == (7,)
    assert s.history() is history and s[lf.Config(4, 1, "all")] is history
    with pytest.raises(ValueError, match="twice"):
        lf.Sweep(data, {lf.Config(4, 1, "all"): history, lf.Config(4, 1, "all", 7): history}, {})
    with pytest.raises(ValueError, match="keyed by Config"):
        lf.Sweep(data, {(4, 1, "all"): history}, {})


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"seeds": ()}, "seeds must hold at least one value"),
        ({"seeds": (0, -1)}, r"seeds must hold integers in \[0, 2\*\*63 - 1\]; got -1"),
        ({"seeds": (0, 2**63)}, "seeds must hold integers"),
        ({"seeds": (True,)}, "seeds must hold integers"),
        ({"seeds": (0, 1), "seed": 0}, r"seed and seeds disagree \(seed=0, seeds=\(0, 1\)\)"),
        ({"seeds": (2,), "seed": 1}, "seed and seeds disagree"),
        ({"executor": "dask"}, "executor must be a concurrent.futures.Executor"),
        ({"batch_seeds": True}, "batch_seeds=True needs backend='torch'"),
        ({"batch_seeds": "yes", "backend": "torch"}, "batch_seeds must be True, False or None"),
        ({"device": "tpu"}, "device must be"),
        ({"n_steps": 0}, "n_steps must be an integer >= 1"),
        ({"save_every": 1.5}, "save_every must be an integer"),
        ({"dtype": "float16"}, "dtype must be one of"),
        ({"lr": -1.0}, "lr must be"),
    ],
)
def test_bad_ensemble_arguments(data, kwargs, match):
    kwargs = {"n_steps": 2, **kwargs}
    with pytest.raises(ValueError, match=match):
        lf.sweep(data, widths=3, progress=False, **kwargs)


def test_seed_and_seeds_may_agree(data):
    assert lf.sweep(data, widths=3, n_steps=2, progress=False, seed=4, seeds=(4,)).seeds == (4,)


def test_lookup_of_a_seed_not_swept(ensemble):
    with pytest.raises(ValueError, match=r"seed must be one of \(0, 1, 2, 5\)"):
        ensemble.history(5, 1, "all", seed=3)


# --- runs as arrays, and sweeps on an Executor ---------------------------------------------


def test_history_round_trips_through_arrays(ensemble):
    history = ensemble.history(6, 1, "all", seed=1)
    arrays = history.to_arrays()
    assert not any(isinstance(v, torch.nn.Module) for v in arrays.values())
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    again = lf.History.from_arrays(arrays)
    assert torch.equal(torch.rand(3), expected)  # rebuilding drew nothing from torch's global stream
    assert _same_run(again, history)
    for p, q in zip(again.model(30).parameters(), history.model(30).parameters()):
        assert torch.equal(p, q)
    with pytest.raises(ValueError, match=r"missing \['config'\]"):
        lf.History.from_arrays({k: v for k, v in arrays.items() if k != "config"})


def test_a_sweep_on_an_executor_equals_the_local_sweep(data, ensemble):
    ticks = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        remote = lf.sweep(
            data,
            widths=(5, 6),
            paradigms=("all", "ridge"),
            seeds=SEEDS,
            n_steps=90,
            save_every=30,
            executor=pool,
            progress=ticks.append,
        )
    assert list(remote) == list(ensemble)
    assert all(_same_run(remote[c], ensemble[c]) for c in ensemble)
    assert ticks == [1] * len(ensemble)  # the progress counts finished trainings


def test_a_target_lambda_stays_home(data):
    """The data's target function is not shipped, so a lambda target does not stop a remote sweep."""
    squares = lf.make_dataset(target=lambda x: x**2, n_samples=20)
    with ThreadPoolExecutor(max_workers=1) as pool:
        s = lf.sweep(squares, widths=3, n_steps=10, executor=pool, progress=False)
    assert s.data is squares
    assert _same_run(s.history(), lf.sweep(squares, widths=3, n_steps=10, progress=False).history())


class _Recording(ThreadPoolExecutor):
    def __init__(self):
        super().__init__(max_workers=1)
        self.futures = []

    def submit(self, fn, /, *args, **kwargs):
        future = super().submit(fn, *args, **kwargs)
        self.futures.append(future)
        return future


def test_an_interrupt_while_waiting_cancels_the_outstanding_trainings(data):
    pool = _Recording()

    def interrupt(k):
        raise KeyboardInterrupt

    with pool, pytest.raises(KeyboardInterrupt):
        lf.sweep(data, widths=(3, 4, 5, 6), n_steps=300, backend="torch", executor=pool, progress=interrupt)
    assert len(pool.futures) == 4
    assert sum(f.cancelled() for f in pool.futures) >= 2  # one finished, at most one was running
    assert not [t for t in threading.enumerate() if t.name.startswith("linfeat-sweep")]


def test_a_failed_remote_training_raises_and_cancels_the_rest(data):
    pool = _Recording()
    with pool, pytest.raises(lf.TrainingDiverged):
        lf.sweep(data, widths=(3, 4, 5), n_steps=300, lr=1e6, backend="torch", executor=pool, progress=False)
    assert any(f.cancelled() for f in pool.futures)


def test_a_linearized_run_round_trips_through_arrays(data):
    history = lf.train(lf.make_mlp(5, seed=0), data, n_steps=40, save_every=20, linearized=True, progress=False)
    again = lf.History.from_arrays(history.to_arrays())
    assert _same_run(again, history)
    x = torch.linspace(0, 1, 9)[:, None]
    assert type(again.model(20)) is type(history.model(20))
    assert torch.equal(again.model(20)(x), history.model(20)(x))


def test_a_band_needs_the_same_snapshots_for_every_seed(data):
    a = lf.train(lf.make_mlp(3, seed=0), data, n_steps=20, save_every=10, seed=0, progress=False)
    b = lf.train(lf.make_mlp(3, seed=1), data, n_steps=30, save_every=10, seed=1, progress=False)
    s = lf.Sweep(data, {lf.Config(3, 1, "all", 0): a, lf.Config(3, 1, "all", 1): b}, {})
    assert s.seeds == (0, 1)
    with pytest.raises(ValueError, match="saved different steps"):
        s.band()


def test_the_memory_check_counts_every_seed(data, monkeypatch):
    import importlib

    from linfeat_widgets.training import plan

    sweep = importlib.import_module("linfeat_widgets.training.sweep")  # the module, not the function

    # 10 million snapshots of a width-3 network: about 0.64 GB per run, 5.1 GB for eight seeds
    monkeypatch.setattr(plan, "memory_budget", lambda: 2 * 10**9)
    args = (data, (3,), (1,), ("all",), 10_000_000, 1, "float32", 1)
    sweep._check_sweep_memory(*args, 1)  # one seed fits
    with pytest.raises(ValueError, match=r"this sweep \(8 training\(s\) over 8 seeds.*fewer seeds"):
        sweep._check_sweep_memory(*args, 8)
    with pytest.raises(ValueError, match=r"over 8 seeds"):
        lf.sweep(data, widths=3, n_steps=10_000_000, save_every=1, seeds=range(8), progress=False)


def test_linearized_runs_for_every_seed_locally_and_on_an_executor(data):
    kwargs = dict(widths=4, paradigms=("all", "ridge"), seeds=(0, 2), n_steps=30, save_every=15, linearized=True)
    local = lf.sweep(data, progress=False, **kwargs)
    assert local.has_linearized
    for seed in (0, 2):
        net = local.history(4, 1, "all", seed=seed)
        lin = local.history(4, 1, "all", seed=seed, linearized=True)
        assert lin.config["linearized"] is True and lin.config["seed"] == seed
        np.testing.assert_array_equal(lin.initial_params, net.initial_params)  # same theta_0
        alone = lf.train(
            net.model(0), data, "all", n_steps=30, save_every=15, seed=seed, linearized=True, progress=False
        )
        assert _same_run(lin, alone)
    assert not np.array_equal(local.history(seed=0, paradigm="all", linearized=True).params, lin.params)
    with ThreadPoolExecutor(max_workers=2) as pool:
        remote = lf.sweep(data, executor=pool, progress=False, **kwargs)
    for config in local:
        assert _same_run(remote[config], local[config])
        assert _same_run(
            remote.history(config.width, config.depth, config.paradigm, config.seed, linearized=True),
            local.history(config.width, config.depth, config.paradigm, config.seed, linearized=True),
        )
