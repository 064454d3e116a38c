"""The Explorer over a sweep of several seeds: a seed selector, quartile bands in two panels."""

import numpy as np
import pytest

import linfeat_widgets as lf
from linfeat_widgets.ensemble import EnsembleCache

SEEDS = (0, 1, 2, 3, 4)


@pytest.fixture(autouse=True)
def agg(agg_backend):
    """Every test here under Agg (the shared fixture in conftest.py)."""


@pytest.fixture(scope="module")
def ensemble(data):
    return lf.sweep(data, widths=(3, 4), paradigms=("all", "ridge"), seeds=SEEDS, n_steps=60, save_every=20)


@pytest.fixture
def explorer(ensemble):
    e = lf.Explorer(ensemble, n_grid=48, max_lines=8)
    yield e
    e.close()


def _refreshes(explorer):
    return {name: host.full_draws + host.blits for name, host in explorer.hosts.items()}


def _band_outline(x, quartiles):
    low, _, high = quartiles
    return np.concatenate([np.column_stack([x, low]), np.column_stack([x[::-1], high[::-1]])])


def test_the_seed_selector_switches_runs(explorer, ensemble):
    assert explorer.seed_selector.choices == SEEDS and explorer.seed_selector.layout.display != "none"
    assert explorer.seed == 0 and explorer.history is ensemble.history(3, 1, "all", seed=0)
    explorer.seed_selector.value = 3
    assert explorer.seed == 3
    assert explorer.history is ensemble.history(3, 1, "all", seed=3)
    np.testing.assert_array_equal(explorer.error_panel.test_line.get_ydata(), explorer.history.test_error)
    assert "seed 3 of 5" in explorer.status.value
    explorer.width = 4  # the seed stays
    assert explorer.history is ensemble.history(4, 1, "all", seed=3)
    explorer.select(seed=1, iteration=20)
    assert explorer.history is ensemble.history(4, 1, "all", seed=1) and explorer.iteration == 20
    with pytest.raises(ValueError, match=r"seed must be one of \(0, 1, 2, 3, 4\)"):
        explorer.seed = 9
    assert explorer.seed == 1


def test_a_new_seed_redraws_each_panel_once(explorer):
    before = _refreshes(explorer)
    explorer.seed = 2
    after = _refreshes(explorer)
    assert {name: after[name] - before[name] for name in after} == dict.fromkeys(after, 1)


def test_error_panel_draws_the_quartile_band_under_the_selected_seed(explorer, ensemble):
    explorer.seed = 4
    panel, band = explorer.error_panel, ensemble.band(3, 1, "all")
    steps = band.steps.astype(float)
    for quartiles, drawn in ((band.test, panel.test_band), (band.train, panel.train_band)):
        np.testing.assert_allclose(
            drawn.fill.get_paths()[0].vertices[: 2 * len(steps)], _band_outline(steps, quartiles)
        )
        np.testing.assert_allclose(drawn.median.get_ydata(), quartiles[1])
        assert drawn.fill.get_zorder() < panel.test_line.get_zorder()  # the selected seed on top
    np.testing.assert_array_equal(panel.test_line.get_ydata(), ensemble.history(3, 1, "all", seed=4).test_error)
    low, high = panel.ax.get_ylim()
    assert low <= band.train.min() and band.test.max() <= high


def test_spectrum_panel_draws_the_band_across_seeds_at_the_selected_step(explorer, ensemble):
    for step in (20, 1, 60):
        explorer.iteration = step
        spectra = [
            lf.SnapshotCache(ensemble.history(3, 1, "all", seed=s), ensemble.data).snapshot(step).singular_values
            for s in SEEDS
        ]
        k = min(map(len, spectra))
        expected = np.percentile(np.stack([s[:k] for s in spectra]), (25, 50, 75), axis=0)
        band = explorer.spectrum_panel.band
        np.testing.assert_allclose(band.median.get_ydata(), expected[1], rtol=1e-10)
        x = np.arange(1, k + 1, dtype=float)
        np.testing.assert_allclose(band.fill.get_paths()[0].vertices[: 2 * k], _band_outline(x, expected), rtol=1e-10)
        np.testing.assert_allclose(explorer.spectrum_panel.current.get_ydata(), spectra[explorer.seed], rtol=1e-12)
    assert band.fill in explorer.spectrum_panel.animated  # it moves with the step: blitted, not a full draw


def test_one_seed_shows_no_selector_and_no_bands(data):
    single = lf.sweep(data, widths=3, n_steps=20, save_every=10, progress=False)
    e = lf.Explorer(single, n_grid=32)
    try:
        assert e.seed_selector.layout.display == "none"
        assert e.error_panel.test_band is None and e.spectrum_panel.band is None
        assert e._ensemble(e._config) is None
    finally:
        e.close()


def test_ensemble_cache_spectrum_band_is_cached_and_read_only(ensemble):
    cache = EnsembleCache(ensemble, lf.Config(4, 1, "all"))
    assert cache.seeds == SEEDS
    band = cache.spectrum_band(40)
    assert band.shape[0] == 3 and cache.spectrum_band(40) is band
    assert np.all(band[0] <= band[1]) and np.all(band[1] <= band[2])
    with pytest.raises(ValueError, match="read-only"):
        band[0, 0] = 1.0
    with pytest.raises(ValueError, match="sweep must be a Sweep"):
        EnsembleCache({}, lf.Config(4, 1, "all"))


def test_the_run_shown_first_may_name_its_seed(ensemble):
    e = lf.Explorer(ensemble, width=4, paradigm="ridge", seed=2, n_grid=32)
    try:
        assert e.seed == 2 and e.seed_selector.value == 2
        assert e.history is ensemble.history(4, 1, "ridge", seed=2)
        np.testing.assert_allclose(e.error_panel.test_band.median.get_ydata(), ensemble.band(4, 1, "ridge").test[1])
    finally:
        e.close()
    with pytest.raises(ValueError, match="seed must be one of"):
        lf.Explorer(ensemble, seed=7)


def test_explore_trains_an_ensemble_in_one_call():
    e = lf.explore(widths=(3,), seeds=(0, 1), n_steps=20, save_every=10, progress=False, mode="image", n_grid=32)
    try:
        assert e.sweep.seeds == (0, 1) and e.error_panel.test_band is not None
    finally:
        e.close()


def test_the_linearized_overlay_follows_the_selected_seed(data):
    runs = lf.sweep(data, widths=3, seeds=(0, 1), n_steps=20, save_every=10, linearized=True, progress=False)
    e = lf.Explorer(runs, n_grid=32, mode="image")
    try:
        e.seed = 1
        linearized = runs.history(3, 1, "all", seed=1, linearized=True)
        assert e._theory(e._config).linearized is linearized
        np.testing.assert_array_equal(e.error_panel.linearized_line.get_ydata(), linearized.test_error)
    finally:
        e.close()
