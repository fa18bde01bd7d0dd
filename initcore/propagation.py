"""Signals and gradients through many independent random networks at once.

:func:`layer_moments` is the Monte Carlo engine behind the chapters' depth
plots: it stacks ``chunk`` independent networks into 3-D arrays, pushes a
batch of inputs forward (and, if asked, a random gradient backward), and
returns per-layer second moments averaged over networks, with standard errors
taken across networks. Networks are drawn chunk by
chunk, so memory does not grow with their number.
"""
from dataclasses import dataclass

import numpy as np

from . import activations
from .montecarlo import Estimate, over_networks

#: Most bytes one chunk of networks may keep for the backward pass (weights and slopes of every
#: layer): larger networks are drawn fewer at a time, so memory stays bounded.
CHUNK_BYTES = 2**28


@dataclass(frozen=True)
class LayerMoments:
    """Per-layer second moments, each an :class:`~initcore.montecarlo.Estimate` with one value per layer.

    ``pre[l]``: mean of h_l^2 over units and inputs, h_l = W_l x_(l-1) the
    pre-activation of layer l+1; ``post[l]``: the same for x_l = phi(h_l);
    ``grad[l]``: mean of (dL/dx_l)^2 for x_0 (the input) up to x_(L-1), from a
    standard normal gradient at the output (``None`` without ``backward``).
    """

    pre: Estimate
    post: Estimate
    grad: Estimate = None


def layer_moments(init, widths, activation="relu", *, networks=200, batch=16, backward=False,
                  chunk=16, dtype=np.float64, rng=None, inputs=None):
    """Second moments layer by layer over ``networks`` independent networks.

    ``init(shape, rng=..., copies=c, dtype=...)`` draws ``c`` weight matrices
    of torch shape ``(out, in)`` (every initializer of ``initcore`` does);
    ``widths = [n_0, n_1, ..., n_L]``; ``activation`` a name or an
    :class:`~initcore.activations.Activation`. Inputs are standard normal
    unless ``inputs(rng, c, batch, n_0)`` makes them.
    """
    phi = activations.get(activation)
    widths = list(widths)
    bad = [n for n in widths if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 1]
    if bad:
        raise ValueError(f"widths must be positive integers [n_0, n_1, ..., n_L], got {widths!r} "
                         f"(not allowed: {bad!r})")
    widths = [int(n) for n in widths]
    if len(widths) < 2:
        raise ValueError("widths needs at least an input and an output width")
    depth = len(widths) - 1

    def statistic(gen, c):
        if inputs is None:
            x = gen.standard_normal((c, batch, widths[0]), dtype=dtype)
        else:
            x = np.asarray(inputs(gen, c, batch, widths[0]), dtype=dtype)
        pre = np.empty((c, depth))
        post = np.empty((c, depth))
        weights, slopes = [], []
        for layer in range(depth):
            w = init((widths[layer + 1], widths[layer]), rng=gen, copies=c, dtype=dtype)
            h = np.matmul(x, np.swapaxes(w, -1, -2))
            x = phi.f(h)
            # per-network means accumulate in float64 even when the draws are float32
            pre[:, layer] = np.mean(h * h, axis=(1, 2), dtype=np.float64)
            post[:, layer] = np.mean(x * x, axis=(1, 2), dtype=np.float64)
            if backward:
                weights.append(w)
                slopes.append(phi.df(h))
        if not backward:
            return np.concatenate([pre, post], axis=1)
        grad = np.empty((c, depth))
        g = gen.standard_normal(x.shape, dtype=dtype)
        for layer in reversed(range(depth)):
            g = np.matmul(g * slopes[layer], weights[layer])
            grad[:, layer] = np.mean(g * g, axis=(1, 2), dtype=np.float64)
        return np.concatenate([pre, post, grad], axis=1)

    if backward:  # the backward pass keeps every layer's weights and slopes for a whole chunk
        per_network = np.dtype(dtype).itemsize * sum(
            widths[i + 1] * (widths[i] + batch) for i in range(depth))
        chunk = max(1, min(chunk, CHUNK_BYTES // per_network))
    est = over_networks(statistic, networks, chunk=chunk, rng=rng)
    parts = [Estimate(est.value[i * depth:(i + 1) * depth], est.se[i * depth:(i + 1) * depth], est.n)
             for i in range(3 if backward else 2)]
    return LayerMoments(*parts)
