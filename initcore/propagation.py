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

Two options turn the same engine into the networks of modern architectures:

- ``norm="layer" | "rms" | "batch"`` normalizes every activation's argument: layer and RMS
  normalization over the units of one example, batch normalization over the examples of a batch
  (per unit), without learned scale and shift (they are 1 and 0 at initialization);
- ``residual=alpha`` makes a residual stream of one width ``n``: blocks of ``branch = m`` layers,
  ``x_k = x_(k-1) + alpha_k F_k(x_(k-1))`` with the pre-activation branch
  ``F(x) = W_m phi(N(... W_1 phi(N(x))))`` (He et al. 2016's identity mappings; ``N`` the
  normalization, or nothing). Each layer of a branch is ``z_j = W_j phi(N(z_(j-1))) + b_j``.
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

    With ``norm``, ``pre[l]`` is the normalized argument of the activation and ``scales[l]`` the
    divisor that normalized it. In a residual network (``residual`` given) ``pre[l]`` is the
    argument ``N(z)`` of layer ``l+1``'s activation and ``post[l]`` its output ``z_(l+1) = W phi(pre)
    + b``; ``stream[k]`` is ``x_k`` (``stream[0]`` the input, ``stream[-1]`` the output, one entry
    per block after it) and ``grads[k]`` is dL/dx_k at the input of block ``k+1``.
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
    norm: str = None
    scales: list = None
    stream: list = None
    alphas: list = None
    branch: int = 1

    @property
    def residual(self):
        return self.stream is not None

    @property
    def depth(self):
        return len(self.weights)

    def slope(self, layer):
        """phi'(h_(layer+1)) (ones for a linear output layer)."""
        if layer == self.depth - 1 and self.linear_output:
            return np.ones_like(self.pre[layer])
        return self.activation.df(self.pre[layer])

    @property
    def output(self):
        """``x_L``, the network's output (the last entry of the stream in a residual network)."""
        return self.stream[-1] if self.residual else self.post[-1]


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


NORMS = ("layer", "rms", "batch")

#: Added to the mean square before the square root in every normalization, as PyTorch's default.
NORM_EPS = 1e-5


def _norm_axis(norm):
    return 1 if norm == "batch" else -1


def normalize(z, norm):
    """``(N(z), scale)``: ``z`` normalized as ``norm`` says (``None``: ``z`` itself, scale ``None``).

    ``"layer"`` centres and scales each example over its units, ``"rms"`` only scales it (RMSNorm),
    ``"batch"`` centres and scales each unit over the examples of the batch (axis 1 of a stack).
    The scale is ``sqrt(mean square + NORM_EPS)``.
    """
    if norm is None:
        return z, None
    axis = _norm_axis(norm)
    if norm != "rms":
        z = z - np.mean(z, axis=axis, keepdims=True)
    scale = np.sqrt(np.mean(np.square(z), axis=axis, keepdims=True) + NORM_EPS)
    return z / scale, scale


def normalize_backward(g, u, scale, norm):
    """The gradient with respect to ``z`` of a normalization ``u = N(z)``, given ``g = dL/du``.

    Exact with the ``NORM_EPS`` term: ``(g - mean(g) - u mean(g u)) / scale`` (no ``mean(g)`` for
    RMS), the means over the normalized axis.
    """
    if norm is None:
        return g
    axis = _norm_axis(norm)
    out = g - u * np.mean(g * u, axis=axis, keepdims=True)
    if norm != "rms":
        out -= np.mean(g, axis=axis, keepdims=True)
    return out / scale


def _check_norm(norm):
    if norm is not None and norm not in NORMS:
        raise ValueError(f"norm must be None or one of {NORMS}, got {norm!r}")
    return norm


def _alphas(residual, widths, branch):
    """The branch scale of every block, after checking that the network can be residual."""
    if isinstance(branch, bool) or not isinstance(branch, (int, np.integer)) or branch < 1:
        raise ValueError(f"branch (layers per residual block) must be a positive integer, got {branch!r}")
    depth = len(widths) - 1
    if len(set(widths)) != 1:
        raise ValueError(f"a residual network keeps one width for its stream: widths must all be equal, "
                         f"got {widths!r}")
    if depth % branch:
        raise ValueError(f"{depth} layers do not split into blocks of branch={branch} layers")
    blocks = depth // branch
    alphas = [residual] * blocks if isinstance(residual, Real) else list(residual)
    if len(alphas) != blocks or not all(isinstance(a, Real) and not isinstance(a, bool) for a in alphas):
        raise ValueError(f"residual must be one branch scale alpha or a list of {blocks} of them (one per block), "
                         f"got {residual!r}")
    return [float(a) for a in alphas]


