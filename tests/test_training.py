import copy

import numpy as np
import pytest
import torch
from homework import homework_train
from torch import nn

import linfeat_widgets as lf
from linfeat_widgets.training import minibatches, snapshot_steps


def small_train(model, data, **kwargs):
    kwargs.setdefault("n_steps", 300)
    kwargs.setdefault("save_every", 100)
    kwargs.setdefault("progress", False)
    return lf.train(model, data, **kwargs)


# --- snapshot schedule and minibatch stream --------------------------------------------
@pytest.mark.parametrize(
    "n_steps, save_every, expected",
    [
        (5, 2, [1, 2, 4, 5]),
        (6, 2, [1, 2, 4, 6]),
        (1, 1000, [1]),
        (2500, 1000, [1, 1000, 2000, 2500]),
        (3, 1, [1, 2, 3]),
    ],
)
def test_snapshot_steps(n_steps, save_every, expected):
    assert snapshot_steps(n_steps, save_every).tolist() == expected


def test_full_scale_schedule_is_the_homeworks():
    steps = snapshot_steps(150_000, 1000)
    assert steps[0] == 1 and steps[1] == 1000 and steps[-1] == 150_000 and len(steps) == 151


def test_minibatches_are_without_replacement_and_cover_range():
    batches = minibatches.minibatch_indices(np.random.default_rng(0), 200, 40, 2000)
    assert batches.shape == (2000, 40) and batches.dtype == np.int64
    assert all(len(set(row)) == 40 for row in batches[:200])
    assert batches.min() == 0 and batches.max() == 199
    counts = np.bincount(batches.ravel(), minlength=200)
    expected = 2000 * 40 / 200
    assert np.all(np.abs(counts - expected) < 6 * np.sqrt(expected))


def test_minibatch_stream_does_not_depend_on_chunking():
    whole = minibatches.minibatch_indices(np.random.default_rng(7), 50, 10, 100)
    rng = np.random.default_rng(7)
    parts = [minibatches.minibatch_indices(rng, 50, 10, k) for k in (1, 33, 66)]
    assert np.array_equal(whole, np.concatenate(parts))


def test_compiled_and_numpy_shuffles_agree():
    u = np.random.default_rng(3).random((500, 40))
    compiled = minibatches._numba_partial_shuffle()
    assert compiled is not None, "numba is a dependency and must import"
    assert np.array_equal(compiled(u, 200), minibatches._partial_shuffle_numpy(u, 200))


# --- the torch backend against the homework's loop --------------------------------------
def test_torch_backend_equals_homework_loop_on_the_same_minibatches(data):
    model = lf.make_mlp(10, seed=0)
    ours = small_train(model, data, n_steps=250, save_every=100, backend="torch", seed=4)
    batches = minibatches.minibatch_indices(np.random.default_rng(4), 200, 40, 250)
    theirs = homework_train(copy.deepcopy(model), data.X, data.y, data.X_test, data.y_test, 250, 100, 0.02, batches)
    assert sorted(theirs) == [1, 100, 200]  # the homework drops the last step ...
    assert ours.steps.tolist() == [1, 100, 200, 250]  # ... we keep it
    for step in theirs:
        for name, value in theirs[step]["state"].items():
            assert torch.allclose(ours[step]["state"][name], value, rtol=1e-5, atol=1e-6)
        assert ours[step]["train_error"] == pytest.approx(theirs[step]["train_error"], rel=1e-5)
        assert ours[step]["test_error"] == pytest.approx(theirs[step]["test_error"], rel=1e-5)


def test_training_reduces_the_test_error(data):
    history = small_train(lf.make_mlp(20, seed=0), data, n_steps=3000, save_every=500)
    assert history.test_error[-1] < 0.8 * history.test_error[0]


def test_train_never_mutates_the_model(data):
    model = lf.make_mlp(10, seed=0)
    before = copy.deepcopy(model.state_dict())
    for paradigm in ("all", "output", "ridge"):
        small_train(model, data, paradigm=paradigm)
    for name, value in model.state_dict().items():
        assert torch.equal(value, before[name])
    assert all(p.requires_grad for p in model.parameters())


