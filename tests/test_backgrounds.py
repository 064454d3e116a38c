"""Saved backgrounds (issue 12's latency): fingerprints, the store, restores that match a full draw, the warmer."""

import asyncio
import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

import linfeat_widgets as lf
from linfeat_widgets.canvas import BackgroundStore, FigureHost, encode_png, new_figure, prerender
from linfeat_widgets.figure_state import static_fingerprint
from linfeat_widgets.warmup import Warmer

pytestmark = pytest.mark.filterwarnings(
    "ignore:Passing unrecognized arguments to super\\(Toolbar\\):DeprecationWarning"
)


@pytest.fixture(autouse=True)
def agg(agg_backend):
    """Every test here under Agg (the shared fixture in conftest.py)."""


@pytest.fixture(scope="module")
def runs(data):
    return lf.sweep(data, widths=(4, 8), depths=(1, 2), n_steps=300, save_every=50, progress=False)


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(bytes(png))).convert("RGBA"))


def _plot(dpi=80, title="t", ylim=(0, 1)):
    figure = Figure(figsize=(3, 2), dpi=dpi)
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    (static,) = ax.plot([0, 1], [0, 1])
    (moving,) = ax.plot([0, 1], [1, 0], animated=True)
    ax.set_title(title)
    ax.set_ylim(*ylim)
    return figure, static, moving


# --- fingerprints -------------------------------------------------------------------------------
def test_fingerprint_is_the_state_not_the_figure():
    a, static_a, moving_a = _plot()
    b, _, moving_b = _plot()
    assert static_fingerprint(a, [moving_a]) == static_fingerprint(b, [moving_b])  # twins agree
    before = static_fingerprint(a, [moving_a])
    moving_a.set_ydata([0.3, 0.7])
    assert static_fingerprint(a, [moving_a]) == before  # the animated artist is left out
    for change in (
        lambda: static_a.set_ydata([0.2, 0.9]),
        lambda: static_a.set_color("red"),
        lambda: a.axes[0].set_ylim(0, 2),
        lambda: a.axes[0].set_xscale("log"),
        lambda: a.axes[0].set_title("other"),
        lambda: a.axes[0].set_xticks([0.25, 0.5]),
        lambda: static_a.set_visible(False),
        lambda: a.set_dpi(100),
    ):
        change()
        now = static_fingerprint(a, [moving_a])
        assert now != before, change
        before = now


def test_fingerprint_of_an_unknown_artist_never_repeats():
    from matplotlib.artist import Artist

    class Odd(Artist):
        def draw(self, renderer):
            pass

    figure, _, moving = _plot()
    figure.axes[0].add_artist(Odd())
    assert static_fingerprint(figure, [moving]) != static_fingerprint(figure, [moving])
    with pytest.raises(ValueError, match="figure"):
        static_fingerprint("figure")


def test_fingerprint_is_the_same_before_and_after_a_draw():
    figure, _, moving = _plot()
    before = static_fingerprint(figure, [moving])
    figure.canvas.draw()
    assert static_fingerprint(figure, [moving]) == before


# --- the store ----------------------------------------------------------------------------------
def test_store_drops_the_least_recently_used_beyond_its_bound():
    store = BackgroundStore(max_bytes=3 * 4 * 10 * 10)
    for key in (b"a", b"b", b"c"):
        store.put(key, object(), (10, 10))
    assert len(store) == 3 and store.nbytes == 1200
    assert store.get(b"a") is not None and store.hits == 1  # a is now the most recent
    store.put(b"d", object(), (10, 10))
    assert b"b" not in store and b"a" in store and b"d" in store and store.nbytes == 1200
    assert store.get(b"zz") is None and store.hits == 1
    store.clear()
    assert len(store) == 0 and store.nbytes == 0
    with pytest.raises(ValueError, match="max_bytes"):
        BackgroundStore(max_bytes=-1)


# --- hosts: a restored background shows what a full draw shows ----------------------------------
def test_host_restores_a_state_drawn_before_instead_of_drawing_it_again():
    figure, _, moving = _plot()
    host = FigureHost(figure, [moving])
    host.refresh(full=True)
    first = _pixels(host.widget.value)
    ax = figure.axes[0]
    ax.set_ylim(-1, 3)
    host.refresh(full=True)
    assert host.full_draws == 2
    ax.set_ylim(0, 1)  # back to the first state: its background is restored
    host.refresh(full=True)
    assert host.full_draws == 2 and host.restores == 1
    assert np.array_equal(_pixels(host.widget.value), first)


