"""Measured false-alarm rates of the checks, family by family, and the bounds they imply.

A check's z-score divides by an estimated standard error. For Gaussian unit values it follows
Student's t, and :func:`initcore.montecarlo.bound_for` takes its quantile. The book's statistics
are often far from Gaussian: a second moment through depth is a product of per-layer factors,
strongly right-skewed, and the t statistic of a skewed mean has a heavy *left* tail (a sample
that misses the rare large values has both a small mean and a small standard error). So the
rate at which a correct formula fails is measured here, by simulation, for a representative
statistic of each family of checks (:data:`initcore.montecarlo.FAMILIES`):

1. draw a large pool of unit values (one value per network, or per draw) from the exact law of
   the family's representative statistic (``REPRESENTATIVES``);
2. for each sample size ``n`` of a grid, form ``replicates`` t statistics of ``n`` values drawn
   from the pool, centred on the pool's mean (so the null hypothesis holds exactly);
3. count ``|t| > x`` at a few thresholds (the *empirical* rates), and fit a generalized Pareto
   law to the largest ``|t|`` (peaks over a threshold), which extrapolates the tail to the tiny
   rates that the book's bound is set for. The family's bound at ``n`` is the ``|t|`` whose
   fitted tail rate equals the per-comparison rate ``FAMILY_FALSE_ALARM / FAMILY_SIZE``.

The measurement is made once (``python tools/calibrate.py``, a few minutes) and stored in
``calibration.json`` beside this module; ``tests/test_calibration.py`` re-measures each family
quickly and asserts that the stored figures hold. A check of family ``f`` with ``n`` samples uses
the larger of the Student-t bound and the family's bound at the largest grid size not above
``n`` (tails lighten as ``n`` grows, so this errs on the safe side).
"""
import json
from functools import lru_cache
from pathlib import Path

import numpy as np

TABLE = Path(__file__).with_name("calibration.json")
#: Final losses of trained networks: the training family's law (see :func:`training_losses`).
TRAINING_LOSSES = Path(__file__).with_name("training_losses.json")

#: Sample sizes at which each family is measured.
GRID = (16, 32, 64, 128, 256, 512, 1024, 2048, 4096)
#: Thresholds at which the empirical rates are counted.
THRESHOLDS = (3.0, 4.0, 5.0, 6.0)


def _he_relu_factors(rng, size, width, depth):
    """Per-layer factors q_{l+1}/q_l of a He ReLU network with one input, exactly
    (:func:`initcore.fluctuations.relu_norm_factor`: a dead layer gives 0)."""
    from .fluctuations import relu_norm_factor

    return relu_norm_factor(width, (size, depth), rng=rng)


def _draws(rng, size):
    return rng.standard_normal(size) ** 4


def _matrix(rng, size, entries=256, chunk=2**14):
    # the mean square of a uniform matrix with 256 entries (the book's have thousands: lighter tails)
    return np.concatenate([np.mean(rng.uniform(-1.0, 1.0, size=(min(chunk, size - start), entries)) ** 2, axis=1)
                           for start in range(0, size, chunk)])


def _depth(rng, size):
    return np.prod(_he_relu_factors(rng, size, 64, 10), axis=1)


def _log(rng, size):
    return np.sum(np.log(_he_relu_factors(rng, size, 32, 32)), axis=1)


def _ratio(rng, size):
    return _he_relu_factors(rng, size, 16, 1)[:, 0]


@lru_cache(maxsize=None)
def training_losses():
    """The stored final losses of trained networks: ``{"setting": {...}, "values": [...]}``.

    One capped final loss per independent network, trained as in the chapter "Does it train?"
    (the ``setting``: He-initialized ReLU networks of depth 30 and width 48 on a teacher task, 250
    minibatch steps); a loss that is not finite, or above the best constant prediction's, counts as
    that constant's loss. ``python tools/calibrate.py --training-losses`` trains them anew.
    """
    return json.loads(TRAINING_LOSSES.read_text(encoding="utf-8"))


def _training(rng, size):
    values = np.asarray(training_losses()["values"], dtype=np.float64)
    return values[rng.integers(0, values.size, size)]


def _gaussian(rng, size):
    return rng.standard_normal(size)


#: For each family: (description of the representative statistic, its sampler ``f(rng, size)``).
REPRESENTATIVES = {
    "draws": ("Z^4 for Gaussian Z: the most skewed single draw the book averages (skewness 10.1)",
              _draws),
    "matrix": ("the mean square of a uniform matrix of 256 entries (the book's matrices have more, "
               "so lighter tails)", _matrix),
    "depth": ("q_10 / q_0 of a He ReLU network of width 64 with one input (a product of 10 factors)",
              _depth),
    "log": ("log(q_32 / q_0) of a He ReLU network of width 32 (a sum of 32 log factors)", _log),
    "ratio": ("one layer's gain q_1 / q_0 in a He ReLU network of width 16", _ratio),
    "training": ("the capped final loss of a trained network: resampled from the stored losses of "
                 "1024 He-initialized ReLU networks of depth 30 trained as in 'Does it train?' (about 2% "
                 "of them end at the cap)", _training),
    "gaussian": ("Gaussian values: the case Student's t describes exactly (the method's control)",
                 _gaussian),
}


def pool(family, size=2**20, rng=None):
    """``size`` unit values of the family's representative statistic."""
    if family not in REPRESENTATIVES:
        raise ValueError(f"unknown family {family!r}: choose one of {', '.join(REPRESENTATIVES)}")
    gen = np.random.default_rng(rng)
    return np.asarray(REPRESENTATIVES[family][1](gen, size), dtype=np.float64)


