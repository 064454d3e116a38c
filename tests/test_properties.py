"""Property-based tests of the math API: every bad argument named, every good result finite.

Hypothesis generates the arguments. For bad ones, each function must raise ``ValueError``
(or ``TypeError`` for a wrong type) whose message names the argument; for valid small
ones, results must be finite and have the documented shapes, and ``linearize`` must equal
``torch.func`` autograd computed here independently of the package.
"""

import io
import math
import zipfile

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from torch import nn
from torch.func import functional_call, jacrev, vmap

import linfeat_widgets as lf
from linfeat_widgets.models import MAX_DEPTH, mlp_sizes, n_parameters

# small and quick: the whole file runs in seconds on two shared cores
FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- strategies ---------------------------------------------------------------------------

reals = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False)
not_a_number = st.sampled_from([float("nan"), float("inf"), -float("inf")])
wrong_types = st.one_of(
    st.text(max_size=3),
    st.none(),
    st.complex_numbers(allow_nan=False, allow_infinity=False).filter(lambda z: z.imag != 0),
    st.lists(st.integers(), max_size=2),
    st.just(object()),
)


@st.composite
def inputs(draw, min_size=1, max_size=10):
    """Valid inputs: shape (n,) or (n, 1), finite floats, as numpy, list or tensor."""
    n = draw(st.integers(min_size, max_size))
    values = draw(hnp.arrays(np.float64, n, elements=reals))
    form = draw(st.sampled_from(["flat", "column", "list", "tensor"]))
    if form == "column":
        return values[:, None]
    if form == "list":
        return values.tolist()
    if form == "tensor":
        return torch.tensor(values, dtype=torch.float32)
    return values


@st.composite
def bad_inputs(draw):
    """Inputs that are not a finite real array of shape (n,) or (n, 1) with n >= 1."""
    n = draw(st.integers(1, 6))
    kind = draw(st.sampled_from(["nan", "2d", "3d", "empty", "strings", "complex", "bool", "object", "scalar"]))
    if kind == "nan":
        values = np.zeros(n)
        values[draw(st.integers(0, n - 1))] = draw(not_a_number)
        return values
    return {
        "2d": np.zeros((n, draw(st.integers(2, 3)))),
        "3d": np.zeros((n, 1, 1)),
        "empty": np.zeros((0, 1)),
        "strings": np.array([str(v) for v in range(n)]),
        "complex": np.zeros(n) + 1j,
        "bool": np.zeros(n, dtype=bool),
        "object": np.array([object()] * n, dtype=object),
        "scalar": draw(reals),
    }[kind]


class Doubled(nn.Sequential):
    def forward(self, x):
        return 2 * super().forward(x)


@st.composite
def models(draw, only_mlp=False):
    """Small models inside the contract: make_mlp networks, a Sequential subclass, a tanh net."""
    width = draw(st.integers(1, 5))
    depth = draw(st.integers(1, 3))
    init = draw(st.one_of(st.sampled_from(lf.models.INITS), st.floats(0.05, 2.0)))
    model = lf.make_mlp(width, depth=depth, init=init, seed=draw(st.integers(0, 2**32 - 1)))
    if only_mlp:
        return model
    kind = draw(st.sampled_from(["mlp", "mlp64", "doubled", "tanh"]))
    if kind == "mlp64":
        return model.double()
    if kind == "doubled":
        return Doubled(*model)
    if kind == "tanh":
        layers = [m if not isinstance(m, nn.ReLU) else nn.Tanh() for m in model]
        return nn.Sequential(*layers)
    return model


def reference_jacobian(model, x):
    """d model(x_i) / d theta, (n, d), by torch.func in float64: written apart from the package."""
    module = _copy64(model)
    params = {k: v.detach() for k, v in module.named_parameters()}
    xt = torch.as_tensor(np.asarray(x, dtype=np.float64).reshape(-1, 1))
    jac = vmap(jacrev(lambda p, xi: functional_call(module, p, (xi[None],))[0, 0]), in_dims=(None, 0))(params, xt)
    return torch.cat([jac[k].reshape(xt.shape[0], -1) for k in params], dim=1).numpy()


def _copy64(model):
    import copy

    return copy.deepcopy(model).double()


def as_column(x):
    return np.asarray(x.detach().double() if isinstance(x, torch.Tensor) else x, dtype=np.float64).reshape(-1, 1)


