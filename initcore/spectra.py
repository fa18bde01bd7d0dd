"""Beyond the variance recursion: spectra of deep linear maps, recurrent initializers, finite width.

Helpers for the chapters on orthogonal/identity initialization and on finite
width. Every random draw takes ``rng`` (``None`` for the book's default
generator) and, where it makes sense, ``copies`` independent draws stacked on
a leading axis, like the initializers of :mod:`initcore.schemes`.

- :func:`gaussian` - i.i.d. N(0, scale/n_in) weights (untruncated, so that
  exact Gaussian results such as Bartlett's decomposition apply);
- :func:`end_to_end_jacobian` - the product W_L ... W_1 of a deep linear network;
- :func:`mean_log_sq_singular_value` - (1/n) sum_i log s_i^2 of that product,
  computed stably from log|det W_l| (no SVD of an ill-conditioned product);
- :func:`deep_linear_statistics` - the arithmetic and the log mean of s_i^2 from one draw;
- :func:`log_chi2_mean`, :func:`log_chi2_var` - E and Var of log X for X ~ chi^2_k;
- :func:`gaussian_log_det_mean` - E[(1/n) log det(W^T W)] for W with N(0, 1/n) entries;
- :func:`talathi_vartak` - W = (A + I) / lambda_max(A + I), A = R R^T / N;
- :func:`relu_rnn` - the states of h_t = ReLU(W h_(t-1) + U x_t + b);
- :func:`relu_norm_factor` - exact draws of the squared-norm factor of one He-initialized
  ReLU layer, (2/n) chi^2_K with K ~ Binomial(n, 1/2), without any matrix;
- :func:`relu_log_factor_moments` - its exact log-mean and log-variance;
- :func:`relu_death_probability` - the probability that some layer has no active unit;
- :func:`relu_norm_ratios` - the same factors measured in actual He-initialized networks.
"""
import functools
import math

import numpy as np
from scipy import special

from .schemes import check_shape, he_normal, variance_scaling
from .seeding import as_generator


def gaussian(shape, scale=1.0, rng=None, copies=None, dtype=np.float64):
    """I.i.d. N(0, scale / fan_in) entries for a torch-layout shape ``(out, in)``
    (``variance_scaling`` with ``mode="fan_in"`` and an untruncated normal)."""
    shape = check_shape(shape)
    if len(shape) != 2:
        raise ValueError(f"gaussian weights need a 2-D shape (out, in), got {shape}")
    return variance_scaling(shape, scale, "fan_in", "untruncated_normal", rng, copies=copies, dtype=dtype)


def _draw_stack(init, width, depth, copies, rng):
    if depth < 1 or width < 1:
        raise ValueError(f"need depth >= 1 and width >= 1, got depth={depth}, width={width}")
    gen = as_generator(rng)
    return [init((width, width), rng=gen, copies=copies) for _ in range(depth)]


def end_to_end_jacobian(init, width, depth, copies=1, rng=None):
    """The Jacobian J = W_L ... W_1 of ``copies`` independent deep linear networks, shape (copies, n, n).

    ``init(shape, rng=..., copies=...)`` draws the square weight matrices.
    """
    weights = _draw_stack(init, width, depth, copies, rng)
    jac = weights[0]
    for w in weights[1:]:
        jac = np.matmul(w, jac)
    return jac


def mean_log_sq_singular_value(init, width, depth, copies=1, rng=None):
    """(1/n) sum_i log s_i(J)^2 for ``copies`` independent products J = W_L ... W_1.

    Uses det(J) = prod_l det(W_l), so (1/n) sum_i log s_i^2 = (2/n) sum_l log|det W_l|:
    exact and stable however ill-conditioned the product is.
    """
    weights = _draw_stack(init, width, depth, copies, rng)
    logdet = sum(np.linalg.slogdet(w)[1] for w in weights)
    return 2.0 * logdet / width


