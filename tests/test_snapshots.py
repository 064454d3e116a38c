import numpy as np
import pytest

import linfeat_widgets as lf
from linfeat_widgets.snapshots import kept_columns


@pytest.fixture(scope="module")
def history(data):
    return lf.train(lf.make_mlp(6, depth=2, seed=0), data, n_steps=60, save_every=20, progress=False)


@pytest.fixture
def cache(history, data):
    return lf.SnapshotCache(history, data, n_grid=64, n_principal=3, max_columns=10)


def test_grid_spans_the_test_range(cache, data):
    assert cache.grid.shape == (64,)
    assert cache.grid[0] == data.test_range[0] and cache.grid[-1] == data.test_range[1]
    assert not cache.grid.flags.writeable
    assert cache.keys == ("0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias", "all")


@pytest.mark.parametrize("step", [0, 1, 40, 60])
def test_snapshot_is_the_math_api_on_the_snapshots_model(cache, history, data, step):
    snap = cache.snapshot(step)
    model = history.model(step)
    assert np.array_equal(snap.prediction, lf.predict(model, cache.grid))
    assert np.array_equal(snap.weights, model[0].weight.detach().double().numpy()[:, 0])
    assert np.array_equal(snap.biases, model[0].bias.detach().double().numpy())
    spectrum = lf.feature_svd(model, data.X, cache.grid, n_components=3)
    np.testing.assert_allclose(snap.singular_values, spectrum.singular_values, rtol=1e-12)
    np.testing.assert_allclose(snap.principal_features, spectrum.principal_features, rtol=1e-10, atol=1e-12)
    assert snap.principal_features.shape == (64, 3)
    if step == 0:
        assert np.isnan(snap.train_error) and np.isnan(snap.test_error)
    else:
        i = history.index(step)
        assert snap.train_error == history.train_error[i] and snap.test_error == history.test_error[i]


def test_snapshots_and_features_are_computed_once(cache):
    assert not cache.is_cached(20)
    first = cache.snapshot(20)
    assert cache.is_cached(20) and cache.snapshot(20) is first
    features = cache.features(20, "0.bias")
    assert cache.is_cached(20, "0.bias") and cache.features(20, "0.bias") is features
    assert not cache.is_cached(20, "0.weight")


@pytest.mark.parametrize("key", ["0.weight", "0.bias", "2.weight", "4.bias", "all"])
def test_features_are_linearize_columns(cache, history, key):
    features = cache.features(40, key)
    block = lf.linearize(history.model(40), cache.grid).columns(key)
    assert features.n_columns == block.shape[1]
    assert np.array_equal(features.columns, kept_columns(block.shape[1], 10))
    assert np.array_equal(features.values, block[:, features.columns])
    assert features.capped == (block.shape[1] > 10)


def test_wide_blocks_keep_evenly_spaced_columns():
    assert kept_columns(5, 10).tolist() == [0, 1, 2, 3, 4]
    kept = kept_columns(1761, 120)
    assert len(kept) == 120 and kept[0] == 0 and kept[-1] == 1760
    assert np.all(np.diff(kept) > 0)


def test_memory_is_bounded(history, data):
    cache = lf.SnapshotCache(history, data, n_grid=64, max_bytes=20_000)
    for step in history.steps:
        cache.features(int(step), "all")
    assert cache.nbytes <= 20_000 or len(cache._store) == 1
    assert cache.is_cached(60, "all") and not cache.is_cached(1, "all")


def test_bad_arguments(cache, history, data):
    with pytest.raises(ValueError, match="layer must be one of '0.weight'"):
        cache.features(20, "1.weight")
    with pytest.raises(ValueError, match="step 7 was not saved"):
        cache.snapshot(7)
    with pytest.raises(ValueError, match="history must be a History"):
        lf.SnapshotCache({}, data)
    with pytest.raises(ValueError, match="data must be a Dataset"):
        lf.SnapshotCache(history, None)
    with pytest.raises(ValueError, match="n_grid must be an integer >= 2"):
        lf.SnapshotCache(history, data, n_grid=1)