def names_argument(excinfo, name):
    """The message begins with the argument's name, or names it in words."""
    message = str(excinfo.value)
    return message.startswith(f"{name} ") or f"{name}=" in message or f"{name}[" in message or f" {name} " in message


def raises_naming(name, call):
    with pytest.raises((ValueError, TypeError)) as excinfo:
        call()
    assert names_argument(excinfo, name), f"message does not name {name!r}: {excinfo.value}"


# --- make_dataset -------------------------------------------------------------------------

BAD_DATASET_ARGUMENTS = {
    "n_samples": st.one_of(st.integers(max_value=4), st.integers(10**11, 10**15), st.floats(5.5, 9.5), wrong_types),
    "sigma": st.one_of(st.floats(max_value=-1e-9, allow_infinity=False), not_a_number, wrong_types, st.booleans()),
    "seed": st.one_of(st.integers(max_value=-1), st.integers(2**32, 2**70), st.booleans(), st.floats(0, 10)),
    "x_range": st.one_of(
        st.tuples(reals, reals).filter(lambda t: t[0] >= t[1]),
        st.tuples(reals, not_a_number),
        reals,
        st.tuples(reals, reals, reals),
    ),
    "test_range": st.tuples(reals, reals).filter(lambda t: t[0] >= t[1]),
    "n_grid": st.one_of(st.integers(max_value=1), st.integers(10**12, 10**14), st.booleans(), wrong_types),
    "target": st.one_of(st.text(max_size=5).filter(lambda s: s not in lf.data.TARGETS), st.integers()),
}


@FAST
@given(
    st.sampled_from(sorted(BAD_DATASET_ARGUMENTS)).flatmap(lambda k: st.tuples(st.just(k), BAD_DATASET_ARGUMENTS[k]))
)
def test_make_dataset_names_each_bad_argument(case):
    name, value = case
    raises_naming(name, lambda: lf.make_dataset(**{name: value}))


@FAST
@given(
    n_samples=st.integers(5, 30),
    n_grid=st.integers(2, 30),
    sigma=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**32 - 1),
    low=reals,
    width=st.floats(0.1, 3.0),
    target=st.sampled_from(sorted(lf.data.TARGETS)),
)
def test_make_dataset_shapes_and_finiteness(n_samples, n_grid, sigma, seed, low, width, target):
    data = lf.make_dataset(target, n_samples, sigma, seed, (low, low + width), n_grid=n_grid)
    m = n_samples + n_grid
    assert data.X.shape == (n_samples, 1) and data.y.shape == (n_samples,)
    assert data.X_test.shape == (m, 1) and data.y_test.shape == (m,)
    for array in (data.X, data.y, data.X_test, data.y_test):
        assert array.dtype == np.float64 and np.all(np.isfinite(array)) and not array.flags.writeable
    assert np.all((data.X >= low) & (data.X <= low + width))


# --- Dataset ------------------------------------------------------------------------------


def _fields(n, m):
    X = np.linspace(0, 1, n)[:, None]
    X_test = np.linspace(0, 1, m)[:, None]
    return {"X": X, "y": np.cos(X[:, 0]), "X_test": X_test, "y_test": np.cos(X_test[:, 0])}


def _dataset(fields):
    return lf.Dataset(**fields, target="t", f=np.cos, sigma=0.0, seed=0, x_range=(0.0, 1.0), test_range=(0.0, 1.0))


@st.composite
def broken_field(draw):
    n, m = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    fields = _fields(n, m)
    name = draw(st.sampled_from(sorted(fields)))
    good = fields[name]
    kind = draw(st.sampled_from(["length", "ndim", "nan", "strings", "complex", "bool", "object", "empty", "none"]))
    bad = {
        "length": np.zeros((good.shape[0] + draw(st.integers(1, 3)), *good.shape[1:])),
        "ndim": good.reshape(-1, 1, 1) if good.ndim == 2 else good[:, None],
        "strings": good.astype(str),
        "complex": good + 1j,
        "bool": good > 0.5,
        "object": good.astype(object),
        "empty": np.zeros((0, *good.shape[1:])),
        "none": None,
    }.get(kind)
    if kind == "nan":
        bad = good.copy()
        bad.reshape(-1)[draw(st.integers(0, good.size - 1))] = draw(not_a_number)
    if kind == "length" and name in ("X", "X_test"):
        # a longer X is itself well formed: the mismatch is reported on its targets
        name = {"X": "y", "X_test": "y_test"}[name]
    fields[name] = bad
    return name, fields


