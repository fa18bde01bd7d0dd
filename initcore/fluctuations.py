"""Fluctuations of squared norms through finite-width ReLU networks.

At finite width a He-initialized ReLU layer multiplies the squared norm of its input by a random
factor instead of exactly 1. Its law is exact and needs no matrix:

- :func:`relu_norm_factor` - draws of the factor, (2/n) chi^2_K with K ~ Binomial(n, 1/2);
- :func:`relu_log_factor_moments` - its exact log-mean and log-variance;
- :func:`relu_death_probability` - the probability that some layer has no active unit;
- :func:`relu_norm_ratios` - the same factors measured in actual He-initialized networks
  (:func:`initcore.propagation.forward_backward`).
"""
import functools
import math

import numpy as np
from scipy import special

from .propagation import forward_backward, mean_square
from .schemes import he_normal
from .seeding import as_generator
from .spectra import log_chi2_mean, log_chi2_var


@functools.lru_cache(maxsize=None)
def _active_units_pmf(width, alive):
    """P(K = k), k = 0..n, for the number K ~ Binomial(n, 1/2) of active units (given K >= 1 if ``alive``)."""
    n = int(width)
    k = np.arange(n + 1)
    logp = special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1) - n * math.log(2.0)
    p = np.exp(logp)
    if alive:
        p[0] = 0.0
    p /= p.sum()
    p.flags.writeable = False
    return p


@functools.lru_cache(maxsize=None)
def _active_units_cdf(width, alive):
    cdf = np.cumsum(_active_units_pmf(width, alive))
    cdf /= cdf[-1]
    cdf.flags.writeable = False
    return cdf


def _active_units(width, size, gen, alive):
    """Draws of K by inversion of its cumulative distribution (exact; one uniform per draw).

    Much faster than ``Generator.binomial`` for the small widths of the chapter, and the
    conditioning on K >= 1 is exact without rejection. ``width`` broadcasts against ``size``.
    """
    u = gen.random(size)
    if width.ndim == 0:
        return np.searchsorted(_active_units_cdf(int(width), alive), u, side="right")
    widths = np.broadcast_to(width, u.shape)
    k = np.empty(u.shape, dtype=np.int64)
    for w in np.unique(widths):
        sel = widths == w
        k[sel] = np.searchsorted(_active_units_cdf(int(w), alive), u[sel], side="right")
    return k


def relu_norm_factor(width, size, rng=None, alive=False):
    """Exact draws of r = (||x_l||^2 / n_l) / (||x_(l-1)||^2 / n_(l-1)) for one He-normal ReLU layer.

    Given x_(l-1) != 0 the n_l = ``width`` pre-activations are i.i.d. N(0, 2||x_(l-1)||^2/n_(l-1)),
    so r = (2/n_l) sum_i ReLU(g_i)^2 with g_i i.i.d. N(0, 1). The number K of positive g_i is
    Binomial(n_l, 1/2) and, given K, the sum of squares of the positive ones is chi^2_K (the sign
    and the magnitude of a standard normal are independent). So r = (2/n_l) chi^2_K.
    ``alive=True`` conditions on K >= 1 (the layer does not kill the signal). ``size`` may be a
    tuple; ``width`` may be an array broadcasting against ``size`` (one width per layer).
    K is drawn by inverting its exact cumulative distribution, chi^2_K as 2 Gamma(K/2).
    """
    gen = as_generator(rng)
    width = np.asarray(width)
    if np.any(width < 1):
        raise ValueError("widths must be at least 1")
    k = _active_units(width, size, gen, alive)
    chi2 = 2.0 * gen.standard_gamma(k / 2.0)
    return 2.0 * chi2 / width


@functools.lru_cache(maxsize=None)
def relu_log_factor_moments(width, alive=True):
    """Exact (E[log r], Var[log r]) for the factor of :func:`relu_norm_factor`, given K >= 1.

    Sums over K ~ Binomial(n, 1/2) (restricted to K >= 1) of E[log chi^2_K] = psi(K/2) + log 2 and
    E[(log chi^2_K)^2] = psi'(K/2) + (psi(K/2) + log 2)^2, shifted by log(2/n).
    """
    if not alive:
        raise ValueError("without conditioning on K >= 1, log r = -inf with probability 2^-n")
    n = int(width)
    k = np.arange(1, n + 1)
    p = _active_units_pmf(n, True)[1:]
    m = log_chi2_mean(k) + math.log(2.0 / n)
    second = log_chi2_var(k) + m**2
    mean = float(np.sum(p * m))
    return mean, float(np.sum(p * second) - mean**2)


def relu_death_probability(widths):
    """Probability that a He-normal ReLU network with hidden widths ``widths`` kills a given input.

    A layer of width n has no active unit with probability 2^-n, independently of the other
    layers (the factors are independent), so the network survives with probability
    prod_l (1 - 2^-n_l).
    """
    widths = np.atleast_1d(np.asarray(widths, dtype=float))
    return float(-np.expm1(np.sum(np.log1p(-(2.0 ** -widths)))))


def relu_norm_ratios(widths, copies, rng=None, dtype=np.float64):
    """Per-layer factors r_l measured in ``copies`` independent He-normal ReLU networks, shape (copies, L).

    ``widths = [n_0, ..., n_L]``; the input is one standard normal vector per network;
    r_l = (||x_l||^2 / n_l) / (||x_(l-1)||^2 / n_(l-1)).
    """
    stack = forward_backward(he_normal, widths, "relu", copies=copies, rng=rng, batch=1, dtype=dtype)
    norms = np.stack([mean_square(x) for x in [stack.inputs, *stack.post]], axis=1)
    return norms[:, 1:] / norms[:, :-1]
