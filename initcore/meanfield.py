"""Gaussian expectations by quadrature, and the mean-field variance map built on them.

For a wide network with weights N(0, sigma_w^2 / n) and biases N(0, sigma_b^2),
the second moment q_l of the pre-activations obeys the variance map
(Poole et al. 2016; Schoenholz et al. 2017)

    q_l = sigma_w^2 E[phi(sqrt(q_{l-1}) Z)^2] + sigma_b^2,     Z ~ N(0, 1),

and two nearby inputs separate (squared distance) by the factor

    chi_1 = sigma_w^2 E[phi'(sqrt(q) Z)^2]

per layer, evaluated at the fixed point q = q* once q_l has settled there.
Without biases and with sigma_w = g (a gain) this is the map behind every gain:
:func:`activation_mean`, :func:`second_moment`, :func:`second_moment_gain` and
:func:`slope_gain` give an activation's output moments and the two gains derived from them.

Every expectation is a one-dimensional integral over z, computed by
:func:`gaussian_quadrature`; the functions here are deterministic and
vectorize over arrays of q, sigma_w and sigma_b. Activations are names or
:class:`~initcore.activations.Activation` objects, as in
:func:`initcore.activations.get` (``param`` is leaky ReLU's slope or ELU's alpha).
"""
import math

import numpy as np

from . import activations
from .montecarlo import _scalar

#: The quadrature integrates z over [-CUTOFF, CUTOFF]; the Gaussian mass beyond is about 1.5e-23.
CUTOFF = 10.0
#: Panels on each half line, their edges at 0 and CUTOFF / GRADING**k for k = PANELS - 1, ..., 0.
PANELS = 8
#: Each panel is GRADING times as long as the previous one, counting outwards from 0.
GRADING = 4.0
#: Gauss-Legendre nodes per panel (numpy's nodes and weights are accurate to rounding at this size).
PANEL_NODES = 24
METHODS = ("legendre", "quad")


def _composite_rule():
    """Nodes z and weights w with sum(w * f(z)) ~ E[f(Z)], Z ~ N(0, 1), as read-only arrays."""
    x, w = np.polynomial.legendre.leggauss(PANEL_NODES)
    edges = np.concatenate([[0.0], CUTOFF * GRADING ** -np.arange(PANELS - 1.0, -1.0, -1.0)])
    low, high = edges[:-1, None], edges[1:, None]
    half_z = ((low + high) / 2 + (high - low) / 2 * x).ravel()          # nodes in (0, CUTOFF)
    half_w = ((high - low) / 2 * w).ravel()
    z = np.concatenate([-half_z[::-1], half_z])
    weights = np.concatenate([half_w[::-1], half_w]) * np.exp(-z**2 / 2) / math.sqrt(2 * math.pi)
    z.flags.writeable = weights.flags.writeable = False
    return z, weights


_Z, _W = _composite_rule()




def _squared(scale):
    return np.asarray(scale, dtype=float) ** 2


def _adaptive(f, q):
    """E[f(sqrt(q) Z)] by scipy's adaptive quadrature on each half line (``f`` called with scalars)."""
    from scipy import integrate       # imported here: only the cross-check needs scipy

    s = math.sqrt(q)
    if s == 0:
        return float(f(np.float64(0.0)))

    def integrand(z):
        return float(f(np.float64(s * z))) * math.exp(-z * z / 2) / math.sqrt(2 * math.pi)

    options = {"epsabs": 1e-14, "epsrel": 1e-13, "limit": 200}
    left, _ = integrate.quad(integrand, -np.inf, 0.0, **options)
    right, _ = integrate.quad(integrand, 0.0, np.inf, **options)
    return left + right


def gaussian_quadrature(f, q=1.0, method="legendre"):
    """E[f(sqrt(q) Z)] for Z ~ N(0, 1), elementwise over the array ``q`` (q >= 0).

    ``f`` maps a numpy array elementwise (an activation's ``f`` or ``df``, or a function of them).
    ``method="legendre"`` (the default) sums over a fixed composite Gauss-Legendre rule: each half
    line [0, CUTOFF] is cut into PANELS panels that shrink geometrically towards 0, with PANEL_NODES
    nodes in each. Splitting at 0 makes kinks there (ReLU, leaky ReLU, ELU, SELU and their
    derivatives) cost no accuracy, and the short panels near 0 resolve the narrow features of
    tanh(sqrt(q) z) when q is large; the result is accurate to about 1e-15 for this package's
    activations from q = 1e-4 to 1e6. ``method="quad"`` uses :func:`scipy.integrate.quad`
    (adaptive, much slower; ``f`` is then called with scalars), to cross-check.
    Returns a float for a scalar ``q``, else an array of ``q``'s shape.
    """
    q = np.asarray(q, dtype=float)
    if not np.all(q >= 0):
        raise ValueError(f"a second moment q must be non-negative, got {q!r}")
    if method == "legendre":
        value = np.asarray(f(np.sqrt(q)[..., None] * _Z)) @ _W
    elif method == "quad":
        value = np.vectorize(lambda one_q: _adaptive(f, one_q), otypes=[float])(q)
    else:
        raise ValueError(f"unknown method {method!r}: use one of {METHODS}")
    return _scalar(value)


