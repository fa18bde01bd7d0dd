"""Helpers for the Glorot/Xavier chapter: the old "standard" initializer, scaled initializers,
the linear-regime recursion, expectations of polynomials in independent variables, and
per-layer samples of activations and back-propagated gradients for histograms.

Every initializer here has the signature of :mod:`initcore.schemes` initializers
(``init(shape, rng=None, copies=None, dtype=float64)``, torch layout ``(out, in)``), so it
plugs into :func:`initcore.propagation.layer_moments`.
"""
import math

import numpy as np
import sympy as sp

from . import activations
from .schemes import fans, uniform
from .seeding import as_generator


def standard_uniform(shape, rng=None, copies=None, dtype=np.float64, layout="torch"):
    """The old heuristic U[-1/sqrt(fan_in), 1/sqrt(fan_in)] (Glorot & Bengio 2010, eq. 1)."""
    fan_in, _ = fans(shape, layout)
    return uniform(shape, 1.0 / math.sqrt(fan_in), rng, copies, dtype)


def scaled(init, factor):
    """``init`` with every weight multiplied by ``factor`` (the bound and the std scale by it,
    the variance by ``factor**2``)."""
    if not factor > 0:
        raise ValueError(f"factor must be positive, got {factor!r}")

    def draw(shape, rng=None, copies=None, dtype=np.float64):
        return (factor * init(shape, rng=rng, copies=copies, dtype=dtype)).astype(dtype, copy=False)

    draw.__name__ = f"{getattr(init, '__name__', 'init')}_x{factor:g}"
    return draw


def linear_recursion(widths, variances, q0=1.0, r_out=1.0, slope=1.0):
    """The linear-regime prediction of per-layer second moments.

    ``widths = [n_0, ..., n_L]``, ``variances[l]`` the weight variance of layer l+1 (shape
    ``(n_(l+1), n_l)``), ``slope`` the activation's derivative at 0. Returns ``(forward,
    backward)`` arrays of length L indexed as :class:`initcore.propagation.LayerMoments`: ``forward[l]``
    is E[h^2] of the pre-activations of layer l+1, q0 * slope^(2l) * prod_(m=0..l) n_m v_m
    (``v_m = variances[m]``);
    ``backward[l]`` is E[(dL/dx_l)^2] for the input x_l of layer l+1, from E[(dL/dx_L)^2] =
    ``r_out`` back through layers L..l+1, each multiplying by n_out v slope^2 (the output
    gradient also passes the last activation, as in :func:`initcore.propagation.layer_moments`).
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


def expect_independent(expr, moments):
    """E[expr] for a polynomial ``expr`` in independent random variables.

    ``moments`` maps each random symbol to a function ``k -> E[X^k]``; other symbols are
    constants. The polynomial is expanded and each monomial replaced by the product of the
    moments of its factors (independence).
    """
    expr = sp.expand(expr)
    symbols = list(moments)
    total = sp.Integer(0)
    for term in sp.Add.make_args(expr):
        powers = term.as_powers_dict()
        value = term
        for s in symbols:
            k = powers.get(s, 0)
            if k:
                value = value / s**k * moments[s](k)
        total += value
    return sp.simplify(total)


def layer_samples(init, widths, activation="tanh", *, networks=4, batch=64, rng=None, dtype=np.float64):
    """Activations and back-propagated gradients of every layer, pooled over independent networks.

    Returns ``(post, grads)``: ``post[l]`` the values of x_(l+1) = phi(h_(l+1)) (layer l+1's
    output) and ``grads[l]`` those of dL/dx_l (the gradient with respect to layer l+1's
    input), from standard normal inputs and a standard normal gradient at the output, as
    1-D arrays. The same conventions as :func:`initcore.propagation.layer_moments`.
    """
    phi = activations.get(activation)
    gen = as_generator(rng)
    widths = [int(n) for n in widths]
    depth = len(widths) - 1
    x = gen.standard_normal((networks, batch, widths[0])).astype(dtype, copy=False)
    post, weights, slopes = [], [], []
    for layer in range(depth):
        w = init((widths[layer + 1], widths[layer]), rng=gen, copies=networks, dtype=dtype)
        h = np.matmul(x, np.swapaxes(w, -1, -2))
        x = phi.f(h)
        post.append(x.ravel().copy())
        weights.append(w)
        slopes.append(phi.df(h))
    grads = [None] * depth
    g = gen.standard_normal(x.shape).astype(dtype, copy=False)
    for layer in reversed(range(depth)):
        g = np.matmul(g * slopes[layer], weights[layer])
        grads[layer] = g.ravel().copy()
    return post, grads
