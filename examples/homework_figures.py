"""Train the homework's three widths and save its figures as PNG files.

Run: python examples/homework_figures.py [--steps N] [--out DIR]

Figures (one row per width 10, 20, 40): predictions with each hidden unit's ReLU,
train/test error curves, the first layer's linearized features at initialization and
after training (part a), and the singular values and top principal features of the
feature matrix on a dense grid (part b).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import linfeat_widgets as lf

WIDTHS = (10, 20, 40)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=150_000, help="SGD steps per width (default: 150,000)")
    parser.add_argument("--out", type=Path, default=Path("figures"), help="folder for the PNG files")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    data = lf.make_dataset()
    grid = data.X_test
    histories = {}
    for width in WIDTHS:
        start = time.perf_counter()
        histories[width] = lf.train(lf.make_mlp(width, seed=width), data, n_steps=args.steps)
        h = histories[width]
        print(
            f"width {width}: {args.steps} steps in {time.perf_counter() - start:.1f} s "
            f"({h.config['backend']}), final test MSE {h.test_error[-1]:.4f}"
        )

    fig, axes = plt.subplots(len(WIDTHS), 2, figsize=(12, 3.2 * len(WIDTHS)), squeeze=False)
    for row, width in zip(axes, WIDTHS):
        h = histories[width]
        final = h.model(int(h.steps[-1]))
        row[0].scatter(data.X[:, 0], data.y, s=10, c="darkorange", label="training data points")
        row[0].plot(grid[:, 0], data.y_test, "--", c="royalblue", label="Ground truth")
        row[0].plot(grid[:, 0], lf.predict(final, grid), c="forestgreen", label="prediction")
        row[0].set(title=f"width {width}: prediction after {int(h.steps[-1])} steps", ylim=(-2.5, 2.5))
        row[0].legend(fontsize=7)
        row[1].plot(h.steps, h.train_error, label="train error (minibatch)")
        row[1].plot(h.steps, h.test_error, label="test error")
        row[1].set(yscale="log", xlabel="SGD iteration", ylabel="MSE", title=f"width {width}: errors")
        row[1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(args.out / "predictions.png", dpi=90)

    fig, axes = plt.subplots(len(WIDTHS), 4, figsize=(18, 3.2 * len(WIDTHS)), squeeze=False)
    for row, width in zip(axes, WIDTHS):
        h = histories[width]
        for ax, step, when in ((row[0], 0, "initialization"), (row[1], int(h.steps[-1]), "trained")):
            features = lf.linearize(h.model(step), grid)
            ax.plot(grid[:, 0], features.columns("0.weight"), lw=0.8)
            ax.set(title=f"width {width}, {when}: dy/dw (layer 1)", xlabel="x")
        spectra = {
            when: lf.feature_svd(h.model(step), data.X, grid)
            for when, step in (("initialization", 0), ("trained", int(h.steps[-1])))
        }
        for when, spectrum in spectra.items():
            row[2].semilogy(np.arange(1, spectrum.rank + 1), spectrum.singular_values, "o", ms=3, label=when)
        row[2].set(title=f"width {width}: singular values", xlabel="index")
        row[2].legend(fontsize=7)
        row[3].plot(grid[:, 0], spectra["trained"].principal_features[:, :5])
        row[3].set(title=f"width {width}, trained: top 5 principal features", xlabel="x")
    fig.tight_layout()
    fig.savefig(args.out / "features.png", dpi=90)
    print(f"saved {args.out / 'predictions.png'} and {args.out / 'features.png'}")


if __name__ == "__main__":
    main()
