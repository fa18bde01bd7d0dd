"""Gains for any activation, by quadrature (chapter "Gains beyond ReLU").

A gain ``g`` sets the weight variance ``Var[W] = g^2 / n``. With pre-activations
of second moment ``q`` the next layer's pre-activations have second moment

    q' = g^2 E[phi(sqrt(q) Z)^2],     Z ~ N(0, 1),

the variance map of :mod:`initcore.meanfield` with ``sigma_w^2 = g^2 = n Var[W]`` (the book's
notation: ``sigma_w^2`` is always ``n`` times the variance of one weight) and no bias
(iterate it with :func:`initcore.meanfield.q_trajectory`, solve it with
:func:`initcore.meanfield.fixed_point`). This module holds what is particular
to gains: the moments of an activation's output and the two gains derived from
them. The expectations are computed by
:func:`initcore.meanfield.gaussian_expectation` (``method="legendre"``, the
default, or ``method="quad"`` to cross-check). Activations are names or
:class:`~initcore.activations.Activation` objects, as in
:func:`initcore.activations.get`.
"""
import math

import numpy as np

from . import activations
from .meanfield import gaussian_expectation, variance_map


def mean(activation, q=1.0, param=None, method="legendre"):
    """E[phi(sqrt(q) Z)]: the mean of the activation's output."""
    return gaussian_expectation(activations.get(activation, param).f, q, method)


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
