"""Signals and gradients through many independent random networks at once: the book's one engine.

:func:`forward_backward` draws ``copies`` independent networks, stacked on a leading axis, pushes
a batch of inputs forward through them (and, if asked, a gradient backward) and returns every
layer's weights, pre-activations, activations and gradients as a :class:`Stack`.
:func:`simulate` turns a per-network statistic of a stack into an
:class:`~initcore.montecarlo.Estimate` over any number of networks, drawn chunk by chunk so that
memory stays flat and the standard error is taken across independent networks. The views the
chapters use most are built on them:

- :func:`layer_moments` - per-layer second moments of pre-activations, activations, gradients;
- :func:`layer_samples` - the values themselves, pooled, for histograms;
- :func:`linear_recursion` - what the linear regime predicts for :func:`layer_moments`;
- :func:`correlated_pairs` and :func:`pair_correlations` - input pairs of a given correlation and
  the correlation of their pre-activations, layer by layer.

The network: ``h_l = W_l x_(l-1) + b_l`` and ``x_l = phi(h_l)`` for ``l = 1..L``, with ``W_l`` of
torch shape ``(n_l, n_(l-1))``; with ``linear_output=True`` the last layer has no activation
(``x_L = h_L``). Arrays put examples in rows: ``h = x @ W.T``. The gradient at the output is a
standard normal draw (or a fixed ``grad_out``) independent of the weights, so backward moments are
those of an injected gradient.
"""
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Real

import numpy as np

from . import activations
from .montecarlo import Estimate, over_networks
from .seeding import as_generator

#: Most bytes one chunk of networks may hold (weights and every layer's values), so that memory
#: stays bounded: larger networks are drawn fewer at a time.
CHUNK_BYTES = 2**28


@dataclass
class Stack:
    """``copies`` independent networks after a forward pass (and a backward one, if asked).

    Every array has the network axis first and the batch axis second. ``weights[l]`` is
    ``W_(l+1)``, shape ``(c, n_(l+1), n_l)``; ``biases[l]`` is ``b_(l+1)`` (shape ``(c, 1, n_(l+1))``)
    or ``None``; ``pre[l]`` is ``h_(l+1)`` and ``post[l]`` is ``x_(l+1)``, shape
    ``(c, batch, n_(l+1))``; ``inputs`` is ``x_0``. ``grads[l]`` is dL/dx_l, the gradient at the
    input of layer ``l+1`` (``grads[0]`` at the network's input), and ``grad_out`` the gradient
    injected at the output (``None`` without a backward pass).
    """

    activation: activations.Activation
    inputs: np.ndarray
    weights: list
    biases: list
    pre: list
    post: list
    grads: list = None
    grad_out: np.ndarray = None
    linear_output: bool = False

    @property
    def depth(self):
        return len(self.weights)

    def slope(self, layer):
        """phi'(h_(layer+1)) (ones for a linear output layer)."""
        if layer == self.depth - 1 and self.linear_output:
            return np.ones_like(self.pre[layer])
        return self.activation.df(self.pre[layer])


def _check_widths(widths):
    widths = list(widths)
    bad = [n for n in widths if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 1]
    if bad:
        raise ValueError(f"widths must be positive integers [n_0, n_1, ..., n_L], got {widths!r} "
                         f"(not allowed: {bad!r})")
    if len(widths) < 2:
        raise ValueError("widths needs at least an input and an output width")
    return [int(n) for n in widths]


def _initializers(init, depth):
    """One initializer per layer: ``init`` itself, or the sequence given (one per layer)."""
    if callable(init):
        return [init] * depth
    if isinstance(init, Sequence) and len(init) == depth and all(callable(i) for i in init):
        return list(init)
    raise ValueError(f"init must be an initializer f(shape, rng=, copies=, dtype=) or a list of {depth} of them, "
                     f"one per layer; got {init!r}")


def _bias(bias, width, copies, gen, dtype):
    if bias is None:
        return None
    if isinstance(bias, Real) and not isinstance(bias, bool):
        if bias < 0:
            raise ValueError(f"a bias standard deviation must be >= 0, got {bias!r}")
        return (bias * gen.standard_normal((copies, 1, width))).astype(dtype, copy=False)
    if callable(bias):
        return np.asarray(bias((width,), rng=gen, copies=copies, dtype=dtype), dtype=dtype).reshape(copies, 1, width)
    raise ValueError(f"bias must be None, a standard deviation sigma_b, or an initializer f(shape, rng=, copies=, "
                     f"dtype=); got {bias!r}")


def _inputs(inputs, copies, batch, width, gen, dtype):
    if inputs is None:
        return gen.standard_normal((copies, batch, width), dtype=dtype)
    if callable(inputs):
        x = np.asarray(inputs(gen, copies, batch, width), dtype=dtype)
    else:
        x = np.broadcast_to(np.asarray(inputs, dtype=dtype).reshape(-1, width), (copies, batch, width))
    if x.shape != (copies, batch, width):
        raise ValueError(f"inputs must give shape (copies, batch, n_0) = {(copies, batch, width)}, got {x.shape}")
    return x