def test_same_seed_same_history_other_seed_other_history(data):
    model = lf.make_mlp(10, seed=0)
    a = small_train(model, data, seed=3)
    b = small_train(model, data, seed=3)
    c = small_train(model, data, seed=4)
    assert np.array_equal(a.params, b.params) and np.array_equal(a.test_error, b.test_error)
    assert not np.array_equal(a.params[-1], c.params[-1])


def test_output_paradigm_leaves_hidden_layers_untouched(data):
    model = lf.make_mlp(10, depth=2, seed=0)
    history = small_train(model, data, paradigm="output", n_steps=200)
    last = history.state(200)
    for name, value in model.state_dict().items():
        if name.startswith("4."):
            assert not torch.equal(last[name], value)
        else:
            assert torch.equal(last[name], value)
    assert history.config["lr"] == 0.2


def test_ridge_equals_closed_form(data):
    model = lf.make_mlp(20, seed=1)
    history = lf.train(model, data, paradigm="ridge", ridge_lambda=1e-3)
    assert history.steps.tolist() == [1]
    with torch.no_grad():
        phi = model[:-1](torch.tensor(data.X, dtype=torch.float32)).double().numpy()
    design = np.hstack([phi, np.ones((200, 1))])
    theta = np.linalg.solve(design.T @ design + 1e-3 * np.eye(21), design.T @ data.y)
    fitted = history.model(1)
    assert np.allclose(fitted[-1].weight.detach().numpy()[0], theta[:-1], rtol=1e-4, atol=1e-5)
    assert np.isclose(fitted[-1].bias.item(), theta[-1], rtol=1e-4, atol=1e-5)
    pred = design @ theta
    assert history.train_error[0] == pytest.approx(np.mean((pred - data.y) ** 2), rel=1e-4)
    # hidden layers are the initial ones
    assert torch.equal(fitted[0].weight, model[0].weight)


def test_ridge_fits_better_than_a_few_sgd_steps_on_the_output_layer(data):
    model = lf.make_mlp(40, seed=0)
    ridge = lf.train(model, data, paradigm="ridge")
    sgd = small_train(model, data, paradigm="output", n_steps=200)
    assert ridge.train_error[0] < np.mean(sgd.train_error)


# --- History ----------------------------------------------------------------------------
def test_history_reads_like_the_homeworks_dict(data):
    model = lf.make_mlp(10, seed=0)
    history = small_train(model, data, n_steps=250, save_every=100)
    assert list(history.keys()) == [1, 100, 200, 250]
    assert len(history) == 4 and 100 in history and 150 not in history
    snap = history[100]
    assert set(snap) == {"state", "train_error", "test_error"}
    fresh = lf.make_mlp(10)
    fresh.load_state_dict(snap["state"])
    x = torch.tensor(data.X_test, dtype=torch.float32)
    with torch.no_grad():
        mse = torch.mean((fresh(x)[:, 0] - torch.tensor(data.y_test, dtype=torch.float32)) ** 2).item()
    assert mse == pytest.approx(snap["test_error"], rel=1e-5)
    assert history.params.shape == (4, 31) and history.params.dtype == np.float32
    assert history.nbytes == history.params.nbytes + history.initial_params.nbytes + 4 * (8 + 8 + 8)


def test_history_model_is_fresh_and_step_zero_is_initialization(data):
    model = lf.make_mlp(10, seed=0)
    history = small_train(model, data)
    a, b = history.model(300), history.model(300)
    assert a is not b
    with torch.no_grad():
        a[0].weight.add_(1.0)
    assert not torch.equal(a[0].weight, history.model(300)[0].weight)
    for p, q in zip(history.model(0).parameters(), model.parameters()):
        assert torch.equal(p, q)
    with pytest.raises(ValueError, match="step 150 was not saved"):
        history.model(150)
    with pytest.raises(ValueError, match="not saved"):
        history[150]