def variance_map(q, sigma_w, sigma_b=0.0, activation="tanh", param=None, *, method="legendre"):
    """One layer of the variance map: sigma_w^2 E[phi(sqrt(q) Z)^2] + sigma_b^2."""
    phi = activations.get(activation, param)
    second_moment = gaussian_quadrature(lambda x: phi.f(x) ** 2, q, method)
    return _scalar(_squared(sigma_w) * second_moment + _squared(sigma_b))


def q_trajectory(q0, sigma_w, sigma_b=0.0, activation="tanh", depth=30, param=None, *, method="legendre"):
    """The second moments ``[q_1, ..., q_depth]`` of the variance map starting from ``q_0 = q0``.

    ``q_1`` is the map applied to ``q0``, the second moment of the pre-activations of a virtual
    layer 0 (if the first layer differs, compute its ``q_1`` yourself and start from it).
    Returns an array of shape ``(depth, *broadcast shape of q0, sigma_w, sigma_b)``.
    """
    q, out = np.asarray(q0, dtype=float), []
    for _ in range(int(depth)):
        q = variance_map(q, sigma_w, sigma_b, activation, param, method=method)
        out.append(q)
    return np.array(out)


def _map_and_slope(q, sigma_w, sigma_b, phi, method):
    """The variance map V(q) and its derivative dV/dq, elementwise.

    With x = sqrt(q) z, d/dq phi(x)^2 = phi(x) phi'(x) z / sqrt(q) = phi(x) phi'(x) x / q, so
    dV/dq = sigma_w^2 E[phi phi' x] / q (q stays positive during the iteration).
    """
    value = variance_map(q, sigma_w, sigma_b, phi, method=method)
    moment = gaussian_quadrature(lambda x: phi.f(x) * phi.df(x) * x, q, method)
    return value, _squared(sigma_w) * moment / np.maximum(q, 1e-300)


def fixed_point(sigma_w, sigma_b=0.0, activation="tanh", param=None, *, q0=None, tol=1e-13, max_iter=500,
                method="legendre"):
    """The stable fixed point q* = V(q*) of the variance map, by Newton's method on V(q) - q = 0.

    Works elementwise over arrays of ``sigma_w`` and ``sigma_b``. Newton starts to the right of
    the fixed point (``q0``, default 10 (sigma_w^2 + sigma_b^2) + 1) and steps along the map
    itself where the Newton step would point the wrong way; for a map that is increasing and
    concave beyond its fixed point (tanh, sigmoid, SELU) the iterates then decrease monotonically
    to the stable fixed point (for tanh q* = 0 when sigma_b = 0 and sigma_w <= 1). Once
    ``|V(q) - q| <= tol * max(1, q)``, one more Newton step polishes q*. ``RuntimeError`` if that
    never happens: the map may have no finite fixed point (ReLU with sigma_w > sqrt 2).
    """
    phi = activations.get(activation, param)
    sw, sb = np.broadcast_arrays(np.asarray(sigma_w, dtype=float), np.asarray(sigma_b, dtype=float))
    q = 10 * (sw**2 + sb**2) + 1 if q0 is None else np.full(sw.shape, float(q0))
    for _ in range(max_iter):
        value, slope = _map_and_slope(q, sw, sb, phi, method)
        g, dg = value - q, slope - 1
        converged = np.all(np.abs(g) <= tol * np.maximum(1.0, q))
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(dg < 0, g / dg, -g)          # Newton where it goes the right way, else a map step
        new = q - step
        q = np.where(new < 0, q / 2, new)
        if converged:
            return _scalar(q)
    raise RuntimeError("no fixed point found: the variance map may have none (try q_trajectory)")


