"""Figure hosts: the PNG encoder, modes, refresh kinds."""

import io

import numpy as np
import pytest
from PIL import Image

import linfeat_widgets as lf
from linfeat_widgets.canvas import encode_png, new_figure, resolve_mode


def test_png_decodes_to_the_same_pixels():
    pixels = np.random.default_rng(0).integers(0, 256, size=(7, 5, 4), dtype=np.uint8)
    decoded = np.asarray(Image.open(io.BytesIO(encode_png(pixels))))
    assert decoded.shape == (7, 5, 4) and np.array_equal(decoded, pixels)
    with pytest.raises(ValueError, match="pixels must be RGBA uint8"):
        encode_png(pixels[..., :3])


def test_image_host_blits_animated_artists_over_the_saved_background():
    figure = new_figure((2.0, 1.5), 50, "image")
    ax = figure.add_subplot()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    (line,) = ax.plot([0, 1], [0, 1], animated=True)
    host = lf.FigureHost(figure, [line])
    assert host.mode == "image" and host.awaiting_draw
    host.refresh()  # nothing to blit onto yet: a full draw
    assert (host.full_draws, host.blits) == (1, 0) and not host.awaiting_draw
    first = bytes(host.widget.value)
    line.set_ydata([1, 0])
    host.refresh()
    assert (host.full_draws, host.blits) == (1, 1)
    assert bytes(host.widget.value) != first
    assert np.asarray(Image.open(io.BytesIO(first))).shape == (75, 100, 4)
    assert host.widget.layout.width == "100px" and host.widget.layout.height == "75px"
    host.close()
    assert host.widget.comm is None


def test_modes():
    assert resolve_mode("image") == "image"
    with pytest.raises(ValueError, match="mode must be one of 'auto', 'ipympl', 'image'"):
        resolve_mode("svg")
    with pytest.raises(ValueError, match="figure must be a matplotlib Figure"):
        lf.FigureHost(None)