def forward_backward(init, widths, activation="relu", *, copies, rng=None, batch=16, inputs=None, bias=None,
                     backward=False, grad_out=None, linear_output=False, dtype=np.float64):
    """``copies`` independent networks, one forward pass (and one backward pass): a :class:`Stack`.

    ``init`` draws the weights, ``init(shape, rng=..., copies=c, dtype=...)`` as every initializer
    of :mod:`initcore.schemes` does, or is a list of such initializers, one per layer.
    ``widths = [n_0, ..., n_L]``; ``activation`` a name or an
    :class:`~initcore.activations.Activation`. ``inputs``: ``None`` (standard normal), an array of
    ``batch`` rows shared by every network, or ``inputs(rng, c, batch, n_0)``. ``bias``: ``None``,
    a standard deviation ``sigma_b`` (independent ``N(0, sigma_b^2)`` per unit and network), or an
    initializer of shape ``(n,)``. ``grad_out``: the gradient injected at the output (standard
    normal when ``None``).
    """
    phi = activations.get(activation)
    widths = _check_widths(widths)
    depth = len(widths) - 1
    inits = _initializers(init, depth)
    gen = as_generator(rng)
    x = _inputs(inputs, copies, batch, widths[0], gen, dtype)
    stack = Stack(phi, x, [], [], [], [], linear_output=linear_output)
    for layer in range(depth):
        w = inits[layer]((widths[layer + 1], widths[layer]), rng=gen, copies=copies, dtype=dtype)
        b = _bias(bias, widths[layer + 1], copies, gen, dtype)
        h = np.matmul(x, np.swapaxes(w, -1, -2))
        if b is not None:
            h += b
        x = h if (linear_output and layer == depth - 1) else phi.f(h)
        stack.weights.append(w)
        stack.biases.append(b)
        stack.pre.append(h)
        stack.post.append(x)
    if backward:
        g = (gen.standard_normal(x.shape, dtype=dtype) if grad_out is None
             else np.broadcast_to(np.asarray(grad_out, dtype=dtype), x.shape))
        stack.grad_out = g
        stack.grads = [None] * depth
        for layer in reversed(range(depth)):
            g = np.matmul(g * stack.slope(layer), stack.weights[layer])
            stack.grads[layer] = g
    return stack


def _bytes_per_network(widths, batch, backward, dtype):
    depth = len(widths) - 1
    values = sum(widths[i + 1] * (widths[i] + (3 if backward else 2) * batch) for i in range(depth))
    return np.dtype(dtype).itemsize * values


