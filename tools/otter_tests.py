"""The autograder's tests for the homework's exercises, one entry per graded exercise of the solution notebook.

`tools/otter_assign.py` turns each entry into an Otter Assign question around the solution cell whose first line is
``# Exercise (<id>): ...``. A test is a plain function whose parameters name the notebook's variables (Otter passes
the student's globals by name, ``None`` when missing) and which raises when the answer is wrong. Its source is what
Otter stores, so every test imports what it uses inside its body and reads nothing else from this module.

Public tests say what shape and kind of answer is expected; hidden tests check values against the package's own math
(`lf.linearize`, `lf.feature_svd`) on small networks built inside the test, with tolerances that accept any correct
method (autograd per point, `torch.func`, a closed form; float32 or float64 arithmetic; singular vectors up to sign).
Exercises not listed here (the plots) are handed out without their solution and graded by reading them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Test:
    """One test case: the function, its points, and whether students see it."""

    func: Callable
    points: float
    hidden: bool


@dataclass(frozen=True)
class Question:
    """An autograded exercise: its id in the solution notebook (``a1``), Otter's question name, its tests."""

    exercise: str
    name: str
    tests: tuple[Test, ...]

    @property
    def points(self) -> float:
        """The question's points: the sum of its tests'."""
        return sum(t.points for t in self.tests)


# ---- (a1) feature_matrix(model, x) -> (m, d) ----------------------------------------------------------------------


def test_feature_matrix_shape(feature_matrix):
    import numpy as np

    import linfeat_widgets as lf

    assert callable(feature_matrix), "define feature_matrix(model, x) (run its cell first)"
    model = lf.make_mlp(6, seed=11)
    x = np.linspace(-0.2, 1.2, 9)
    F = np.asarray(feature_matrix(model, x))
    d = sum(p.numel() for p in model.parameters())
    assert F.shape == (9, d), f"feature_matrix(model, x) must be (len(x), d) = (9, {d}); got {F.shape}"
    assert np.issubdtype(F.dtype, np.floating) and np.all(np.isfinite(F)), "the features must be finite floats"


def test_feature_matrix_values(feature_matrix):
    import numpy as np

    import linfeat_widgets as lf

    x = np.linspace(-0.3, 1.3, 23)
    for model in (lf.make_mlp(7, seed=3), lf.make_mlp(4, depth=2, seed=5), lf.make_mlp(5, init=3.0, seed=2)):
        expected = lf.linearize(model, x).matrix
        ours = np.asarray(feature_matrix(model, x), dtype=np.float64)
        # float32 arithmetic is enough: the tolerance is relative to the largest feature
        scale = max(1.0, float(np.max(np.abs(expected))))
        assert np.allclose(ours, expected, rtol=1e-4, atol=1e-5 * scale), (
            "feature_matrix disagrees with the closed form"
        )


# ---- (b1) svd_features(model, X_fit, X_eval) -> (s, V, P) -----------------------------------------------------------


def test_svd_features_shapes(svd_features):
    import numpy as np

    import linfeat_widgets as lf

    assert callable(svd_features), "define svd_features(model, X_fit, X_eval) (run its cell first)"
    model = lf.make_mlp(6, seed=11)
    d = sum(p.numel() for p in model.parameters())
    s, V, P = (np.asarray(a) for a in svd_features(model, np.linspace(0, 1, 30), np.linspace(0, 1, 50)))
    r = len(s)
    assert s.ndim == 1 and 1 <= r <= min(30, d), f"s must be (r,) with 1 <= r <= min(n, d); got {s.shape}"
    assert V.shape == (d, r), f"V must be (d, r) = ({d}, {r}): one column per singular value; got {V.shape}"
    assert P.shape == (50, r), f"P must be (len(X_eval), r) = (50, {r}); got {P.shape}"
    assert np.all(np.diff(s) <= 0) and np.all(s > 0), "singular values are positive, largest first"


def test_svd_features_singular_values(svd_features):
    import numpy as np

    import linfeat_widgets as lf

    x_fit, x_eval = np.sort(np.random.default_rng(0).random(40)), np.linspace(0, 1, 61)
    for model in (lf.make_mlp(8, seed=1), lf.make_mlp(6, init=3.0, seed=4), lf.make_mlp(5, depth=2, seed=7)):
        expected = lf.feature_svd(model, x_fit, x_eval)
        s = np.asarray(svd_features(model, x_fit, x_eval)[0], dtype=np.float64)
        assert len(s) == expected.rank, f"rank {len(s)}; the feature matrix has rank {expected.rank}"
        assert np.allclose(s, expected.singular_values, rtol=1e-4), "singular values differ from the feature matrix's"


