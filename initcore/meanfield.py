"""Mean-field signal propagation: the variance map, its fixed point and chi_1.

For a wide network with weights N(0, sigma_w^2 / n) and biases N(0, sigma_b^2),
the second moment q_l of the pre-activations obeys the variance map
(Poole et al. 2016; Schoenholz et al. 2017)

    q_l = sigma_w^2 E[phi(sqrt(q_{l-1}) Z)^2] + sigma_b^2,     Z ~ N(0, 1),

and two nearby inputs separate (squared distance) by the factor

    chi_1 = sigma_w^2 E[phi'(sqrt(q*) Z)^2]

per layer once q_l has settled at the fixed point q*. The Gaussian expectations
are one-dimensional integrals, computed by quadrature (a fine midpoint rule by
default, Gauss-Hermite on request), so every function here is deterministic and
vectorizes over arrays of sigma_w, sigma_b.
"""
from functools import lru_cache

import numpy as np
from numpy.polynomial.hermite_e import hermegauss

from . import activations

#: Half-width of the integration range, in units of Z (the Gaussian mass beyond 10 is about 1e-23).
CUTOFF = 10.0


@lru_cache(maxsize=32)
def _hermite(nodes):
    """Gauss-Hermite nodes and weights for E[f(Z)], Z ~ N(0, 1) (hermegauss weights sum to sqrt(2 pi))."""
    z, w = hermegauss(int(nodes))
    w = w / np.sqrt(2 * np.pi)
    z.flags.writeable = w.flags.writeable = False
    return z, w


@lru_cache(maxsize=32)
def _midpoint(level):
    """Midpoint rule on [-CUTOFF, CUTOFF] with step 2**-level, weights times the N(0, 1) density."""
    h = 2.0 ** -level
    half = (np.arange(int(np.ceil(CUTOFF / h))) + 0.5) * h
    z = np.concatenate([-half[::-1], half])
    w = h * np.exp(-z**2 / 2) / np.sqrt(2 * np.pi)
    z.flags.writeable = w.flags.writeable = False
    return z, w


def _rule(q, nodes=None):
    """Quadrature for E[f(sqrt(q) Z)] valid for every entry of the array ``q``.

    Default: the midpoint rule with step h <= min(1/8, 1/(4 sqrt(max q))). For an integrand that is
    analytic in a strip (tanh: poles at sqrt(q) z = +-i pi/2) its error decays like
    exp(-pi^2 / (h sqrt(q))) < 1e-17, and because no node sits at 0 and the nodes are symmetric,
    ReLU's second moment and its derivative's are exact. ``nodes=N`` uses N-point Gauss-Hermite
    instead, which loses accuracy once sqrt(q) is large (tanh's features are then narrow in Z).
    """
    if nodes is not None:
        return _hermite(nodes)
    qmax = float(np.max(q)) if np.size(q) else 0.0
    step = min(0.125, 0.25 / np.sqrt(qmax)) if qmax > 0 else 0.125
    return _midpoint(max(3, int(np.ceil(-np.log2(step)))))


def gaussian_mean(f, q, nodes=None):
    """E[f(sqrt(q) Z)] for Z ~ N(0, 1), elementwise over the array ``q`` (q >= 0).

    ``nodes=None`` (default) integrates with a fine midpoint rule; ``nodes=N`` with N-point
    Gauss-Hermite quadrature (:func:`numpy.polynomial.hermite_e.hermegauss`).
    """
    q = np.asarray(q, dtype=float)
    if np.any(q < 0):
        raise ValueError("a second moment q must be non-negative")
    z, w = _rule(q, nodes)
    return f(np.sqrt(q)[..., None] * z) @ w


def variance_map(q, sigma_w, sigma_b=0.0, activation="tanh", nodes=None):
    """One layer of the variance map: sigma_w^2 E[phi(sqrt(q) Z)^2] + sigma_b^2."""
    phi = activations.get(activation)
    return np.asarray(sigma_w, dtype=float) ** 2 * gaussian_mean(lambda x: phi.f(x) ** 2, q, nodes) \
        + np.asarray(sigma_b, dtype=float) ** 2


def q_trajectory(q0, sigma_w, sigma_b=0.0, activation="tanh", depth=30, nodes=None):
    """The mean-field second moments ``[q_1, ..., q_depth]`` starting from ``q_0 = q0``.

    ``q_1`` is the map applied to ``q0``, the second moment of the first
    layer's input (pass ``q0 = E[x^2]`` with ``sigma_w^2`` folded in yourself
    if the first layer differs). Returns an array of shape ``(depth, *broadcast shape)``.
    """
    q = np.asarray(q0, dtype=float)
    out = []
    for _ in range(depth):
        q = variance_map(q, sigma_w, sigma_b, activation, nodes)
        out.append(q)
    return np.array(out)


def _map_and_slope(q, sigma_w, sigma_b, phi, nodes):
    """The variance map F(q) and its derivative dF/dq (by quadrature), elementwise."""
    z, w = _rule(q, nodes)
    root = np.sqrt(q)[..., None]
    x = root * z
    f = phi.f(x)
    value = sigma_w**2 * (f**2 @ w) + sigma_b**2
    # d/dq phi(sqrt(q) z)^2 = phi phi' z / sqrt(q) -> 2 phi'(0)^2 z^2 ... as q -> 0; use q >= tiny.
    slope = sigma_w**2 * ((f * phi.df(x) * z / np.maximum(root, 1e-300)) @ w)
    return value, slope


def fixed_point(sigma_w, sigma_b=0.0, activation="tanh", q0=None, tol=1e-13, max_iter=500, nodes=None):
    """The stable fixed point q* of the variance map, by Newton's method on F(q) - q = 0.

    Works elementwise over arrays of ``sigma_w`` and ``sigma_b``. Newton starts
    to the right of the fixed point (``q0``, default 10 (sigma_w^2 + sigma_b^2) + 1);
    for tanh, whose map is increasing and concave, the iterates then decrease
    monotonically to the stable fixed point (q* = 0 when sigma_b = 0 and
    sigma_w <= 1). The result is confirmed by ``|F(q*) - q*| <= tol * max(1, q*)``;
    ``RuntimeError`` otherwise (the map may have no finite fixed point, e.g. ReLU).
    """
    phi = activations.get(activation)
    sw, sb = np.broadcast_arrays(np.asarray(sigma_w, dtype=float), np.asarray(sigma_b, dtype=float))
    q = 10 * (sw**2 + sb**2) + 1 if q0 is None else np.full(sw.shape, float(q0))
    for _ in range(max_iter):
        value, slope = _map_and_slope(q, sw, sb, phi, nodes)
        g, dg = value - q, slope - 1
        if np.all(np.abs(g) <= tol * np.maximum(1.0, q)):
            return float(q) if q.ndim == 0 else q
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(dg < 0, g / dg, -g)          # Newton where it goes the right way, else a map step
        new = q - step
        q = np.where(new < 0, q / 2, new)
    raise RuntimeError("no fixed point found: the variance map may have none (try plain iteration)")


def chi1(sigma_w, sigma_b=0.0, activation="tanh", q=None, nodes=None):
    """chi_1 = sigma_w^2 E[phi'(sqrt(q) Z)^2] at ``q`` (default: the fixed point q*)."""
    phi = activations.get(activation)
    if q is None:
        q = fixed_point(sigma_w, sigma_b, activation, nodes=nodes)
    value = np.asarray(sigma_w, dtype=float) ** 2 * gaussian_mean(lambda x: phi.df(x) ** 2, q, nodes)
    return float(value) if np.ndim(value) == 0 else value
