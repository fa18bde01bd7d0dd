"""Signals and gradients of a plain ReLU network with a linear output (chapter ``ch-relu``).

The network is the one of the layer recurrence in the chapter on ReLU and He
initialization::

    b_0 = x,   a_i = W_i b_(i-1)  (i = 1..N),   b_i = ReLU(a_i)  (i < N),   o = a_N

with ``W_i`` of torch shape ``(n_i, n_(i-1))`` and independent
``N(0, s_i^2)`` entries: one per-entry standard deviation ``s_i`` per layer (the chapter writes
``s_i``, keeping ``sigma_w^2`` for the mean-field scale ``n Var[W]``), so the product
formulas of the recurrence can be checked with any choice of ``s_i``.
The input ``x`` and the gradient ``grad_out`` of the loss with respect to the
logits ``o`` are held fixed; the weights are redrawn for every network, and
the network is the unit of repetition (DESIGN.md section 5).
"""
import numpy as np

from .montecarlo import Estimate, over_networks


def chain_moments(x, sigmas, widths, grad_out, networks=400, chunk=50, rng=None):
    """Per-layer second moments of a ReLU chain over ``networks`` independent networks.

    ``widths = [n_0, ..., n_N]``, ``sigmas = [s_1, ..., s_N]`` (the
    per-entry weight standard deviation of each layer), ``x`` a fixed input of length
    ``n_0`` and ``grad_out`` a fixed gradient at the logits, of length ``n_N``.

    Returns ``(forward, backward)``, two :class:`~initcore.montecarlo.Estimate`
    with ``N`` values each:

    - ``forward[i-1]`` estimates E[mean_j a_(i,j)^2], the second moment of the
      entries of the pre-activation ``a_i`` (i = 1..N);
    - ``backward[i-1]`` estimates E[mean_j (dl/db_(i-1),j)^2], the second
      moment of the gradient that reaches the input ``b_(i-1)`` of layer ``i``
      (i = 1..N; ``backward[0]`` is the gradient with respect to ``x``).
    """
    widths = [int(n) for n in widths]
    depth = len(widths) - 1
    if depth < 1:
        raise ValueError("widths needs at least an input and an output width")
    if any(n < 1 for n in widths):
        raise ValueError(f"every width must be at least 1, got {widths}")
    sigmas = [float(s) for s in sigmas]
    if len(sigmas) != depth:
        raise ValueError(f"need one weight standard deviation per layer: {depth} layers, {len(sigmas)} sigmas")
    if any(not s > 0 for s in sigmas):
        raise ValueError(f"weight standard deviations must be positive, got {sigmas}")
    x = np.asarray(x, dtype=np.float64)
    grad_out = np.asarray(grad_out, dtype=np.float64)
    if x.shape != (widths[0],):
        raise ValueError(f"x must have shape ({widths[0]},), got {x.shape}")
    if grad_out.shape != (widths[-1],):
        raise ValueError(f"grad_out must have shape ({widths[-1]},), got {grad_out.shape}")

    def statistic(gen, c):
        b = np.broadcast_to(x, (c, widths[0]))
        weights, pres = [], []
        forward = np.empty((c, depth))
        for i in range(depth):
            w = gen.normal(0.0, sigmas[i], size=(c, widths[i + 1], widths[i]))
            a = np.einsum("cij,cj->ci", w, b)
            forward[:, i] = np.mean(a * a, axis=1)
            weights.append(w)
            pres.append(a)
            b = np.maximum(a, 0.0)
        backward = np.empty((c, depth))
        g = np.broadcast_to(grad_out, (c, widths[-1]))          # dl/da_N = dl/do
        for i in reversed(range(depth)):
            gb = np.einsum("cij,ci->cj", weights[i], g)          # dl/db_(i-1) for layer i = index + 1
            backward[:, i] = np.mean(gb * gb, axis=1)
            if i > 0:
                g = gb * (pres[i - 1] > 0)                         # through ReLU'(a_(i-1))
        return np.concatenate([forward, backward], axis=1)

    est = over_networks(statistic, networks, chunk=chunk, rng=rng)
    value, se = np.asarray(est.value), np.asarray(est.se)
    return (Estimate(value[:depth], se[:depth], est.n), Estimate(value[depth:], se[depth:], est.n))