def chi1(sigma_w, sigma_b=0.0, activation="tanh", param=None, *, q=None, method="legendre"):
    """chi_1 = sigma_w^2 E[phi'(sqrt(q) Z)^2] at ``q`` (default: the fixed point q*).

    The factor by which a layer multiplies the mean squared separation of two nearby inputs, and
    the mean squared back-propagated gradient.
    """
    phi = activations.get(activation, param)
    if q is None:
        q = fixed_point(sigma_w, sigma_b, phi, method=method)
    return _scalar(_squared(sigma_w) * gaussian_quadrature(lambda x: phi.df(x) ** 2, q, method))


# ---------------------------------------------------------------------------------------------
# Two inputs: the correlation map (Poole et al. 2016; Schoenholz et al. 2017).
#
# Two inputs whose pre-activations in layer l both have second moment q and correlation c give,
# in layer l + 1, the covariance sigma_w^2 E[phi(u_1) phi(u_2)] + sigma_b^2, with (u_1, u_2)
# centred Gaussian, variances q and correlation c, and the second moment V(q). Their ratio is
# the correlation map; at q = q* it is C(c) = (sigma_w^2 E[phi(u_1) phi(u_2)] + sigma_b^2) / q*.
# C(1) = 1 always, and by Price's theorem dC/dc = sigma_w^2 E[phi'(u_1) phi'(u_2)], which at
# c = 1 is chi_1.


def _check_correlation(c):
    c = float(c)
    if not -1.0 <= c <= 1.0:
        raise ValueError(f"a correlation must lie in [-1, 1], got {c!r}")
    return c


def bivariate_expectation(f, g=None, q=1.0, c=0.0, q2=None):
    """E[f(u_1) g(u_2)] for centred jointly Gaussian (u_1, u_2) with variances ``q``, ``q2`` and correlation ``c``.

    ``g`` defaults to ``f`` and ``q2`` to ``q`` (scalars). Written as u_1 = sqrt(q) Z_1 and
    u_2 = sqrt(q2) (c Z_1 + sqrt(1 - c^2) Z_2) with Z_1, Z_2 independent standard normal, the
    expectation is a double integral, computed with the tensor product of the one-dimensional rule
    of :func:`gaussian_quadrature`: accurate to about 1e-12 for smooth integrands such as tanh
    (checked against closed forms for erf and against adaptive quadrature); a kink such as ReLU's
    meets the inner integral off the panel edges, which limits the error to about 1e-5 q.
    """
    g = f if g is None else g
    q = float(q)
    q2 = q if q2 is None else float(q2)
    if q < 0 or q2 < 0 or not (np.isfinite(q) and np.isfinite(q2)):
        raise ValueError(f"second moments must be non-negative, got {q!r}, {q2!r}")
    c = _check_correlation(c)
    s = math.sqrt(max(0.0, 1.0 - c * c))
    outer = np.asarray(f(math.sqrt(q) * _Z), dtype=float)                       # f(u_1) at the nodes z_1
    inner = np.asarray(g(math.sqrt(q2) * (c * _Z[:, None] + s * _Z[None, :])), dtype=float) @ _W
    return float((outer * inner) @ _W)


def _second_moment_at(q, sigma_w, sigma_b, phi):
    if q is None:
        q = fixed_point(sigma_w, sigma_b, phi)
    q = float(q)
    if q <= 1e-12:
        raise ValueError("the second moment is 0 (tanh without bias and sigma_w <= 1): the correlation of "
                         "two signals of size 0 is undefined")
    return q


def correlation_map(c, sigma_w, sigma_b=0.0, activation="tanh", param=None, *, q=None):
    """One layer of the correlation map: the next layer's correlation of two inputs.

    (sigma_w^2 E[phi(u_1) phi(u_2)] + sigma_b^2) / V(q), with u_1, u_2 of second moment ``q`` and
    correlation ``c``; ``q`` defaults to the fixed point q*, where V(q*) = q* (scalars only).
    """
    phi = activations.get(activation, param)
    q = _second_moment_at(q, sigma_w, sigma_b, phi)
    covariance = sigma_w**2 * bivariate_expectation(phi.f, q=q, c=c) + sigma_b**2
    return covariance / variance_map(q, sigma_w, sigma_b, phi)


def correlation_slope(c, sigma_w, sigma_b=0.0, activation="tanh", param=None, *, q=None):
    """dC/dc = sigma_w^2 q E[phi'(u_1) phi'(u_2)] / V(q) (Price's theorem); at q = q*, c = 1 it is chi_1."""
    phi = activations.get(activation, param)
    q = _second_moment_at(q, sigma_w, sigma_b, phi)
    return sigma_w**2 * q * bivariate_expectation(phi.df, q=q, c=c) / variance_map(q, sigma_w, sigma_b, phi)


