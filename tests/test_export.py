"""Export: one composed figure and animations, drawn headless by the Explorer's own panels."""

import dataclasses
import io
import itertools
import os
import sys

import matplotlib
import matplotlib.image
import numpy as np
import pytest
from PIL import Image

import linfeat_widgets as lf
from linfeat_widgets import export
from linfeat_widgets.panel_specs import PANELS, PanelBoard, PanelView


@pytest.fixture(scope="module")
def small():
    return lf.make_dataset(n_samples=40, n_grid=50)


@pytest.fixture(scope="module")
def history(small):
    return lf.train(lf.make_mlp(6, seed=0), small, n_steps=400, save_every=100, progress=False)


@pytest.fixture(scope="module")
def view(history, small):
    return PanelView.of(history, small, n_grid=64)


@pytest.fixture
def explorer(history, small):
    previous = matplotlib.get_backend()
    matplotlib.use("Agg")
    e = lf.Explorer(history, data=small, n_grid=64, max_lines=12, mode="image")
    yield e
    e.close()
    matplotlib.use(previous)


def gif_frames(path):
    with Image.open(path) as image:
        frames = []
        for i in range(image.n_frames):
            image.seek(i)
            frames.append(np.asarray(image.convert("RGB")))
        return frames


# --- the composed figure ------------------------------------------------------------------
def test_panel_figure_lays_out_the_rows_at_their_registered_sizes(view):
    composed = export.PanelFigure(context=export.context_of(view), dpi=50)
    rows = composed.board.rows
    width = max(sum(PANELS[n].size[0] for n in row) for row in rows)
    height = sum(max(PANELS[n].size[1] for n in row) for row in rows) + export._TITLE_HEIGHT
    assert tuple(composed.figure.get_size_inches()) == pytest.approx((width, height))
    boxes = {name: panel.ax.get_window_extent() for name, panel in composed.board.panels.items()}
    # no two panels overlap, and every panel lies inside the figure
    names = list(boxes)
    for i, a in enumerate(names):
        assert 0 <= boxes[a].x0 and boxes[a].x1 <= width * 50 + 1e-6
        for b in names[i + 1 :]:
            assert not boxes[a].overlaps(boxes[b]), (a, b)
    # the first row is above the second
    assert boxes["prediction"].y0 > boxes["features"].y1


def test_frames_match_a_full_draw(view, history):
    """A blitted frame shows what drawing the whole figure shows."""
    composed = export.PanelFigure(context=export.context_of(view), dpi=50)
    for step in (1, 400, 200):
        frame = composed.frame(dataclasses.replace(view, step=step))
        buffer = io.BytesIO()
        composed.figure.savefig(buffer, format="rgba", dpi=50)  # draws every artist
        full = np.frombuffer(buffer.getvalue(), np.uint8).reshape(frame.shape[0], frame.shape[1], 4)[..., :3]
        differing = np.abs(frame.astype(int) - full.astype(int)).sum(axis=-1) > 60
        assert differing.mean() < 0.001  # antialiasing at a few edges only


def test_status_line_names_step_errors_and_run(history):
    line = export.status_line(history, 200)
    i = history.index(200)
    assert "SGD iteration 200" in line and f"{history.test_error[i]:.4g}" in line
    assert "width 6, depth 1, paradigm all" in line


# --- save_figure --------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_save_figure_writes_each_format(explorer, tmp_path, suffix):
    explorer.iteration = 200
    path = explorer.save_figure(tmp_path / f"figure{suffix}", dpi=40)
    assert path.exists() and path.stat().st_size > 1000
    head = path.read_bytes()[:64]
    if suffix == ".png":
        image = matplotlib.image.imread(path)
        _, height = explorer.board.figures["prediction"].get_size_inches()
        assert image.shape[1] == pytest.approx(40 * max(sum(PANELS[n].size[0] for n in r) for r in explorer.board.rows))
        assert image.shape[0] > 40 * height
        assert np.std(image[..., :3]) > 0.05  # not blank
    elif suffix == ".svg":
        text = path.read_text()
        assert text.lstrip().startswith("<?xml") and "SGD iteration 200" in text
    else:
        assert head.startswith(b"%PDF")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "a temporary file was left"


def test_save_figure_shows_the_selected_step_and_leaves_the_widget_alone(explorer, tmp_path):
    explorer.iteration = 100
    before = {name: host.full_draws + host.blits for name, host in explorer.hosts.items()}
    first = np.asarray(Image.open(explorer.save_figure(tmp_path / "a.png", dpi=30)))
    explorer.iteration = 400
    after = {name: host.full_draws + host.blits for name, host in explorer.hosts.items()}
    last = np.asarray(Image.open(explorer.save_figure(tmp_path / "b.png", dpi=30)))
    assert first.shape == last.shape and not np.array_equal(first, last)
    # saving drew nothing on screen: only the iteration move did
    assert all(after[n] - before[n] <= 1 for n in before)
    assert explorer.iteration == 400