def t_statistics(values, n, replicates, rng=None, chunk=2**22):
    """``replicates`` t statistics of ``n`` values drawn with replacement from ``values``."""
    if n < 2:
        raise ValueError(f"need n >= 2, got {n}")
    gen = np.random.default_rng(rng)
    values = np.asarray(values, dtype=np.float64)
    centre = values.mean()
    out = np.empty(replicates)
    rows = max(1, chunk // n)
    for start in range(0, replicates, rows):
        m = min(rows, replicates - start)
        sample = values[gen.integers(0, values.size, size=(m, n))]
        se = sample.std(axis=1, ddof=1) / np.sqrt(n)
        out[start:start + m] = (sample.mean(axis=1) - centre) / se
    return out


def fit_tail(abs_t, exceedances):
    """Generalized Pareto fit to the ``exceedances`` largest values of ``abs_t``.

    Returns ``{"u": threshold, "p_u": fraction above it, "xi": shape, "beta": scale}``.
    """
    from scipy.stats import genpareto

    ordered = np.sort(abs_t)
    u = float(ordered[-exceedances - 1])
    excess = ordered[-exceedances:] - u
    xi, _, beta = genpareto.fit(excess, floc=0.0)
    return {"u": u, "p_u": exceedances / abs_t.size, "xi": float(xi), "beta": float(beta)}


def tail_rate(fit, k):
    """``P(|t| > k)`` under a fitted tail (valid for k at or above the fit's threshold)."""
    excess = max(k - fit["u"], 0.0)
    xi, beta = fit["xi"], fit["beta"]
    if abs(xi) < 1e-9:
        return fit["p_u"] * float(np.exp(-excess / beta))
    base = 1.0 + xi * excess / beta
    return 0.0 if base <= 0 else fit["p_u"] * float(base ** (-1.0 / xi))


def tail_quantile(fit, rate):
    """The k with ``P(|t| > k) = rate`` under a fitted tail."""
    xi, beta = fit["xi"], fit["beta"]
    ratio = fit["p_u"] / rate
    if abs(xi) < 1e-9:
        return fit["u"] + beta * float(np.log(ratio))
    return fit["u"] + beta / xi * float(ratio**xi - 1.0)


def replicates_for(n, budget=2e8, most=10**6):
    """How many t statistics to draw at sample size ``n`` (draws of ``n * replicates`` at most ``budget``)."""
    return int(min(most, budget // n))


def measure(family, n, replicates=None, rng=None, values=None, exceedances=None):
    """Empirical tail rates and the fitted tail of the family's t statistic at sample size ``n``."""
    from .montecarlo import FAMILY_FALSE_ALARM, FAMILY_SIZE, bound_for

    replicates = replicates_for(n) if replicates is None else int(replicates)
    gen = np.random.default_rng(rng)
    values = pool(family, rng=gen) if values is None else values
    abs_t = np.abs(t_statistics(values, n, replicates, rng=gen))
    exceedances = exceedances or max(500, replicates // 1000)
    fit = fit_tail(abs_t, exceedances)
    target = FAMILY_FALSE_ALARM / FAMILY_SIZE
    student = bound_for(n)
    return {
        "n": int(n), "replicates": int(replicates),
        "counts": {f"{x:g}": int(np.sum(abs_t > x)) for x in THRESHOLDS + (round(student, 2),)},
        "student_bound": round(student, 4),
        "fit": fit,
        "bound": round(max(tail_quantile(fit, target), 0.0), 4),
    }


def skewness(values):
    values = np.asarray(values, dtype=np.float64)
    centred = values - values.mean()
    return float(np.mean(centred**3) / np.mean(centred**2) ** 1.5)


@lru_cache(maxsize=None)
def table():
    """The stored measurement: ``{family: {"statistic", "skewness", "rows": [measure(...), ...]}}``."""
    if not TABLE.exists():
        return {}
    return json.loads(TABLE.read_text(encoding="utf-8"))


def _row(family, n):
    rows = [r for r in table().get(family, {}).get("rows", []) if r["n"] <= n]
    return max(rows, key=lambda r: r["n"]) if rows else None


def family_bound(family, n):
    """The measured bound of ``family`` at sample size ``n`` (``None`` where nothing is measured).

    Tails lighten as ``n`` grows, but each row's extrapolated bound carries the noise of its fit, so
    the bound at ``n`` is the largest of the rows from the largest grid size not above ``n``
    upwards (non-increasing in ``n``, and never below a row that applies). Below the grid: the
    smallest size's bound, scaled by the Student-t bounds' ratio.
    """
    from .montecarlo import bound_for

    rows = table().get(family, {}).get("rows", [])
    if not rows:
        return None
    row = _row(family, n)
    if row is None:
        first = min(rows, key=lambda r: r["n"])
        return family_bound(family, first["n"]) * bound_for(n) / bound_for(first["n"])
    return max(r["bound"] for r in rows if r["n"] >= row["n"])


def family_rate(family, n, k):
    """Measured per-comparison false-alarm rate of ``family`` at sample size ``n`` and bound ``k``.

    From the fitted tail where ``k`` lies beyond the fit's threshold, else the empirical count.
    ``None`` where the family is not measured.
    """
    row = _row(family, n)
    if row is None:
        return None
    fit = row["fit"]
    if k >= fit["u"]:
        return tail_rate(fit, k)
    below = [float(x) for x in row["counts"] if float(x) <= k]
    x = max(below) if below else None
    return None if x is None else row["counts"][f"{x:g}"] / row["replicates"]
