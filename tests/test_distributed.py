"""sweep(executor=...) on a real Dask cluster with worker processes (the ``distributed`` extra)."""

import numpy as np
import pytest
import torch
from dask import distributed  # not importorskip: the test extra installs it, and this test must run in CI

import linfeat_widgets as lf

SWEEP = dict(widths=(5,), depths=(1, 2), paradigms=("all", "ridge"), seeds=(0, 3), n_steps=80, save_every=40)


@pytest.fixture(autouse=True)
def one_torch_thread():
    # the workers run one torch thread each (Dask sets OMP_NUM_THREADS=1); so does this process
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def client():
    # worker processes, as on a real cluster: every run crosses a process boundary as arrays
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["auto", "torch"])
def test_a_dask_sweep_is_bit_identical_to_the_local_one(data, client, backend):
    ticks = []
    remote = lf.sweep(data, backend=backend, executor=client.get_executor(), progress=ticks.append, **SWEEP)
    local = lf.sweep(data, backend=backend, progress=False, **SWEEP)
    assert list(remote) == list(local)
    for config in local:
        a, b = local[config], remote[config]
        for name in ("steps", "params", "train_error", "test_error", "initial_params"):
            assert np.array_equal(getattr(a, name), getattr(b, name)), (config, name)
        assert a.config == b.config
    assert ticks == [1] * len(local)
    # the trainings really ran in the workers' processes
    assert len(client.scheduler_info()["workers"]) == 2
    assert sum(client.run(lambda: 1).values()) == 2


@pytest.mark.slow
def test_batched_seeds_on_dask_match_local(data, client):
    kwargs = dict(SWEEP, backend="torch", batch_seeds=True, dtype="float64")
    remote = lf.sweep(data, executor=client.get_executor(), progress=False, **kwargs)
    local = lf.sweep(data, progress=False, **kwargs)
    for config in local:
        assert np.array_equal(local[config].params, remote[config].params), config