def simulate(statistic, init, widths, activation="relu", *, networks=200, chunk=16, rng=None, batch=16,
             backward=False, dtype=np.float64, **options):
    """The mean of a per-network ``statistic`` over ``networks`` independent networks.

    ``statistic(stack)`` receives a :class:`Stack` of ``c`` networks and returns ``c`` values (an
    array with first axis ``c``; further axes give a vector estimate). The networks are drawn
    ``chunk`` at a time (fewer when they are large, see :data:`CHUNK_BYTES`) by
    :func:`forward_backward`, which takes the other arguments. Per-network means accumulate in
    double precision even when ``dtype`` is ``float32``.
    """
    widths = _check_widths(widths)
    chunk = max(1, min(int(chunk), CHUNK_BYTES // _bytes_per_network(widths, batch, backward, dtype)))

    def draw(gen, c):
        return statistic(forward_backward(init, widths, activation, copies=c, rng=gen, batch=batch,
                                          backward=backward, dtype=dtype, **options))

    return over_networks(draw, networks, chunk=chunk, rng=rng)


def mean_square(values):
    """Per network: the mean of ``values**2`` over the batch and the units (in double precision)."""
    return np.mean(np.square(values), axis=(1, 2), dtype=np.float64)


def correlated_pairs(c0, pairs=1):
    """``inputs`` for :func:`forward_backward`: ``pairs`` input pairs per network with correlation exactly ``c0``.

    Rows ``:pairs`` are the first inputs and rows ``pairs:`` their partners (so ``batch = 2 * pairs``);
    every input has norm sqrt(n_0), one unit of second moment per coordinate.
    """
    if not -1.0 <= c0 <= 1.0:
        raise ValueError(f"a correlation lies in [-1, 1], got {c0!r}")

    def inputs(rng, c, batch, n):
        if batch != 2 * pairs:
            raise ValueError(f"correlated_pairs({c0}, pairs={pairs}) needs batch = {2 * pairs}, got {batch}")
        a, b = rng.standard_normal((2, c, pairs, n))
        e1 = a / np.linalg.norm(a, axis=-1, keepdims=True)
        b = b - np.sum(b * e1, axis=-1, keepdims=True) * e1
        e2 = b / np.linalg.norm(b, axis=-1, keepdims=True)
        return np.sqrt(n) * np.concatenate([e1, c0 * e1 + np.sqrt(1 - c0**2) * e2], axis=1)

    return inputs


def pair_correlations(stack):
    """Per network and layer: the correlation (cosine) of the pre-activations of each input pair of
    :func:`correlated_pairs`, averaged over the pairs; shape ``(c, L)``."""
    def correlation(h):
        pairs = h.shape[1] // 2
        ha, hb = h[:, :pairs], h[:, pairs:]
        return np.mean(np.sum(ha * hb, axis=-1) / np.sqrt(np.sum(ha * ha, axis=-1) * np.sum(hb * hb, axis=-1)), axis=1)

    return np.stack([correlation(h) for h in stack.pre], axis=1)


@dataclass(frozen=True)
class LayerMoments:
    """Per-layer second moments, each an :class:`~initcore.montecarlo.Estimate` with one value per layer.

    ``pre[l]``: mean of h_(l+1)^2 over units and inputs; ``post[l]``: the same for
    x_(l+1) = phi(h_(l+1)); ``grad[l]``: mean of (dL/dx_l)^2 for x_0 (the input) up to x_(L-1)
    (``None`` without ``backward``).
    """

    pre: Estimate
    post: Estimate
    grad: Estimate = None


def layer_moments(init, widths, activation="relu", *, networks=200, batch=16, backward=False, chunk=16,
                  dtype=np.float64, rng=None, **options):
    """Second moments layer by layer over ``networks`` independent networks (:func:`simulate`).

    Takes the arguments of :func:`forward_backward` (``inputs``, ``bias``, ``grad_out``,
    ``linear_output``) and returns :class:`LayerMoments`.
    """
    def statistic(stack):
        parts = [[mean_square(h) for h in stack.pre], [mean_square(x) for x in stack.post]]
        if backward:
            parts.append([mean_square(g) for g in stack.grads])
        return np.concatenate([np.stack(p, axis=1) for p in parts], axis=1)

    est = simulate(statistic, init, widths, activation, networks=networks, chunk=chunk, rng=rng, batch=batch,
                   backward=backward, dtype=dtype, **options)
    depth = len(widths) - 1
    parts = [Estimate(est.value[i * depth:(i + 1) * depth], est.se[i * depth:(i + 1) * depth], est.n)
             for i in range(3 if backward else 2)]
    return LayerMoments(*parts)


def layer_samples(init, widths, activation="tanh", *, networks=4, batch=64, rng=None, dtype=np.float64,
                  **options):
    """Activations and back-propagated gradients of every layer, pooled over independent networks.

    Returns ``(post, grads)``: ``post[l]`` the values of x_(l+1) (layer l+1's output) and
    ``grads[l]`` those of dL/dx_l (the gradient at layer l+1's input), as 1-D arrays, for
    histograms. The same conventions as :func:`layer_moments`.
    """
    stack = forward_backward(init, widths, activation, copies=networks, rng=rng, batch=batch, backward=True,
                             dtype=dtype, **options)
    return [x.ravel() for x in stack.post], [g.ravel() for g in stack.grads]


def linear_recursion(widths, variances, q0=1.0, r_out=1.0, slope=1.0):
    """The linear-regime prediction of :func:`layer_moments`' ``pre`` and ``grad``.

    ``widths = [n_0, ..., n_L]``, ``variances[l]`` the weight variance of layer l+1 (shape
    ``(n_(l+1), n_l)``), ``slope`` the activation's derivative at 0. Returns ``(forward,
    backward)`` arrays of length L: ``forward[l]`` is E[h^2] of the pre-activations of layer l+1,
    q0 * slope^(2l) * prod_(m=0..l) n_m v_m; ``backward[l]`` is E[(dL/dx_l)^2] for the input x_l of
    layer l+1, from E[(dL/dx_L)^2] = ``r_out`` back through layers L..l+1, each multiplying by
    n_out v slope^2 (the output gradient also passes the last activation).
    """
    widths = [int(n) for n in widths]
    variances = [float(v) for v in variances]
    depth = len(widths) - 1
    if len(variances) != depth:
        raise ValueError(f"need one variance per layer: {depth} layers, got {len(variances)}")
    forward = np.empty(depth)
    q = float(q0)
    for layer in range(depth):
        q = widths[layer] * variances[layer] * q * (slope**2 if layer > 0 else 1.0)
        forward[layer] = q
    backward = np.empty(depth)
    r = float(r_out)
    for layer in reversed(range(depth)):
        r = widths[layer + 1] * variances[layer] * r * slope**2
        backward[layer] = r
    return forward, backward


__all__ = ["CHUNK_BYTES", "LayerMoments", "Stack", "correlated_pairs", "forward_backward", "layer_moments",
           "layer_samples", "linear_recursion", "mean_square", "pair_correlations", "simulate"]
