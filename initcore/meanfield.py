"""Mean-field signal propagation: the variance map, its fixed point and chi_1.

For a wide network with weights N(0, sigma_w^2 / n) and biases N(0, sigma_b^2),
the second moment q_l of the pre-activations obeys the variance map
(Poole et al. 2016; Schoenholz et al. 2017)

    q_l = sigma_w^2 E[phi(sqrt(q_{l-1}) Z)^2] + sigma_b^2,     Z ~ N(0, 1),

and two nearby inputs separate (squared distance) by the factor

    chi_1 = sigma_w^2 E[phi'(sqrt(q*) Z)^2]

per layer once q_l has settled at the fixed point q*. The Gaussian expectations
are computed with Gauss-Hermite quadrature (probabilists' weights), so every
function here is deterministic and vectorizes over arrays of sigma_w, sigma_b.
"""
import numpy as np
from numpy.polynomial.hermite_e import hermegauss

from . import activations

#: Number of Gauss-Hermite nodes used by default (exact for polynomials of degree < 2 * NODES).
NODES = 101


def _rule(nodes):
    z, w = hermegauss(nodes)
    return z, w / np.sqrt(2 * np.pi)


def gaussian_mean(f, q, nodes=NODES):
    """E[f(sqrt(q) Z)] for Z ~ N(0, 1), elementwise over the array ``q`` (q >= 0)."""
    q = np.asarray(q, dtype=float)
    if np.any(q < 0):
        raise ValueError("a second moment q must be non-negative")
    z, w = _rule(nodes)
    return np.tensordot(f(np.sqrt(q)[..., None] * z), w, axes=([-1], [0]))


def variance_map(q, sigma_w, sigma_b=0.0, activation="tanh", nodes=NODES):
    """One layer of the variance map: sigma_w^2 E[phi(sqrt(q) Z)^2] + sigma_b^2."""
    phi = activations.get(activation)
    return np.asarray(sigma_w, dtype=float) ** 2 * gaussian_mean(lambda x: phi.f(x) ** 2, q, nodes) \
        + np.asarray(sigma_b, dtype=float) ** 2


def q_trajectory(q0, sigma_w, sigma_b=0.0, activation="tanh", depth=30, nodes=NODES):
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
    z, w = _rule(nodes)
    root = np.sqrt(q)[..., None]
    x = root * z
    f = phi.f(x)
    value = sigma_w**2 * (f**2 @ w) + sigma_b**2
    # d/dq phi(sqrt(q) z)^2 = phi phi' z / sqrt(q) -> 2 phi'(0)^2 z^2 ... as q -> 0; use q >= tiny.
    slope = sigma_w**2 * ((f * phi.df(x) * z / np.maximum(root, 1e-300)) @ w)
    return value, slope


def fixed_point(sigma_w, sigma_b=0.0, activation="tanh", q0=None, tol=1e-13, max_iter=500, nodes=NODES):
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


def chi1(sigma_w, sigma_b=0.0, activation="tanh", q=None, nodes=NODES):
    """chi_1 = sigma_w^2 E[phi'(sqrt(q) Z)^2] at ``q`` (default: the fixed point q*)."""
    phi = activations.get(activation)
    if q is None:
        q = fixed_point(sigma_w, sigma_b, activation, nodes=nodes)
    return np.asarray(sigma_w, dtype=float) ** 2 * gaussian_mean(lambda x: phi.df(x) ** 2, q, nodes)