def deep_linear_statistics(init, width, depth, copies=1, rng=None):
    """Per network, from one draw of the weights: ``[(1/n) sum_i s_i^2, (1/n) sum_i log s_i^2]``.

    The singular values s_i are those of J = W_L ... W_1; the first column is (1/n) tr(J^T J), the
    second (2/n) sum_l log|det W_l|. Returns an array of shape (copies, 2).
    """
    weights = _draw_stack(init, width, depth, copies, rng)
    jac = weights[0]
    for w in weights[1:]:
        jac = np.matmul(w, jac)
    logdet = sum(np.linalg.slogdet(w)[1] for w in weights)
    return np.stack([np.sum(jac**2, axis=(-2, -1)) / width, 2.0 * logdet / width], axis=-1)


def log_chi2_mean(k):
    """E[log X] for X ~ chi^2_k: psi(k/2) + log 2."""
    return special.digamma(np.asarray(k, dtype=float) / 2) + math.log(2.0)


def log_chi2_var(k):
    """Var[log X] for X ~ chi^2_k: psi'(k/2)."""
    return special.polygamma(1, np.asarray(k, dtype=float) / 2)


def gaussian_log_det_mean(width):
    """E[(1/n) log det(W^T W)] for an n x n matrix with i.i.d. N(0, 1/n) entries.

    Bartlett: ``|det G|^2 = prod_{k=1}^n chi^2_k`` (independent) for a standard Gaussian G.
    """
    k = np.arange(1, width + 1)
    return float(np.mean(log_chi2_mean(k)) - math.log(width))


def talathi_vartak(n, rng=None, copies=None, return_scale=False):
    """Talathi & Vartak's recurrent matrix W = (A + I) / lambda_max(A + I), A = R R^T / n, R ~ N(0, 1).

    With ``return_scale=True`` also returns lambda_max(A + I) (one per copy), so that A can be
    recovered as ``lambda_max * W - I``.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    gen = as_generator(rng)
    count = 1 if copies is None else int(copies)
    r = gen.standard_normal((count, n, n))
    a = np.matmul(r, np.swapaxes(r, -1, -2)) / n
    b = a + np.eye(n)
    lam = np.linalg.eigvalsh(b)[:, -1]
    w = b / lam[:, None, None]
    if copies is None:
        w, lam = w[0], float(lam[0])
    return (w, lam) if return_scale else w


def relu_rnn(weights, h0, inputs=None, input_weights=None, bias=None, steps=None):
    """States h_0, h_1, ..., h_T of h_t = ReLU(W h_(t-1) + U x_t + b); returns an array (T + 1, n).

    ``inputs`` has shape (T, m) (``None`` for zero input, then ``steps`` gives T).
    """
    w = np.asarray(weights, dtype=float)
    h = np.asarray(h0, dtype=float)
    if inputs is None:
        if steps is None:
            raise ValueError("give inputs or the number of steps")
        drive = np.zeros((steps, h.shape[0]))
    else:
        x = np.asarray(inputs, dtype=float)
        u = np.eye(h.shape[0], x.shape[1]) if input_weights is None else np.asarray(input_weights, dtype=float)
        drive = x @ u.T
    b = np.zeros(h.shape[0]) if bias is None else np.asarray(bias, dtype=float)
    states = [h]
    for d in drive:
        h = np.maximum(w @ h + d + b, 0.0)
        states.append(h)
    return np.array(states)


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

    ``widths = [n_0, ..., n_L]``; the input is a standard normal vector per network;
    r_l = (||x_l||^2 / n_l) / (||x_(l-1)||^2 / n_(l-1)).
    """
    gen = as_generator(rng)
    widths = [int(n) for n in widths]
    x = gen.standard_normal((copies, widths[0]), dtype=dtype)
    prev = np.mean(x * x, axis=1)
    out = np.empty((copies, len(widths) - 1))
    for layer, (n_in, n_out) in enumerate(zip(widths, widths[1:])):
        w = he_normal((n_out, n_in), rng=gen, copies=copies, dtype=dtype)
        x = np.maximum(np.einsum("cij,cj->ci", w, x), 0.0)
        cur = np.mean(x * x, axis=1)
        out[:, layer] = cur / prev
        prev = cur
    return out