@FAST
@given(broken_field())
def test_dataset_names_each_bad_field(case):
    name, fields = case
    with pytest.raises(ValueError) as excinfo:
        _dataset(fields)
    assert str(excinfo.value).startswith(f"{name} "), excinfo.value


@FAST
@given(st.integers(1, 8), st.integers(1, 8), st.sampled_from([np.float32, np.float64, np.int32, np.int64]))
def test_dataset_keeps_valid_arrays_as_read_only_float64(n, m, dtype):
    fields = {k: v.astype(dtype) for k, v in _fields(n, m).items()}
    data = _dataset(fields)
    for name, value in fields.items():
        stored = getattr(data, name)
        assert stored.dtype == np.float64 and stored.shape == value.shape and not stored.flags.writeable
        assert np.array_equal(stored, value.astype(np.float64))


# --- make_mlp -----------------------------------------------------------------------------

BAD_MLP_ARGUMENTS = {
    "width": st.one_of(st.integers(max_value=0), st.integers(10**10, 10**14), st.floats(1.5, 9.5), wrong_types),
    "depth": st.one_of(st.integers(max_value=0), st.integers(MAX_DEPTH + 1, 10**9), st.booleans(), wrong_types),
    "init": st.one_of(
        st.text(max_size=4).filter(lambda s: s not in lf.models.INITS),
        st.floats(max_value=0.0, allow_infinity=False),
        st.floats(1.71e38, 1e300),
        not_a_number,
        st.booleans(),
    ),
    "seed": st.one_of(st.integers(max_value=-1), st.integers(2**64, 2**80), st.booleans(), st.floats(0, 10)),
    "elbow_range": st.one_of(st.tuples(reals, reals).filter(lambda t: t[0] >= t[1]), reals),
}


@FAST
@given(st.sampled_from(sorted(BAD_MLP_ARGUMENTS)).flatmap(lambda k: st.tuples(st.just(k), BAD_MLP_ARGUMENTS[k])))
def test_make_mlp_names_each_bad_argument(case):
    name, value = case
    kwargs = {"width": 3, name: value}
    raises_naming(name, lambda: lf.make_mlp(**kwargs))


@FAST
@given(models(only_mlp=True))
def test_make_mlp_builds_finite_mlps_of_the_documented_size(model):
    sizes = mlp_sizes(model)
    width, depth = sizes[1], len(sizes) - 2
    assert sizes == (1,) + (width,) * depth + (1,)
    assert sum(p.numel() for p in model.parameters()) == n_parameters(width, depth)
    assert all(p.dtype == torch.float32 and bool(torch.isfinite(p).all()) for p in model.parameters())


# --- linearize, predict, ntk, feature_svd, gradient_norms: valid inputs ----------------------


@FAST
@given(models(), inputs())
def test_linearize_equals_torch_func_autograd(model, x):
    features = lf.linearize(model, x)
    n, d = as_column(x).shape[0], sum(p.numel() for p in model.parameters())
    assert features.matrix.shape == (n, d) and features.x.shape == (n,)
    assert np.all(np.isfinite(features.matrix))
    np.testing.assert_allclose(features.matrix, reference_jacobian(model, as_column(x)), rtol=1e-9, atol=1e-12)


@FAST
@given(models(), inputs())
def test_predict_equals_the_module(model, x):
    out = lf.predict(model, x)
    column = as_column(x)
    assert out.shape == (column.shape[0],) and np.all(np.isfinite(out))
    with torch.no_grad():
        direct = _copy64(model)(torch.as_tensor(column))[:, 0].numpy()
    np.testing.assert_allclose(out, direct, rtol=1e-10, atol=1e-12)


@FAST
@given(models(), inputs(), st.one_of(st.none(), inputs()))
def test_ntk_is_the_gram_matrix_of_the_features(model, x1, x2):
    K = lf.ntk(model, x1, x2)
    J1 = reference_jacobian(model, as_column(x1))
    J2 = J1 if x2 is None else reference_jacobian(model, as_column(x2))
    assert K.shape == (J1.shape[0], J2.shape[0]) and np.all(np.isfinite(K))
    np.testing.assert_allclose(K, J1 @ J2.T, rtol=1e-9, atol=1e-10)


