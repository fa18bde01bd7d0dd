"""Spectra of deep linear maps and recurrent weight matrices.

Every random draw takes ``rng`` (``None`` for the book's default generator) and, where it makes
sense, ``copies`` independent draws stacked on a leading axis, like the initializers of
:mod:`initcore.schemes` (whose :func:`~initcore.schemes.scaled_normal` draws the untruncated
Gaussian weights that exact results such as Bartlett's decomposition need).

- :func:`end_to_end_jacobian` - the product W_L ... W_1 of a deep linear network;
- :func:`deep_linear_statistics` - the arithmetic and the log mean of its s_i^2 from one draw,
  the log mean from log|det W_l| (no SVD of an ill-conditioned product);
- :func:`log_chi2_mean`, :func:`log_chi2_var` - E and Var of log X for X ~ chi^2_k;
- :func:`gaussian_log_det_mean` - E[(1/n) log det(W^T W)] for W with N(0, 1/n) entries;
- :func:`talathi_vartak` - W = (A + I) / lambda_max(A + I), A = R R^T / N;
- :func:`relu_rnn` - the states of h_t = ReLU(W h_(t-1) + U x_t + b).

The fluctuations of squared norms through finite-width ReLU networks are in
:mod:`initcore.fluctuations`.
"""
import math

import numpy as np
from scipy import special

from .seeding import as_generator


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