def correlation_fixed_point(sigma_w, sigma_b=0.0, activation="tanh", param=None, *, gap=1e-4):
    """The stable fixed point c* of the correlation map at q = q*.

    c = 1 is always a fixed point; it is stable when its slope chi_1 is at most 1 (the ordered
    phase), and then c* = 1. Otherwise (the chaotic phase) c* < 1 is the root of C(c) - c on
    [-1, 1 - ``gap``], found by Brent's method (for tanh without bias, c* = 0 since tanh is odd).
    """
    from scipy.optimize import brentq

    phi = activations.get(activation, param)
    q = _second_moment_at(None, sigma_w, sigma_b, phi)
    if chi1(sigma_w, sigma_b, phi, q=q) <= 1.0:
        return 1.0

    def excess(c):
        return correlation_map(c, sigma_w, sigma_b, phi, q=q) - c

    high = 1.0 - gap
    if excess(high) >= 0:
        raise RuntimeError("chi_1 > 1 but C(c) >= c just below c = 1: lower gap")
    low = 0.0 if excess(0.0) >= 0 else -1.0
    if excess(low) == 0:
        return low
    return float(brentq(excess, low, high, xtol=1e-14, rtol=4 * np.finfo(float).eps))


def correlation_chi(sigma_w, sigma_b=0.0, activation="tanh", param=None):
    """chi_c: the slope of the correlation map at its stable fixed point c* (chi_1 in the ordered phase)."""
    c_star = correlation_fixed_point(sigma_w, sigma_b, activation, param)
    return correlation_slope(c_star, sigma_w, sigma_b, activation, param)


def correlation_depth_scale(sigma_w, sigma_b=0.0, activation="tanh", param=None):
    """xi_c = -1 / log(chi_c): layers over which ``|c_l - c*|`` shrinks by the factor e (inf at chi_c = 1)."""
    chi_c = correlation_chi(sigma_w, sigma_b, activation, param)
    return math.inf if chi_c >= 1.0 else -1.0 / math.log(chi_c)


def correlation_trajectory(c0, sigma_w, sigma_b=0.0, activation="tanh", depth=30, param=None, *, q0=None):
    """The correlations ``[c_1, ..., c_depth]`` of two inputs, from correlation ``c0`` in layer 0.

    With ``q0`` given, the second moment q_l is iterated alongside (both inputs of second moment
    ``q0`` in layer 0): c_{l+1} = (sigma_w^2 E[phi(u_1) phi(u_2)] + sigma_b^2) / V(q_l), with u of
    second moment q_l and correlation c_l, and q_{l+1} = V(q_l). Without ``q0``, q_l = q* throughout.
    """
    phi = activations.get(activation, param)
    q = _second_moment_at(q0, sigma_w, sigma_b, phi)
    c, out = _check_correlation(c0), []
    for _ in range(int(depth)):
        c = min(1.0, correlation_map(c, sigma_w, sigma_b, phi, q=q))
        out.append(c)
        if q0 is not None:
            q = float(variance_map(q, sigma_w, sigma_b, phi))
    return np.array(out)


# ---------------------------------------------------------------------------------------------
# Gains: an activation's output moments at unit input and the gains derived from them.


def activation_mean(activation, q=1.0, param=None, method="legendre"):
    """E[phi(sqrt(q) Z)]: the mean of the activation's output."""
    return gaussian_quadrature(activations.get(activation, param).f, q, method)


def second_moment(activation, q=1.0, param=None, method="legendre"):
    """E[phi(sqrt(q) Z)^2]: the second moment of the activation's output (the variance map at sigma_w^2 = 1)."""
    return variance_map(q, 1.0, 0.0, activation, param, method=method)


def second_moment_gain(activation, param=None, method="legendre"):
    """The gain that preserves the second moment of unit pre-activations: 1 / sqrt(E[phi(Z)^2])."""
    return 1.0 / math.sqrt(second_moment(activation, 1.0, param, method))


def slope_gain(activation, param=None, h=1e-6):
    """The linear-regime gain ``1 / |phi'(0)|``, or ``nan`` where phi has a kink at 0.

    One-sided difference quotients of the numpy function detect a kink: if
    they differ (ReLU, leaky ReLU, SELU) there is no linear regime and the
    result is ``nan``. Otherwise the slope is the activation's derivative at 0.
    """
    act = activations.get(activation, param)
    phi0, right, left = (float(act.f(np.float64(v))) for v in (0.0, h, -h))
    right_slope, left_slope = (right - phi0) / h, (phi0 - left) / h
    if abs(right_slope - left_slope) > 1e-3 * max(1.0, abs(right_slope)):
        return float("nan")
    return 1.0 / abs(float(act.df(np.zeros(1))[0]))