@FAST
@given(models(), inputs(min_size=2), st.one_of(st.none(), inputs()), st.sampled_from(["svd", "gram", "auto"]))
def test_feature_svd_shapes_and_singular_values(model, x_fit, x_eval, method):
    spectrum = lf.feature_svd(model, x_fit, x_eval, method=method)
    J = reference_jacobian(model, as_column(x_fit))
    n, d = J.shape
    m = n if x_eval is None else as_column(x_eval).shape[0]
    s, r = spectrum.singular_values, spectrum.rank
    assert s.shape == (r,) and r <= min(n, d) and np.all(np.isfinite(s)) and np.all(np.diff(s) <= 0)
    assert spectrum.U.shape == (n, r) and spectrum.principal_features.shape == (m, r)
    assert np.all(np.isfinite(spectrum.principal_features))
    exact = np.linalg.svd(J, compute_uv=False)
    if r:
        # every kept singular value is one of J's (gram loses only the tiny ones to rounding)
        np.testing.assert_allclose(s, exact[:r], rtol=1e-6, atol=1e-7 * exact[0])


@FAST
@given(models(), inputs(), st.data())
def test_gradient_norms_are_the_mse_gradient(model, x, data):
    n = as_column(x).shape[0]
    y = data.draw(hnp.arrays(np.float64, n, elements=reals))
    norms = lf.gradient_norms(model, x, y, by="parameter")
    names = [name for name, _ in model.named_parameters()]
    assert list(norms) == names and all(math.isfinite(v) and v >= 0 for v in norms.values())
    J = reference_jacobian(model, as_column(x))
    with torch.no_grad():
        residual = _copy64(model)(torch.as_tensor(as_column(x)))[:, 0].numpy() - y
    gradient = 2 / n * J.T @ residual
    start = 0
    for name, p in model.named_parameters():
        part = gradient[start : start + p.numel()]
        start += p.numel()
        assert math.isclose(norms[name], float(np.linalg.norm(part)), rel_tol=1e-8, abs_tol=1e-12)


# --- the same functions, bad arguments --------------------------------------------------------

MODEL = lf.make_mlp(3, seed=0)
X = np.linspace(0, 1, 5)

OUTSIDE_CONTRACT = [
    None,
    3,
    nn.ReLU(),
    nn.Linear(2, 1),
    nn.Sequential(nn.Linear(1, 3), nn.ReLU(), nn.Linear(3, 2)),
    nn.Sequential(nn.Linear(1, 3), nn.BatchNorm1d(3), nn.Linear(3, 1)),
    nn.Sequential(nn.Linear(1, 3, device="meta"), nn.ReLU(), nn.Linear(3, 1)),
]


def _nan_model():
    model = lf.make_mlp(3, seed=0)
    with torch.no_grad():
        model[2].bias.fill_(float("nan"))
    return model


OUTSIDE_CONTRACT.append(_nan_model())

# each function with its arguments: (argument name, a valid value), then how to call it
CALLS = {
    "linearize": ([("x", X), ("method", "auto")], lf.linearize),
    "predict": ([("x", X)], lf.predict),
    "ntk": ([("x1", X), ("x2", X), ("method", "auto")], lf.ntk),
    "feature_svd": (
        [("X_fit", X), ("X_eval", X), ("method", "auto"), ("rtol", None), ("jacobian", "auto"), ("n_components", None)],
        lf.feature_svd,
    ),
    "gradient_norms": ([("X", X), ("y", np.zeros(5)), ("by", "layer")], lf.gradient_norms),
}
BAD_OTHER = {
    "method": st.one_of(
        st.text(max_size=5).filter(lambda s: s not in ("auto", "closed_form", "autograd")), wrong_types
    ),
    "jacobian": st.text(max_size=5).filter(lambda s: s not in ("auto", "closed_form", "autograd")),
    "by": st.text(max_size=5).filter(lambda s: s not in ("layer", "parameter")),
    "rtol": st.one_of(st.floats(max_value=-1e-9, allow_infinity=False), not_a_number, st.text(max_size=2)),
    "n_components": st.one_of(st.integers(max_value=0), st.floats(1.5, 3.5), st.booleans()),
    "y": st.one_of(
        hnp.arrays(np.float64, st.integers(1, 4).filter(lambda k: k != 5), elements=reals),
        st.just(np.array([np.nan, 0, 0, 0, 0])),
        st.just(np.array(["a"] * 5)),
    ),
}