def test_a_failed_save_keeps_the_earlier_file(explorer, tmp_path, monkeypatch):
    path = explorer.save_figure(tmp_path / "keep.png", dpi=30)
    original = path.read_bytes()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        explorer.save_figure(path, dpi=30)
    assert path.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.png"]


def test_saved_files_get_ordinary_permissions(explorer, tmp_path):
    path = explorer.save_figure(tmp_path / "perm.png", dpi=20)
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.parametrize(
    "path, kwargs, name",
    [
        ("figure.jpg", {}, "path"),
        ("figure", {}, "path"),
        (42, {}, "path"),
        ("", {}, "path"),
        ("figure.png", {"dpi": 0}, "dpi"),
        ("figure.png", {"dpi": "high"}, "dpi"),
    ],
)
def test_save_figure_refuses_bad_arguments(explorer, tmp_path, path, kwargs, name):
    target = tmp_path / path if isinstance(path, str) and path else path
    with pytest.raises(ValueError, match=name):
        explorer.save_figure(target, **kwargs)


def test_save_figure_refuses_a_folder_and_a_file_as_folder(explorer, tmp_path):
    (tmp_path / "dir.png").mkdir()
    with pytest.raises(ValueError, match="path"):
        explorer.save_figure(tmp_path / "dir.png")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="path"):
        explorer.save_figure(tmp_path / "file" / "figure.png")


# --- animate ------------------------------------------------------------------------------
def test_gif_has_a_frame_per_step_and_frames_differ(explorer, history, tmp_path):
    path = explorer.animate(tmp_path / "run.gif", fps=20, dpi=30, progress=False)
    frames = gif_frames(path)
    assert len(frames) == len(history)
    assert all(f.shape == frames[0].shape for f in frames)
    assert all(not np.array_equal(a, b) for a, b in itertools.pairwise(frames))
    with Image.open(path) as image:
        assert image.info["duration"] == 50 and image.info.get("loop") == 0


def test_gif_of_chosen_steps_in_their_order(explorer, view, tmp_path):
    path = explorer.animate(tmp_path / "some.gif", steps=[1, 300, 100], dpi=30, progress=False)
    frames = gif_frames(path)
    assert len(frames) == 3
    assert all(not np.array_equal(a, b) for a, b in itertools.combinations(frames, 2))
    # the frame of step 1 is the composed figure of step 1
    composed = export.PanelFigure(context=export.context_of(view), dpi=30)
    expected = composed.frame(dataclasses.replace(view, step=1))
    assert frames[0].shape == expected.shape
    assert np.abs(frames[0].astype(int) - expected.astype(int)).max() < 64  # palette rounding only


def test_gif_repeated_steps_keep_their_time(explorer, tmp_path):
    # Pillow stores identical consecutive frames once, with their durations added
    path = explorer.animate(tmp_path / "hold.gif", steps=[1, 400, 400, 400], fps=10, dpi=20, progress=False)
    with Image.open(path) as image:
        total = 0
        for i in range(image.n_frames):
            image.seek(i)
            total += image.info["duration"]
    assert total == 400


def test_animate_leaves_the_widget_alone(explorer, tmp_path):
    explorer.iteration = 200
    before = {name: host.full_draws + host.blits for name, host in explorer.hosts.items()}
    explorer.animate(tmp_path / "quiet.gif", steps=[1, 100], dpi=20, progress=False)
    assert {name: host.full_draws + host.blits for name, host in explorer.hosts.items()} == before
    assert explorer.iteration == 200 and explorer.iteration_slider.value == 200


def test_mp4_through_imageio_ffmpeg(explorer, history, tmp_path):
    import imageio_ffmpeg  # in the test extra: a missing one fails here instead of skipping

    path = explorer.animate(tmp_path / "run.mp4", fps=5, dpi=25, progress=False)
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    frames = [np.frombuffer(f, np.uint8).reshape(meta["size"][1], meta["size"][0], 3) for f in reader]
    assert len(frames) == len(history)
    assert meta["fps"] == pytest.approx(5)
    assert all(size % 2 == 0 for size in meta["size"])
    assert not np.array_equal(frames[0], frames[-1])


def test_mp4_without_imageio_ffmpeg_says_what_to_install(explorer, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)
    with pytest.raises(ValueError, match="imageio-ffmpeg"):
        explorer.animate(tmp_path / "run.mp4", progress=False)
    assert not list(tmp_path.iterdir())


