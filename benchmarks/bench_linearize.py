"""Feature matrix, SVD and principal features: this package against the homework's loop.

Width 40, depth 2 (d = 1,761 parameters), feature matrix at the 200 training points,
principal features on the 1,200-point test grid. Target: linearize + feature_svd <= 10 ms
on a 2-core CPU. The homework's per-point loop (200 backward passes, one ``.item()`` per
entry, then numpy's SVD) is measured in the same run.

Run: python benchmarks/bench_linearize.py
"""

from __future__ import annotations

from _timing import median_seconds, report
from homework import homework_svd

import linfeat_widgets as lf


def main() -> None:
    data = lf.make_dataset()
    model = lf.make_mlp(40, depth=2, seed=0)
    d = sum(p.numel() for p in model.parameters())
    print(f"width 40, depth 2: d = {d} parameters, n = {data.n_samples} points, grid = {len(data.X_test)} points")

    rows = [
        ("homework loop + numpy SVD", median_seconds(lambda: homework_svd(model, data.X), repeats=3, warmup=1)),
        (
            "linearize + feature_svd (auto: gram)",
            median_seconds(lambda: (lf.linearize(model, data.X), lf.feature_svd(model, data.X, data.X_test))),
        ),
        (
            "linearize + feature_svd (svd)",
            median_seconds(
                lambda: (lf.linearize(model, data.X), lf.feature_svd(model, data.X, data.X_test, method="svd"))
            ),
        ),
        ("linearize only (200 points)", median_seconds(lambda: lf.linearize(model, data.X))),
        ("ntk, 200 x 200 (Gram matrix)", median_seconds(lambda: lf.ntk(model, data.X))),
    ]
    report(rows, baseline="homework loop + numpy SVD")
    ours = dict(rows)["linearize + feature_svd (auto: gram)"]
    print(f"target <= 10 ms: {'met' if ours <= 0.010 else 'NOT met'} ({ours * 1e3:.1f} ms)")


if __name__ == "__main__":
    main()
