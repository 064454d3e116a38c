"""The compiled kernels of the fast trainer (imported only when numba is present).

Defined at module level so numba's on-disk cache (``cache=True``) can store and reload
them: a second process pays no compile time.
"""

import numba
import numpy as np

# fast-math without 'nnan'/'ninf': sums may be reassociated (vectorized), but the compiler
# may not assume away the non-finite loss we check for
_FASTMATH = {"reassoc", "contract", "nsz", "arcp"}

jit = numba.njit(cache=True, nogil=True, fastmath=_FASTMATH)

# Inner loops index 2-D views with plain range variables only: numba then knows the
# indices are non-negative and LLVM vectorizes the loops (computed flat offsets such
# as theta[row + j] defeat that and run several times slower).


@jit
def forward(theta, wt, sizes, w_off, b_off, X, acts, z):
    """Forward pass of points X (m, sizes[0]) into acts (L+1, m, max width).

    ``wt`` holds each weight matrix transposed, so the inner loop is a contiguous
    axpy over the layer's outputs; inputs that are exactly 0 (inactive ReLUs, about
    half of them) are skipped.
    """
    n_layers = sizes.shape[0] - 1
    m = X.shape[0]
    first = acts[0]
    for p in range(m):
        for j in range(sizes[0]):
            first[p, j] = X[p, j]
    for layer in range(n_layers):
        n_in, n_out = sizes[layer], sizes[layer + 1]
        wo, bo = w_off[layer], b_off[layer]
        WT = wt[wo:bo].reshape((n_in, n_out))
        b = theta[bo : bo + n_out]
        inputs, outputs = acts[layer], acts[layer + 1]
        hidden = layer < n_layers - 1
        if n_out == 1:
            # the output layer: one dot product per point (a vectorized reduction)
            w = theta[wo:bo]
            for p in range(m):
                total = b[0]
                for j in range(n_in):
                    total += w[j] * inputs[p, j]
                outputs[p, 0] = 0.0 if hidden and total < 0 else total
            continue
        for p in range(m):
            for i in range(n_out):
                z[i] = b[i]
            for j in range(n_in):
                a = inputs[p, j]
                if a != 0:
                    for i in range(n_out):
                        z[i] += a * WT[j, i]
            for i in range(n_out):
                # a ReLU that keeps NaN a NaN, as PyTorch's does
                outputs[p, i] = 0.0 if hidden and z[i] < 0 else z[i]


@jit
def sgd(theta, wt, sizes, w_off, b_off, X, y, batches, lr, losses, acts, xb, g, g_prev, grad):
    """Run len(batches) SGD steps on every parameter in place; index of a non-finite loss, or -1.

    ``losses`` (float64, at least len(batches)) receives each step's minibatch MSE,
    computed before that step's update.
    """
    n_layers = sizes.shape[0] - 1
    n_steps, batch = batches.shape
    top = acts[n_layers]
    for s in range(n_steps):
        for p in range(batch):
            r = batches[s, p]
            for j in range(sizes[0]):
                xb[p, j] = X[r, j]
        forward(theta, wt, sizes, w_off, b_off, xb, acts, g_prev[0])
        loss = 0.0
        for p in range(batch):
            out, target = top[p, 0], y[batches[s, p]]
            diff = out - target
            g[p, 0] = 2.0 * diff / batch
            # the loss is summed in float64 from the outputs, in every dtype and in both
            # backends, so it is infinite only when the mean itself is (see TrainingDiverged)
            d = np.float64(out) - np.float64(target)
            loss += d * d
        loss = loss / batch
        losses[s] = loss
        if not np.isfinite(loss):
            return s
        # backward, top layer first; each layer's gradient uses the weights before any
        # update; sensitivities that are exactly 0 (inactive ReLUs) are skipped
        for layer in range(n_layers - 1, -1, -1):
            n_in, n_out = sizes[layer], sizes[layer + 1]
            wo, bo = w_off[layer], b_off[layer]
            W = theta[wo:bo].reshape((n_out, n_in))
            gW = grad[wo:bo].reshape((n_out, n_in))
            gb = grad[bo : bo + n_out]
            inputs = acts[layer]
            gW[:, :] = 0.0
            gb[:] = 0.0
            if n_in == 1:
                # the first layer: its weight gradient is a column, loop over it inside
                gw = grad[wo:bo]
                for p in range(batch):
                    a = inputs[p, 0]
                    for i in range(n_out):
                        gb[i] += g[p, i]
                        gw[i] += g[p, i] * a
                continue
            for p in range(batch):
                for i in range(n_out):
                    gi = g[p, i]
                    if gi != 0:
                        gb[i] += gi
                        for j in range(n_in):
                            gW[i, j] += gi * inputs[p, j]
            if layer > 0:
                for p in range(batch):
                    for j in range(n_in):
                        g_prev[p, j] = 0.0
                    for i in range(n_out):
                        gi = g[p, i]
                        if gi != 0:
                            for j in range(n_in):
                                g_prev[p, j] += gi * W[i, j]
                    for j in range(n_in):
                        g[p, j] = g_prev[p, j] if inputs[p, j] > 0 else 0.0
        for k in range(theta.shape[0]):
            theta[k] -= lr * grad[k]
        for layer in range(n_layers):
            n_in, n_out = sizes[layer], sizes[layer + 1]
            wo, bo = w_off[layer], b_off[layer]
            if n_in == 1 or n_out == 1:
                # a row or a column: transposing leaves the flat order as it is
                for k in range(wo, bo):
                    wt[k] = theta[k]
                continue
            W = theta[wo:bo].reshape((n_out, n_in))
            WT = wt[wo:bo].reshape((n_in, n_out))
            for j in range(n_in):
                for i in range(n_out):
                    WT[j, i] = W[i, j]
    return -1


@jit
def mse(theta, wt, sizes, w_off, b_off, X, y, acts, z):
    """Mean squared error of the network on all of X (m, sizes[0]), y (m,)."""
    forward(theta, wt, sizes, w_off, b_off, X, acts, z)
    top = acts[sizes.shape[0] - 1]
    total = 0.0
    for p in range(X.shape[0]):
        diff = np.float64(top[p, 0]) - np.float64(y[p])
        total += diff * diff
    return total / X.shape[0]


@numba.njit(cache=True, nogil=True)
def partial_shuffle(u, n):
    """Minibatch indices (k, batch) from uniforms u (k, batch); see minibatches.minibatch_indices."""
    k, batch = u.shape
    out = np.empty((k, batch), dtype=np.int64)
    perm = np.empty(n, dtype=np.int64)
    for s in range(k):
        for i in range(n):
            perm[i] = i
        for j in range(batch):
            r = j + np.int64(u[s, j] * (n - j))
            swap = perm[j]
            perm[j] = perm[r]
            perm[r] = swap
            out[s, j] = perm[j]
    return out