def test_a_failed_animation_keeps_the_earlier_file(explorer, tmp_path, monkeypatch):
    path = explorer.animate(tmp_path / "keep.gif", steps=[1, 100], dpi=20, progress=False)
    original = path.read_bytes()

    def broken(self, view, title=None):
        raise RuntimeError("drawing failed")

    monkeypatch.setattr(export.PanelFigure, "frame", broken)
    with pytest.raises(RuntimeError, match="drawing failed"):
        explorer.animate(path, steps=[1, 100], dpi=20, progress=False)
    assert path.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.gif"]


@pytest.mark.parametrize(
    "path, kwargs, name",
    [
        ("run.avi", {}, "path"),
        ("run.png", {}, "path"),
        ("run.gif", {"fps": 0}, "fps"),
        ("run.gif", {"fps": -5}, "fps"),
        ("run.gif", {"fps": 1000}, "fps"),
        ("run.gif", {"fps": float("nan")}, "fps"),
        ("run.gif", {"steps": [7]}, "steps"),
        ("run.gif", {"steps": []}, "steps"),
        ("run.gif", {"steps": "all"}, "steps"),
        ("run.gif", {"steps": [True]}, "steps"),
        ("run.gif", {"dpi": -1}, "dpi"),
    ],
)
def test_animate_refuses_bad_arguments(explorer, tmp_path, path, kwargs, name):
    with pytest.raises(ValueError, match=name):
        explorer.animate(tmp_path / path, progress=False, **kwargs)
    assert not list(tmp_path.iterdir())


def test_export_draws_with_the_registered_panels(view):
    """No second plotting path: the composed figure's panels are the registry's classes."""
    composed = export.PanelFigure(("prediction", "spectrum"), export.context_of(view))
    assert isinstance(composed.board, PanelBoard)
    assert [type(p).__name__ for p in composed.board.panels.values()] == ["PredictionPanel", "SpectrumPanel"]
    composed.draw(view)
    snapshot = view.snapshots.snapshot(view.step)
    line = composed.board.panels["prediction"]
    assert any(np.allclose(artist.get_ydata(), snapshot.prediction) for artist in line.ax.lines)


# --- themes -------------------------------------------------------------------------------
def _tick_sizes(composed):
    return {label.get_fontsize() for p in composed.board.panels.values() for label in p.ax.get_xticklabels()}


def test_panel_figure_in_the_lecture_theme(view):
    lecture = lf.THEMES["lecture"]
    default = export.PanelFigure(context=export.context_of(view), dpi=40)
    big = export.PanelFigure(context=export.context_of(view), dpi=40, theme="lecture")
    assert big.board.theme is lecture and default.board.theme.name == "default"
    assert _tick_sizes(big) == {lecture.font_size} and _tick_sizes(default) == {lf.THEMES["default"].font_size}
    assert big.title.get_fontsize() == lecture.label_size > default.title.get_fontsize()
    # the same registered sizes: a slide's figure is as large, its lettering larger
    assert tuple(big.figure.get_size_inches()) == tuple(default.figure.get_size_inches())
    with pytest.raises(ValueError, match="theme"):
        export.PanelFigure(context=export.context_of(view), theme="projector")


def test_explorer_saves_and_animates_in_its_own_theme(history, small, tmp_path, monkeypatch):
    previous = matplotlib.get_backend()
    matplotlib.use("Agg")
    e = lf.Explorer(history, data=small, n_grid=64, max_lines=12, mode="image", theme="lecture")
    built = []
    original = export.PanelFigure.__init__

    def record(self, *args, **kwargs):
        original(self, *args, **kwargs)
        built.append(self.board.theme.name)

    monkeypatch.setattr(export.PanelFigure, "__init__", record)
    try:
        lecture = e.save_figure(tmp_path / "lecture.png", dpi=40)
        e.animate(tmp_path / "lecture.gif", steps=[100, 400], dpi=30, progress=False)
    finally:
        e.close()
        matplotlib.use(previous)
    assert built == ["lecture", "lecture"]
    default = export.save_figure(tmp_path / "default.png", e.view(), dpi=40)
    a, b = (np.asarray(Image.open(p)) for p in (lecture, default))
    assert a.shape == b.shape and not np.array_equal(a, b)
    with pytest.raises(ValueError, match="theme"):
        export.save_figure(tmp_path / "x.png", e.view(), theme=3)
    with pytest.raises(ValueError, match="theme"):
        export.animate(tmp_path / "x.gif", e.view(), theme="big")