def test_prerender_on_a_twin_fills_the_shown_hosts_store():
    shown, _, moving = _plot()
    host = FigureHost(shown, [moving])
    host.refresh(full=True)
    twin, _, twin_moving = _plot(ylim=(-2, 2))
    assert prerender(twin, [twin_moving], host.backgrounds) is True
    assert prerender(twin, [twin_moving], host.backgrounds) is False  # kept already
    shown.axes[0].set_ylim(-2, 2)
    host.refresh(full=True)
    assert host.restores == 1 and host.full_draws == 1
    restored = _pixels(host.widget.value)
    host.backgrounds.clear()
    host.refresh(full=True)
    assert host.full_draws == 2
    assert np.array_equal(_pixels(host.widget.value), restored)
    with pytest.raises(ValueError, match="backgrounds"):
        prerender(twin, [], {})


def _frames(explorer) -> dict:
    return {name: _pixels(host.widget.value) for name, host in explorer.hosts.items()}


def _full_frames(explorer) -> dict:
    """Each host's frame from a full draw of its current state; what each host keeps is left as it was."""
    frames = {}
    for name, host in explorer.hosts.items():
        kept = dict(host.backgrounds._items)
        host.backgrounds.clear()
        host.refresh(full=True)
        frames[name] = _pixels(host.widget.value)
        host.backgrounds._items.update(kept)
    return frames


_ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("width"), st.sampled_from([4, 8])),
        st.tuples(st.just("depth"), st.sampled_from([1, 2])),
        st.tuples(st.just("layer"), st.sampled_from(["0.weight", "0.bias", "2.weight", "all"])),
        st.tuples(st.just("iteration"), st.sampled_from([1, 50, 150, 300])),
        st.tuples(st.just("compare"), st.booleans()),
        st.tuples(st.just("fit_step"), st.booleans()),
        st.tuples(st.just("log_steps"), st.booleans()),
        st.tuples(st.just("warm_up"), st.none()),
    ),
    min_size=4,
    max_size=12,
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=_ACTIONS)
def test_what_is_shown_is_what_a_full_draw_shows(runs, actions):
    """Whatever the path (switches, scrubbing, toggles, drawing ahead), each frame is a full draw's, to the pixel."""
    explorer = lf.Explorer(runs, n_grid=48, mode="image", dpi=60)
    try:
        for name, value in actions:
            if name == "warm_up":
                explorer.warm_up()
                continue
            if name == "layer" and value not in explorer.snapshots.keys:
                value = "all"
            explorer.select(**{name: value})
            shown = _frames(explorer)
            full = _full_frames(explorer)
            for panel in shown:
                assert np.array_equal(shown[panel], full[panel]), (panel, name, value)
    finally:
        explorer.close()


def test_after_warming_up_switches_restore_instead_of_drawing(runs):
    explorer = lf.Explorer(runs, n_grid=48, mode="image", dpi=60, width=8, depth=2)
    try:
        explorer.warm_up()
        assert explorer.warmer.done and explorer.warmer.steps > 0
        # every snapshot of the run shown and of its neighbours, and every layer's range, are ready
        for config in (explorer._config, *explorer._neighbours()):
            cache = explorer._cache(config)
            assert all(cache.is_cached(int(s)) for s in cache.steps)
        draws = {name: host.full_draws for name, host in explorer.hosts.items()}
        for layer in ("0.bias", "2.weight", "all", "0.weight"):
            explorer.layer = layer
        explorer.width = 4
        assert {name: host.full_draws for name, host in explorer.hosts.items()} == draws
        explorer.warm_up()  # what the kernel does once the user pauses
        explorer.depth = 1
        explorer.warm_up()
        explorer.select(depth=2, width=8)  # back where it started
        assert {name: host.full_draws for name, host in explorer.hosts.items()} == draws
        assert explorer.hosts["features"].restores >= 6 and explorer.hosts["errors"].restores >= 3
    finally:
        explorer.close()


# --- the warmer --------------------------------------------------------------------------------
def test_warmer_runs_in_idle_time_and_starts_over_on_each_restart():
    done = []

    def plan():
        for i in range(5):
            done.append(i)
            yield

    async def main():
        warmer = Warmer(asyncio.get_running_loop(), plan, idle=0.05, budget=0.0)
        warmer.restart()
        for _ in range(6):  # the user keeps acting: nothing runs
            await asyncio.sleep(0.01)
            warmer.restart()
        assert done == []
        await asyncio.sleep(0.2)
        assert warmer.done and done == [0, 1, 2, 3, 4] and warmer.steps == 5
        warmer.restart()
        await asyncio.sleep(0.06)
        warmer.stop()
        return warmer

    asyncio.run(main())