def forward_backward(init, widths, activation="relu", *, copies, rng=None, batch=16, inputs=None, bias=None,
                     backward=False, grad_out=None, linear_output=False, dtype=np.float64, norm=None,
                     residual=None, branch=1):
    """``copies`` independent networks, one forward pass (and one backward pass): a :class:`Stack`.

    ``init`` draws the weights, ``init(shape, rng=..., copies=c, dtype=...)`` as every initializer
    of :mod:`initcore.schemes` does, or is a list of such initializers, one per layer.
    ``widths = [n_0, ..., n_L]``; ``activation`` a name or an
    :class:`~initcore.activations.Activation`. ``inputs``: ``None`` (standard normal), an array of
    ``batch`` rows shared by every network, or ``inputs(rng, c, batch, n_0)``. ``bias``: ``None``,
    a standard deviation ``sigma_b`` (independent ``N(0, sigma_b^2)`` per unit and network), or an
    initializer of shape ``(n,)``. ``grad_out``: the gradient injected at the output (standard
    normal when ``None``). ``norm``: ``None``, ``"layer"``, ``"rms"`` or ``"batch"``, applied to
    every activation's argument. ``residual``: ``None`` for a plain network, or the branch scale
    alpha (one number, or one per block) of a residual network with ``branch`` layers per block
    (see the module's docstring).
    """
    phi = activations.get(activation)
    widths = _check_widths(widths)
    norm = _check_norm(norm)
    depth = len(widths) - 1
    inits = _initializers(init, depth)
    alphas = None if residual is None else _alphas(residual, widths, branch)
    if alphas is not None and linear_output:
        raise ValueError("linear_output applies to a plain network; a residual branch already ends linearly")
    gen = as_generator(rng)
    x = _inputs(inputs, copies, batch, widths[0], gen, dtype)
    stack = Stack(phi, x, [], [], [], [], linear_output=linear_output, norm=norm, scales=[],
                  stream=None if alphas is None else [x], alphas=alphas, branch=branch)
    z = x
    for layer in range(depth):
        w = inits[layer]((widths[layer + 1], widths[layer]), rng=gen, copies=copies, dtype=dtype)
        b = _bias(bias, widths[layer + 1], copies, gen, dtype)
        stack.weights.append(w)
        stack.biases.append(b)
        if alphas is None:                        # h = N(W x + b), x = phi(h)
            h, scale = normalize(_affine(x, w, b), norm)
            x = h if (linear_output and layer == depth - 1) else phi.f(h)
            stack.post.append(x)
        else:                                     # z = W phi(N(z)) + b inside a branch
            h, scale = normalize(z, norm)
            z = _affine(phi.f(h), w, b)
            stack.post.append(z)
            if (layer + 1) % branch == 0:
                x = x + alphas[layer // branch] * z
                stack.stream.append(x)
                z = x
        stack.pre.append(h)
        stack.scales.append(scale)
    if backward:
        g = (gen.standard_normal(x.shape, dtype=dtype) if grad_out is None
             else np.broadcast_to(np.asarray(grad_out, dtype=dtype), x.shape))
        stack.grad_out = g
        stack.grads = _backward(stack, g)
    return stack


def _affine(x, w, b):
    h = np.matmul(x, np.swapaxes(w, -1, -2))
    if b is not None:
        h += b
    return h


def _through_layer(stack, layer, g):
    """dL/d(input of layer ``layer + 1``) from ``g`` = dL/d(its output)."""
    if stack.residual:                            # z_out = W phi(N(z_in)) + b
        g = np.matmul(g, stack.weights[layer]) * stack.slope(layer)
        return normalize_backward(g, stack.pre[layer], stack.scales[layer], stack.norm)
    g = normalize_backward(g * stack.slope(layer), stack.pre[layer], stack.scales[layer], stack.norm)
    return np.matmul(g, stack.weights[layer])


def _backward(stack, g):
    """Every layer's (plain) or block's (residual) input gradient, from ``g`` at the output."""
    if not stack.residual:
        grads = [None] * stack.depth
        for layer in reversed(range(stack.depth)):
            g = grads[layer] = _through_layer(stack, layer, g)
        return grads
    m = stack.branch
    grads = [None] * len(stack.alphas)
    for block in reversed(range(len(stack.alphas))):
        gz = stack.alphas[block] * g
        for layer in reversed(range(block * m, (block + 1) * m)):
            gz = _through_layer(stack, layer, gz)
        g = grads[block] = g + gz
    return grads


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
    (``None`` without ``backward``). In a residual network (see :class:`Stack`) ``pre`` and
    ``post`` are those of the branch layers, ``stream[k]`` is the mean of x_k^2 for k = 0..K (the
    input, then after every block) and ``grad[k]`` the mean of (dL/dx_k)^2 at the input of block
    ``k+1``.
    """

    pre: Estimate
    post: Estimate
    grad: Estimate = None
    stream: Estimate = None


def layer_moments(init, widths, activation="relu", *, networks=200, batch=16, backward=False, chunk=16,
                  dtype=np.float64, rng=None, **options):
    """Second moments layer by layer over ``networks`` independent networks (:func:`simulate`).

    Takes the arguments of :func:`forward_backward` (``inputs``, ``bias``, ``grad_out``,
    ``linear_output``, ``norm``, ``residual``, ``branch``) and returns :class:`LayerMoments`.
    """
    names = ["pre", "post"] + (["grad"] if backward else []) + (["stream"] if options.get("residual") is not None else [])
    sizes = {}

    def statistic(stack):
        parts = {"pre": stack.pre, "post": stack.post, "grad": stack.grads, "stream": stack.stream}
        columns = []
        for name in names:
            sizes[name] = len(parts[name])
            columns.append(np.stack([mean_square(v) for v in parts[name]], axis=1))
        return np.concatenate(columns, axis=1)

    est = simulate(statistic, init, widths, activation, networks=networks, chunk=chunk, rng=rng, batch=batch,
                   backward=backward, dtype=dtype, **options)
    out, start = {}, 0
    for name in names:
        stop = start + sizes[name]
        out[name] = Estimate(est.value[start:stop], est.se[start:stop], est.n)
        start = stop
    return LayerMoments(**out)


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


__all__ = ["CHUNK_BYTES", "LayerMoments", "NORMS", "NORM_EPS", "Stack", "correlated_pairs", "forward_backward",
           "layer_moments", "layer_samples", "linear_recursion", "mean_square", "normalize", "normalize_backward",
           "pair_correlations", "simulate"]
