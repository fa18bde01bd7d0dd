"""Gains for any activation, computed by adaptive quadrature (chapter "Gains beyond ReLU").

A gain ``g`` sets the weight variance ``Var[W] = g^2 / n``. With pre-activations
of second moment ``q`` the next layer's pre-activations have second moment

    q' = g^2 E[phi(sqrt(q) Z)^2],     Z ~ N(0, 1)

(the variance map without biases). The Gaussian expectations are integrals
over z, split at 0 so that kinks (ReLU, leaky ReLU, SELU) cost no accuracy:
by default a fixed Gauss-Legendre rule on [-TAIL, 0] and [0, TAIL]
(vectorized, fast, accurate to ~1e-13 for these activations), or
:func:`scipy.integrate.quad` with ``method="quad"`` (adaptive, slower) to
cross-check. Activations are names or :class:`~initcore.activations.Activation`
objects, as in :func:`initcore.activations.get`.
"""
import math

import numpy as np
from scipy import integrate, optimize

from . import activations

_SQRT_2PI = math.sqrt(2 * math.pi)
#: The Gauss-Legendre rule integrates z over [-TAIL, TAIL]; the Gaussian mass beyond is ~1e-23.
TAIL = 10.0
#: Nodes of the Gauss-Legendre rule on each half line.
NODES = 400
_x, _w = np.polynomial.legendre.leggauss(NODES)
_Z = np.concatenate([(_x - 1) * TAIL / 2, (_x + 1) * TAIL / 2])      # [-TAIL, 0] then [0, TAIL]
_W = np.concatenate([_w, _w]) * TAIL / 2 * np.exp(-_Z**2 / 2) / _SQRT_2PI


def gaussian_expectation(f, q=1.0, method="legendre"):
    """E[f(sqrt(q) Z)] for Z ~ N(0, 1).

    ``method="legendre"``: ``f`` maps a numpy array elementwise (fast, the default);
    ``method="quad"``: ``f`` maps a float to a float (adaptive, to cross-check).
    """
    q = float(q)
    if not q >= 0:
        raise ValueError(f"a second moment q must be non-negative, got {q!r}")
    if method not in ("legendre", "quad"):
        raise ValueError(f"unknown method {method!r}: use 'legendre' or 'quad'")
    s = math.sqrt(q)
    if method == "legendre":
        return float(np.dot(f(s * _Z), _W))
    if q == 0:
        return float(f(0.0))

    def integrand(z):
        return float(f(s * z)) * math.exp(-z * z / 2) / _SQRT_2PI

    left, _ = integrate.quad(integrand, -np.inf, 0.0, epsabs=1e-14, epsrel=1e-13, limit=200)
    right, _ = integrate.quad(integrand, 0.0, np.inf, epsabs=1e-14, epsrel=1e-13, limit=200)
    return left + right


def _phi(activation, param=None, method="legendre"):
    act = activations.get(activation, param)
    if method == "quad":
        return lambda x: float(act.f(np.float64(x)))
    return lambda x: act.f(np.asarray(x, dtype=np.float64))


def mean(activation, q=1.0, param=None, method="legendre"):
    """E[phi(sqrt(q) Z)]: the mean of the activation's output."""
    phi = _phi(activation, param, method)
    return gaussian_expectation(phi, q, method)


def second_moment(activation, q=1.0, param=None, method="legendre"):
    """E[phi(sqrt(q) Z)^2]: the second moment of the activation's output."""
    phi = _phi(activation, param, method)
    return gaussian_expectation(lambda x: phi(x) ** 2, q, method)


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
    phi = _phi(activation, param, "quad")
    right = (phi(h) - phi(0.0)) / h
    left = (phi(0.0) - phi(-h)) / h
    if abs(right - left) > 1e-3 * max(1.0, abs(right)):
        return float("nan")
    slope = float(act.df(np.zeros(1))[0])
    return 1.0 / abs(slope)


def variance_map(q, gain, activation, param=None, method="legendre"):
    """One layer: g^2 E[phi(sqrt(q) Z)^2]."""
    return gain**2 * second_moment(activation, q, param, method)


def trajectory(gain, activation, depth, q0=1.0, param=None):
    """``[q_1, ..., q_depth]`` from ``q_0 = q0`` (pre-activations of a virtual layer 0)."""
    out, q = [], float(q0)
    for _ in range(int(depth)):
        q = variance_map(q, gain, activation, param)
        out.append(q)
    return np.array(out)


def fixed_point(gain, activation, param=None, q_max=1e6):
    """The non-zero fixed point q* = g^2 E[phi(sqrt(q*) Z)^2], or ``nan`` if there is none below ``q_max``.

    Found by Brent's method on ``variance_map(q) - q`` between a small q (where the
    map must exceed q: chi = g^2 phi'(0)^2 > 1 near 0, or phi(0) != 0) and ``q_max``.
    """
    def excess(q):
        return variance_map(q, gain, activation, param) - q

    lo, hi = 1e-8, float(q_max)
    if excess(lo) <= 0 or excess(hi) >= 0:
        return float("nan")
    return optimize.brentq(excess, lo, hi, xtol=1e-14, rtol=1e-13)