@st.composite
def bad_call(draw):
    function = draw(st.sampled_from(sorted(CALLS)))
    arguments, _ = CALLS[function]
    name, _ = draw(st.sampled_from(arguments))
    if name in BAD_OTHER:
        value = draw(BAD_OTHER[name])
    else:
        value = draw(bad_inputs())
    kwargs = dict(arguments)
    kwargs[name] = value
    return function, name, kwargs


@FAST
@given(bad_call())
def test_math_functions_name_each_bad_argument(case):
    function, name, kwargs = case
    _, call = CALLS[function]
    raises_naming(name, lambda: call(MODEL, **kwargs))


@FAST
@given(st.sampled_from(sorted(CALLS)), st.sampled_from(range(len(OUTSIDE_CONTRACT))))
def test_math_functions_refuse_models_outside_the_contract(function, which):
    arguments, call = CALLS[function]
    raises_naming("model", lambda: call(OUTSIDE_CONTRACT[which], **dict(arguments)))


@FAST
@given(st.sampled_from(sorted(CALLS)), st.floats(1e280, 1e308))
def test_overflow_is_refused_never_returned(function, big):
    model = lf.make_mlp(3, seed=0)
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(1e30)
    arguments, call = CALLS[function]
    name = arguments[0][0]
    kwargs = dict(arguments)
    kwargs[name] = np.array([0.5, big])
    if function == "gradient_norms":
        kwargs["y"] = np.zeros(2)
    if function in ("ntk", "feature_svd"):
        kwargs[arguments[1][0]] = None
    raises_naming(name, lambda: call(model, **kwargs))


# --- History.index and History.load ---------------------------------------------------------


@pytest.fixture(scope="module")
def history():
    data = lf.make_dataset(n_samples=20, n_grid=20)
    return lf.train(lf.make_mlp(3, seed=0), data, n_steps=500, save_every=100, progress=False)


@pytest.fixture(scope="module")
def saved_bytes(history, tmp_path_factory):
    return history.save(tmp_path_factory.mktemp("history") / "run.npz").read_bytes()


@FAST
@given(st.one_of(st.integers(-(10**6), 10**6), st.booleans(), st.floats(), st.text(max_size=3), st.none()))
def test_history_index_accepts_saved_steps_and_names_the_step(history, step):
    saved = isinstance(step, int) and not isinstance(step, bool) and step in set(history.steps.tolist())
    if saved:
        assert history.steps[history.index(step)] == step
        assert history[step]["state"].keys() == history.model(step).state_dict().keys()
    else:
        raises_naming("step", lambda: history.index(step))


@FAST
@given(st.data())
def test_history_load_reads_a_corrupted_file_or_refuses_it_naming_the_file(saved_bytes, tmp_path_factory, data):
    content = bytearray(saved_bytes)
    kind = data.draw(st.sampled_from(["flip", "truncate", "splice", "array"]))
    if kind == "flip":
        for at in data.draw(st.lists(st.integers(0, len(content) - 1), min_size=1, max_size=4)):
            content[at] ^= data.draw(st.integers(1, 255))
    elif kind == "truncate":
        content = content[: data.draw(st.integers(0, len(content) - 1))]
    elif kind == "splice":
        at = data.draw(st.integers(0, len(content)))
        content[at:at] = data.draw(st.binary(min_size=1, max_size=64))
    else:
        content = _with_replaced_array(saved_bytes, data)
    path = tmp_path_factory.mktemp("corrupt") / "run.npz"
    path.write_bytes(bytes(content))
    try:
        loaded = lf.History.load(path)
    except ValueError as exc:
        assert str(path) in str(exc), exc
    else:  # harmless corruption (zip metadata): the snapshots must then be intact and valid
        assert np.all(np.isfinite(loaded.params)) and np.all(np.diff(loaded.steps) > 0)
        assert loaded.params.shape == (len(loaded.steps), sum(p.numel() for p in loaded.model(0).parameters()))


def _with_replaced_array(saved_bytes, data):
    """The saved archive with one array replaced by a generated one of any dtype and shape."""
    with np.load(io.BytesIO(saved_bytes), allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    key = data.draw(st.sampled_from(sorted(arrays)))
    dtype = data.draw(st.sampled_from([np.int64, np.float32, np.float64, np.bool_, "<U3"]))
    arrays[key] = data.draw(hnp.arrays(dtype, hnp.array_shapes(min_dims=0, max_dims=2, max_side=6)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, value in arrays.items():
            with archive.open(f"{name}.npy", "w") as handle:
                np.lib.format.write_array(handle, np.asarray(value))
    return bytearray(out.getvalue())