def test_history_save_and_load_round_trip(tmp_path, data):
    history = small_train(lf.make_mlp(10, depth=2, seed=0), data)
    path = history.save(tmp_path / "run.npz")
    loaded = lf.History.load(path)
    assert np.array_equal(loaded.params, history.params)
    assert np.array_equal(loaded.steps, history.steps)
    assert np.array_equal(loaded.test_error, history.test_error)
    assert loaded.config == history.config
    for p, q in zip(loaded.model(100).parameters(), history.model(100).parameters()):
        assert torch.equal(p, q)


def test_failed_save_keeps_the_earlier_file(tmp_path, data, monkeypatch):
    history = small_train(lf.make_mlp(10, seed=0), data)
    path = history.save(tmp_path / "run.npz")
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(OSError, match="disk full"):
        history.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["run.npz"]


def test_load_refuses_other_files(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, a=np.arange(3))
    with pytest.raises(ValueError, match="not a History file"):
        lf.History.load(path)


# --- errors -----------------------------------------------------------------------------
def test_divergence_names_the_step_and_suggests_a_smaller_lr(data):
    with pytest.raises(lf.TrainingDiverged, match=r"at step \d+; try a smaller learning rate than lr=50"):
        small_train(lf.make_mlp(10, depth=2, seed=0), data, lr=50.0, n_steps=2000)


def test_float64_training(data):
    history = small_train(lf.make_mlp(10, seed=0), data, dtype="float64")
    assert history.params.dtype == np.float64
    assert next(history.model(1).parameters()).dtype == torch.float64


def test_a_custom_module_trains_with_all(data):
    model = nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1))
    with pytest.warns(lf.training.BackendFallbackWarning, match="another module"):
        history = small_train(model, data)
    assert history.params.shape == (4, 8 + 8 + 8 + 1)
    assert history.config["backend"] == "torch"


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"paradigm": "sgd"}, "paradigm must be one of 'all', 'output', 'ridge'"),
        ({"backend": "jax"}, "backend must be one of 'auto', 'torch', 'fast'"),
        ({"n_steps": 0}, "n_steps must be an integer >= 1"),
        ({"save_every": 0}, "save_every must be an integer >= 1"),
        ({"lr": 0.0}, "lr must be > 0"),
        ({"lr": float("nan")}, "lr must be a finite number"),
        ({"seed": -2}, r"seed must be an integer in \[0, 2\*\*63 - 1\] or None; got -2"),
        ({"dtype": "float16"}, "dtype must be one of 'float32', 'float64'"),
        ({"batch_size": 500}, "batch_size must be at most the number of training points"),
        ({"ridge_lambda": -1.0}, "ridge_lambda must be >= 0"),
        ({"device": "tpu"}, "device must be"),
    ],
)
def test_bad_arguments_are_refused(data, kwargs, match):
    with pytest.raises(ValueError, match=match):
        small_train(lf.make_mlp(5, seed=0), data, **kwargs)


def test_bad_model_and_data_are_refused(data):
    with pytest.raises(ValueError, match="data must be a Dataset"):
        lf.train(lf.make_mlp(5), (data.X, data.y))
    with pytest.raises(ValueError, match="model must be a torch.nn.Module"):
        lf.train("net", data)
    with pytest.raises(ValueError, match="paradigm 'output' needs an nn.Sequential ending in nn.Linear"):
        lf.train(nn.Sequential(nn.Linear(1, 3), nn.ReLU(), nn.Linear(3, 1), nn.Tanh()), data, paradigm="output")
    with pytest.raises(ValueError, match="outputs of shape \\(n, 1\\)"):
        small_train(nn.Sequential(nn.Linear(1, 3), nn.ReLU(), nn.Linear(3, 2)), data)
    with pytest.raises(ValueError, match="buffers"):
        small_train(nn.Sequential(nn.Linear(1, 3), nn.BatchNorm1d(3), nn.Linear(3, 1)), data)


def test_cuda_unavailable_is_a_clear_error(data):
    if torch.cuda.is_available():
        pytest.skip("a GPU is present; see test_cuda.py")
    with pytest.raises(ValueError, match="device 'cuda' is not available"):
        small_train(lf.make_mlp(5), data, device="cuda")
