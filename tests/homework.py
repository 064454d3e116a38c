"""The original homework's algorithms, rewritten plainly as known answers.

Tests compare the package against these; benchmarks time them as the baseline. They
keep the homework's approach on purpose (one point and one backward pass at a time,
``.item()`` per entry, a fresh figure per redraw): that is what is being measured.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def homework_dataset(f_type: str = "piecewise_linear"):
    """The homework's data recipe, step by step as its notebook does it."""

    def f_true(X):
        if f_type == "sin(20x)":
            return np.sin(20 * X[:, 0])
        ten_x = 10 * X[:, 0]
        return (ten_x - np.floor(ten_x)) * np.sin(12345 * np.ceil(ten_x)) - (ten_x - np.ceil(ten_x)) * np.sin(
            12345 * np.floor(ten_x)
        )

    rng = np.random.RandomState(1)
    X = np.sort(rng.rand(200, 1), axis=0)
    y = f_true(X) + rng.randn(200) * 0.1
    X_test = np.sort(np.concatenate([X.copy(), np.expand_dims(np.linspace(0.0, 1.0, 1000), axis=1)]), axis=0)
    return X, y, X_test, f_true(X_test)


def per_point_jacobian(model: nn.Module, X: np.ndarray) -> np.ndarray:
    """The homework's loop: one backward pass per point, one ``.item()`` per entry -> (n, d)."""
    rows = []
    for x in X:
        out = model(torch.tensor(np.atleast_1d(x), dtype=next(model.parameters()).dtype))
        model.zero_grad()
        out.sum().backward()
        row = []
        for _, p in model.named_parameters():
            for g in p.grad.reshape(-1):
                row.append(g.item())
        rows.append(row)
    return np.array(rows)


def homework_svd(model: nn.Module, X: np.ndarray):
    """Part (b) as the homework solves it: per-point Jacobian, full numpy SVD."""
    J = per_point_jacobian(model, X)
    u, s, _ = np.linalg.svd(J, full_matrices=False)
    return u @ np.diag(s), s


def finite_difference_jacobian(model: nn.Module, X: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central differences in float64, one parameter at a time -> (n, d)."""
    model = _copy64(model)
    x = torch.as_tensor(X, dtype=torch.float64).reshape(-1, 1)
    flat = torch.nn.utils.parameters_to_vector(model.parameters()).detach()
    columns = []
    for j in range(flat.numel()):
        outs = []
        for sign in (1.0, -1.0):
            shifted = flat.clone()
            shifted[j] += sign * h
            torch.nn.utils.vector_to_parameters(shifted, model.parameters())
            with torch.no_grad():
                outs.append(model(x)[:, 0].numpy())
        columns.append((outs[0] - outs[1]) / (2 * h))
    torch.nn.utils.vector_to_parameters(flat, model.parameters())
    return np.stack(columns, axis=1)


def one_hidden_layer_jacobian(model: nn.Module, X: np.ndarray) -> np.ndarray:
    """Closed form of y = a . relu(w x + b) + c, columns (w, b, a, c) -> (n, 3 width + 1)."""
    w = model[0].weight.detach().double().numpy()[:, 0]
    b = model[0].bias.detach().double().numpy()
    a = model[2].weight.detach().double().numpy()[0]
    x = np.asarray(X, dtype=np.float64).reshape(-1, 1)
    z = x * w + b
    on = (z > 0).astype(np.float64)
    return np.hstack([a * on * x, a * on, np.maximum(z, 0.0), np.ones_like(x)])


def homework_train(model, X, y, X_test, y_test, n_steps, save_every, lr, batches=None):
    """The homework's SGD loop (optionally fed a given minibatch stream) -> {step: snapshot}."""
    import copy

    loss = nn.MSELoss()
    X_train = torch.from_numpy(np.array(X)).float()
    y_train = torch.from_numpy(np.array(y).reshape(-1, 1)).float()
    Xt = torch.from_numpy(np.array(X_test)).float()
    yt = torch.from_numpy(np.array(y_test).reshape(-1, 1)).float()
    optim = torch.optim.SGD(model.parameters(), lr=lr)
    history = {}
    for s in range(n_steps):
        subsample = torch.randperm(y.size)[: y.size // 5] if batches is None else torch.as_tensor(batches[s])
        step_loss = loss(y_train[subsample], model(X_train[subsample, :]))
        optim.zero_grad()
        step_loss.backward()
        optim.step()
        if (s + 1) % save_every == 0 or s == 0:
            with torch.no_grad():
                test_loss = loss(yt, model(Xt))
            history[s + 1] = {
                "state": copy.deepcopy(model.state_dict()),
                "train_error": step_loss.item(),
                "test_error": test_loss.item(),
            }
    return history


def _copy64(model):
    import copy

    return copy.deepcopy(model).double()


def homework_redraw(X, y, X_test, y_test, net, state):
    """The homework's ``plot_update`` for one slider move, then the Agg draw that shows it.

    As the homework does it: load the snapshot into ``net`` (mutating it), open a new
    10 x 7 figure, draw each ReLU (only two sign cases, one with the wrong height) with
    its elbow dot, the prediction, the data and the ground truth, add the legend. Returns
    the figure; the homework leaves it open (the caller may close it).
    """
    import matplotlib.pyplot as plt

    net.load_state_dict(state)
    fig = plt.figure(figsize=(10, 7))
    params = list(net.parameters())
    slopes = params[0].detach().numpy().ravel()
    biases = params[1].detach().numpy()
    for bias, slope in zip(biases, slopes):
        plt.scatter([-bias / slope], 0, c="darkgrey", s=40.0)
        if slope > 0 and bias < 0:
            plt.plot([0, -bias / slope, 1], [0, 0, slope * (1 - bias)], ":")
        elif slope < 0 and bias > 0:
            plt.plot([0, -bias / slope, 1], [-bias * slope, 0, 0], ":")
    y_pred = net(torch.from_numpy(np.array(X_test)).float())
    plt.plot(X_test, y_pred.detach().numpy(), "-", color="forestgreen", label="prediction")
    plt.xlim(0, 1)
    plt.ylim(-2.5, 2.5)
    plt.scatter(X[:, 0], y, c="darkorange", s=40.0, label="training data points")
    plt.plot(X_test, y_test, "--", color="royalblue", linewidth=2.0, label="Ground truth")
    plt.legend()
    fig.canvas.draw()
    return fig