def test_svd_features_vectors(svd_features):
    import numpy as np

    import linfeat_widgets as lf

    x_fit, x_eval = np.sort(np.random.default_rng(1).random(40)), np.linspace(0, 1, 61)
    for model in (lf.make_mlp(8, seed=1), lf.make_mlp(5, depth=2, seed=7)):
        F = lf.linearize(model, x_fit).matrix
        s, V, _ = (np.asarray(a, dtype=np.float64) for a in svd_features(model, x_fit, x_eval))
        # method-free: V has orthonormal columns and F V V^T = F, F V = U diag(s) with orthonormal U
        assert np.allclose(V.T @ V, np.eye(V.shape[1]), atol=1e-5), "the columns of V must be orthonormal"
        assert np.allclose(F @ V @ V.T, F, atol=1e-5 * s[0]), "V must span the feature matrix's row space"
        U = F @ V / s
        assert np.allclose(U.T @ U, np.eye(len(s)), atol=1e-4), "F V[:, k] must have norm s[k], orthogonal to the rest"


def test_svd_features_principal_features(svd_features):
    import numpy as np

    import linfeat_widgets as lf

    x_fit, x_eval = np.sort(np.random.default_rng(2).random(40)), np.linspace(-0.2, 1.2, 71)
    for model in (lf.make_mlp(8, seed=1), lf.make_mlp(5, depth=2, seed=7)):
        _, V, P = (np.asarray(a, dtype=np.float64) for a in svd_features(model, x_fit, x_eval))
        # P = J(X_eval) V for the student's own V: no sign or rotation ambiguity left
        expected = lf.linearize(model, x_eval).matrix @ V
        scale = max(1.0, float(np.max(np.abs(expected))))
        assert np.allclose(P, expected, rtol=1e-4, atol=1e-5 * scale), "P must be J(X_eval) V on the evaluation grid"
        # and against the package's principal features, up to sign, where the singular values are well separated
        reference = lf.feature_svd(model, x_fit, x_eval)
        gaps = np.diff(reference.singular_values) / reference.singular_values[0]
        k = min(4, reference.rank - 1)
        for j in range(k):
            if min(abs(gaps[j]), abs(gaps[j - 1]) if j else 1.0) < 1e-3:
                continue
            ref = reference.principal_features[:, j]
            sign = np.sign(ref @ P[:, j]) or 1.0
            assert np.allclose(sign * P[:, j], ref, rtol=1e-3, atol=1e-4 * scale), f"principal feature {j + 1} differs"


# ---- (d1) layer_gradient_norms(model, X, y) -> {layer: norm} ---------------------------------------------------------


def test_layer_gradient_norms_kind(layer_gradient_norms):
    import numpy as np

    import linfeat_widgets as lf

    assert callable(layer_gradient_norms), "define layer_gradient_norms(model, X, y) (run its cell first)"
    model = lf.make_mlp(6, depth=2, seed=11)
    x = np.linspace(0.0, 1.0, 9)
    norms = layer_gradient_norms(model, x, np.sin(3 * x))
    assert isinstance(norms, dict), f"layer_gradient_norms must return a dict; got {type(norms).__name__}"
    assert sorted(norms) == ["0", "2", "4"], f"one entry per layer, named '0', '2', '4'; got {sorted(norms)}"
    assert all(np.isfinite(float(v)) and float(v) >= 0 for v in norms.values()), "norms are finite numbers >= 0"


def test_layer_gradient_norms_values(layer_gradient_norms):
    import numpy as np

    import linfeat_widgets as lf

    data = lf.make_dataset(n_samples=40, seed=3)
    for model in (lf.make_mlp(8, seed=1), lf.make_mlp(5, depth=2, seed=7), lf.make_mlp(6, init=0.03, seed=2)):
        expected = lf.gradient_norms(model, data.X, data.y)
        ours = layer_gradient_norms(model, data.X, data.y)
        assert sorted(ours) == sorted(expected), f"layers {sorted(ours)}; expected {sorted(expected)}"
        for layer, value in expected.items():
            # float32 arithmetic is enough
            assert np.isclose(float(ours[layer]), value, rtol=1e-4, atol=1e-7), f"layer {layer}: gradient norm differs"


QUESTIONS = (
    Question(
        exercise="a1",
        name="a1_feature_matrix",
        tests=(
            Test(test_feature_matrix_shape, points=1, hidden=False),
            Test(test_feature_matrix_values, points=3, hidden=True),
        ),
    ),
    Question(
        exercise="b1",
        name="b1_svd_features",
        tests=(
            Test(test_svd_features_shapes, points=1, hidden=False),
            Test(test_svd_features_singular_values, points=1, hidden=True),
            Test(test_svd_features_vectors, points=1, hidden=True),
            Test(test_svd_features_principal_features, points=1, hidden=True),
        ),
    ),
    Question(
        exercise="d1",
        name="d1_layer_gradient_norms",
        tests=(
            Test(test_layer_gradient_norms_kind, points=1, hidden=False),
            Test(test_layer_gradient_norms_values, points=2, hidden=True),
        ),
    ),
)