def test_warmer_keeps_a_failing_step_to_itself():
    def plan():
        yield
        raise RuntimeError("boom")

    async def main():
        warmer = Warmer(asyncio.get_running_loop(), plan, idle=0.0)
        warmer.restart()
        await asyncio.sleep(0.05)
        return warmer

    warmer = asyncio.run(main())
    assert isinstance(warmer.error, RuntimeError) and not warmer.done and warmer.steps == 1
    with pytest.raises(ValueError, match="plan"):
        Warmer(None, "plan")
    with pytest.raises(ValueError, match="idle"):
        Warmer(None, plan, idle=-1)
    inert = Warmer(None, plan)
    inert.restart()  # no loop: nothing scheduled
    assert not inert.done and inert.steps == 0


def test_explorer_warms_up_by_itself_in_a_running_event_loop(runs):
    async def main():
        explorer = lf.Explorer(runs, n_grid=48, mode="image", dpi=60, width=8, background=True)
        explorer.warmer.restart(delay=0.0)
        for _ in range(400):
            await asyncio.sleep(0.01)
            if explorer.warmer.done:
                break
        return explorer

    explorer = asyncio.run(main())
    try:
        assert explorer.warmer.done and explorer.warmer.error is None
        assert len(explorer.hosts["features"].backgrounds) >= len(explorer.snapshots.keys)
    finally:
        explorer.close()


# --- the feature range --------------------------------------------------------------------------
def test_feature_range_is_exact_and_leaves_the_cache_alone(runs, data):
    history = runs.history(width=8, depth=2)
    cache = lf.SnapshotCache(history, data, n_grid=48, max_columns=5)
    low, high = cache.feature_range("all")
    assert len(cache._store) == 0  # ranges do not fill the cache with every step's features
    steps = (0, *history.steps.tolist())
    values = np.concatenate([cache.features(s, "all").values.ravel() for s in steps])
    assert (low, high) == (values.min(), values.max())  # exactly: the same kept columns, the same numbers
    assert list(cache.warm()) == [None] * len(steps)  # the ranges are done: only the snapshots are left
    assert all(cache.is_cached(s) for s in steps)


# --- ipympl frames -------------------------------------------------------------------------------
def test_ipympl_frames_are_matplotlibs_protocol_with_a_faster_encoder():
    pytest.importorskip("ipympl")
    figure = new_figure((3, 2), 60, "ipympl")
    canvas = figure.canvas
    ax = figure.add_subplot()
    (line,) = ax.plot([0, 1], [0, 1])
    canvas.draw()
    canvas._png_is_old = True
    canvas._force_full = True
    full = canvas.get_diff_image()
    assert canvas._current_image_mode == "full"
    pixels = np.asarray(canvas.buffer_rgba()).copy()
    assert np.array_equal(_pixels(full), pixels)
    assert canvas.get_diff_image() is None  # nothing new
    line.set_ydata([1, 0])
    FigureCanvasAgg.draw(canvas)
    canvas._png_is_old = True
    diff = _pixels(canvas.get_diff_image())
    assert canvas._current_image_mode == "diff"
    now = np.asarray(canvas.buffer_rgba())
    changed = (now != pixels).any(axis=2)
    assert changed.any() and np.array_equal(diff[changed], now[changed]) and (diff[~changed] == 0).all()
    assert encode_png(now) == encode_png(now.copy())


def test_ipympl_full_refresh_is_drawn_and_sent_at_once_once_a_front_end_shows_the_canvas(monkeypatch):
    pytest.importorskip("ipympl")
    figure = new_figure((3, 2), 60, "ipympl")
    ax = figure.add_subplot()
    (moving,) = ax.plot([0, 1], [0, 1], animated=True)
    host = FigureHost(figure, [moving])
    canvas = figure.canvas
    idle, frames = [], []
    monkeypatch.setattr(canvas, "draw_idle", lambda: idle.append(1))
    monkeypatch.setattr(canvas, "send_binary", lambda data: frames.append(bytes(data)))
    host.refresh(full=True)
    assert idle == [1] and frames == [] and host.awaiting_draw  # no front end yet: it asks for a frame when shown
    canvas.syncing_data_url = False  # what ipympl sets when a front end says "initialized"
    host.refresh(full=True)
    assert idle == [1] and len(frames) == 1 and frames[0].startswith(b"\x89PNG") and not host.awaiting_draw
    moving.set_ydata([1, 0])
    host.refresh()
    assert len(frames) == 2 and host.blits == 1 and host.full_draws == 2
    first = ax.get_ylim()
    ax.set_ylim(-1, 2)
    host.refresh(full=True)
    ax.set_ylim(*first)  # back to a state drawn before
    host.refresh(full=True)
    assert host.full_draws == 3 and host.restores == 1 and len(frames) == 4
