"""Monte Carlo estimates with standard errors, and the checks that compare them with theory.

The unit of repetition is an independent draw: an independent sample for a
scalar expectation, an independent *network* for a statistic of a network.
Samples are accumulated in chunks, so memory stays
flat however many are drawn.

A check passes when ``|estimate - theory| <= k * se``. The bound ``k`` comes
from a family-wise false-alarm rate (Bonferroni over every comparison the book
makes), so a correct formula fails with negligible probability under any
seed. Because the standard error is itself estimated, ``k`` is the Student-t
quantile for the estimate's ``n - 1`` degrees of freedom (:func:`bound_for`);
it tends to :data:`K` for large ``n``. Student's t assumes near-Gaussian values; each check names
its family (:data:`FAMILIES`), whose tails are measured by simulation (:mod:`initcore.calibration`),
and the bound is raised where they are heavier (:func:`check_bound`). A check that names the ``wrong`` answer it
guards against also proves its power: the wrong value must lie at least
``k + margin`` standard errors from the theory (:func:`margin_for`, tending to
:data:`POWER_MARGIN`), or the check refuses to run as underpowered.
"""
import json as _json
import os
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path as _Path
from statistics import NormalDist

import numpy as np

from .seeding import as_generator

#: Probability that any check in the whole book fails when every formula is right.
FAMILY_FALSE_ALARM = 1e-6
#: How many comparisons the book makes at most (each element of a vector check counts).
FAMILY_SIZE = 1000
#: Probability that a check fails to reject its named wrong answer.
MISS_RATE = 1e-6

#: The families of checks, by the statistic whose mean a check estimates. The tails of a z-score
#: depend on how skewed that statistic is, so false-alarm rates are measured per family
#: (:mod:`initcore.calibration`) and each check names its family.
FAMILIES = {
    "draws": "means of independent scalar draws (a moment of one variable, one neuron, one matrix entry)",
    "matrix": "one value per random matrix, averaged over its many entries (an initializer's variance)",
    "depth": "second moments of signals or gradients through a deep network, one value per network "
             "(products of per-layer factors: skewed)",
    "log": "logarithms of norms or singular values, one value per network (sums along depth)",
    "ratio": "ratios of per-network moments (a layer's gain, a gradient ratio, a correlation)",
    "training": "losses of trained networks, one value per network",
}


def _family(family):
    if family is None:
        return None
    if family not in FAMILIES:
        raise ValueError(f"unknown check family {family!r}: choose one of {', '.join(FAMILIES)}")
    return family


def z_bound(false_alarm=FAMILY_FALSE_ALARM, comparisons=FAMILY_SIZE):
    """Two-sided z-bound with family-wise false-alarm rate ``false_alarm`` (Bonferroni)."""
    return NormalDist().inv_cdf(1 - false_alarm / (2 * comparisons))


#: The z-bound for many samples (the limit of :func:`bound_for`).
K = z_bound()
#: Extra standard errors between theory and a wrong answer so that the wrong one is rejected
#: with probability at least 1 - MISS_RATE (the limit of :func:`margin_for`).
POWER_MARGIN = NormalDist().inv_cdf(1 - MISS_RATE)


def _t_two_sided_quantile(tail, n):
    """The k with P(|T| > k) = ``tail`` for Student's T with ``n - 1`` degrees of freedom.

    SciPy's inverse t distribution, from the lower tail (``-stdtrit(nu, tail / 2)``) so that tiny
    tails keep their precision; :func:`false_alarm_rate` (mpmath, exact) is its inverse, which
    ``tests/test_montecarlo.py`` checks.
    """
    from scipy.special import stdtrit

    nu = int(n) - 1
    if nu < 1:
        raise ValueError(f"need n >= 2, got {n}")
    return float(-stdtrit(nu, tail / 2))


@lru_cache(maxsize=None)
def bound_for(n, false_alarm=FAMILY_FALSE_ALARM, comparisons=FAMILY_SIZE):
    """The z-bound of a check whose estimate comes from ``n`` independent samples.

    A z-score with an estimated standard error follows Student's t with ``n - 1``
    degrees of freedom (for Gaussian samples), whose tails are heavier than the
    normal's at small ``n``: the bound is the t quantile at the per-comparison
    rate ``false_alarm / comparisons`` (two-sided), so the family-wise rate holds
    at every sample size. It decreases to :data:`K` as ``n`` grows.
    """
    return _t_two_sided_quantile(false_alarm / comparisons, int(n))


def check_bound(n, family=None):
    """The bound a check of ``family`` with ``n`` samples uses.

    The Student-t bound :func:`bound_for`, raised to the family's measured bound where its
    statistic's tails are heavier than Student's t (:func:`initcore.calibration.family_bound`:
    measured by simulation, because averages of skewed values have skewed t statistics).
    """
    k = bound_for(n)
    if family is not None:
        from .calibration import family_bound

        measured = family_bound(_family(family), int(n))
        if measured is not None:
            k = max(k, measured)
    return k


@lru_cache(maxsize=None)
def margin_for(n, miss=MISS_RATE):
    """Standard errors beyond the bound that make a wrong answer's miss rate at most ``miss``."""
    return _t_two_sided_quantile(2 * miss, int(n))


@dataclass(frozen=True)
class Estimate:
    """A Monte Carlo estimate: ``value`` +- standard error ``se`` from ``n`` independent samples.

    ``value`` and ``se`` are floats or arrays of the same shape (one estimate
    per layer, say); indexing an array estimate gives a scalar one.
    """

    value: object
    se: object
    n: int

    @classmethod
    def from_samples(cls, samples, axis=0):
        """Mean and standard error of independent samples along ``axis``."""
        samples = np.asarray(samples, dtype=np.float64)
        n = samples.shape[axis]
        if n < 2:
            raise ValueError("an estimate needs at least 2 independent samples for its standard error")
        value = samples.mean(axis=axis)
        se = samples.std(axis=axis, ddof=1) / np.sqrt(n)
        return cls(_scalar(value), _scalar(se), n)

    @property
    def relative_se(self):
        return self.se / np.abs(self.value)

    def __getitem__(self, index):
        return Estimate(_scalar(np.asarray(self.value)[index]), _scalar(np.asarray(self.se)[index]), self.n)

    def __len__(self):
        return len(np.asarray(self.value))

    def __str__(self):
        if np.ndim(self.value) == 0:
            return f"{self.value:.6g} +- {self.se:.2g} (n={self.n})"
        cells = ", ".join(f"{v:.4g} +- {s:.2g}" for v, s in zip(np.ravel(self.value), np.ravel(self.se)))
        return f"[{cells}] (n={self.n})"

    __repr__ = __str__


def _scalar(x):
    x = np.asarray(x)
    return float(x) if x.ndim == 0 else x


class Accumulator:
    """Running mean and sum of squared deviations (Chan et al.), merged chunk by chunk."""

    def __init__(self):
        self.n, self.mean, self.m2 = 0, 0.0, 0.0

    def add(self, samples):
        samples = np.asarray(samples, dtype=np.float64)
        m = samples.shape[0]
        if m == 0:
            return
        mean = samples.mean(axis=0)
        m2 = ((samples - mean) ** 2).sum(axis=0)
        delta = mean - self.mean
        total = self.n + m
        self.mean = self.mean + delta * (m / total)
        self.m2 = self.m2 + m2 + delta**2 * (self.n * m / total)
        self.n = total

    def estimate(self):
        if self.n < 2:
            raise ValueError("an estimate needs at least 2 independent samples for its standard error")
        se = np.sqrt(self.m2 / (self.n - 1) / self.n)
        return Estimate(_scalar(self.mean), _scalar(se), self.n)


def sample_mean(sampler, n, chunk=2**18, rng=None):
    """Estimate E[f] from ``n`` independent samples drawn in chunks.

    ``sampler(rng, m)`` returns ``m`` independent samples of f (an array whose
    first axis has length ``m``; further axes give a vector estimate).
    """
    return _accumulate(sampler, n, chunk, rng)


def over_networks(statistic, networks, chunk=32, rng=None):
    """Estimate the mean of a per-network statistic over independent networks.

    ``statistic(rng, c)`` builds ``c`` independent networks and returns one
    value per network (an array with first axis ``c``). The standard error
    comes from the spread across networks, never across inputs of one network.
    """
    return _accumulate(statistic, networks, chunk, rng)


def _count(value, name, least=1):
    """``value`` as an int of at least ``least``, or a ValueError/TypeError that names ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer (a number of samples), got {value!r} of type "
                        f"{type(value).__name__}")
    if value < least:
        raise ValueError(f"{name} must be at least {least}, got {value}")
    return int(value)


def _accumulate(draw, n, chunk, rng):
    if not callable(draw):
        raise TypeError(f"the sampler must be a function f(rng, m) returning m values, got {draw!r}")
    n = _count(n, "the number of independent samples n", least=2)
    chunk = _count(chunk, "chunk")
    gen = as_generator(rng)
    acc = Accumulator()
    done = 0
    while done < n:
        m = min(chunk, n - done)
        acc.add(draw(gen, m))
        done += m
    return acc.estimate()


@dataclass(frozen=True)
class Comparison:
    """The outcome of comparing an estimate with theory (see :func:`compare`)."""

    name: str
    estimate: Estimate
    theory: object
    z: object
    k: float
    wrong: object = None
    z_wrong: object = None
    separation: object = None
    margin: float = POWER_MARGIN
    family: str = None

    @property
    def passed(self):
        return bool(np.all(np.abs(self.z) <= self.k))

    @property
    def powered(self):
        return self.wrong is None or bool(np.all(self.separation >= self.k + self.margin))

    def record(self):
        """The comparison as plain data (what the book's register of checks reads back)."""
        def plain(x):
            x = np.asarray(x, dtype=float)
            return float(x) if x.ndim == 0 else x.ravel().tolist()

        z = np.atleast_1d(self.z)
        return {"kind": "check", "name": self.name, "family": self.family, "n": int(self.estimate.n),
                "count": int(z.size), "value": plain(self.estimate.value), "se": plain(self.estimate.se),
                "theory": plain(self.theory), "z": plain(self.z), "k": float(self.k), "passed": self.passed,
                "wrong": None if self.wrong is None else plain(self.wrong),
                "separation": None if self.separation is None else plain(self.separation),
                "required": float(self.k + self.margin), "powered": self.powered}

    def __str__(self):
        z = np.atleast_1d(self.z)
        worst = int(np.argmax(np.abs(z)))
        value = np.atleast_1d(np.asarray(self.estimate.value, dtype=float))
        se = np.atleast_1d(np.asarray(self.estimate.se, dtype=float))
        theory = np.atleast_1d(np.asarray(self.theory, dtype=float)) * np.ones_like(z)
        family = "" if self.family is None else f"  [family: {self.family}]"
        verdict = "pass" if self.passed else "FAIL"
        within = "within" if self.passed else "beyond"
        lines = [f"check {self.name}{family}"]
        if z.size == 1:
            lines.append(f"  estimate {value[0]:.6g} ± {se[0]:.2g} from {self.estimate.n} samples; theory "
                         f"{theory[0]:.6g}; z = {z[0]:+.2f}, {within} the bound {self.k:.2f}: {verdict}")
        else:
            lines.append(f"  {z.size} values from {self.estimate.n} samples; the worst, at index {worst}: "
                         f"estimate {value[worst]:.6g} ± {se[worst]:.2g}, theory {theory[worst]:.6g}, "
                         f"z = {z[worst]:+.2f}, {within} the bound {self.k:.2f}: {verdict}")
        if self.wrong is not None:
            sep = np.atleast_1d(self.separation)
            closest = int(np.argmin(sep))
            wrong = np.atleast_1d(np.asarray(self.wrong, dtype=float)) * np.ones_like(sep)
            where = f" (index {closest})" if sep.size > 1 else ""
            outcome = "rejected" if self.powered else "too close to reject reliably"
            lines.append(f"  the wrong answer {wrong[closest]:.6g}{where} lies {sep[closest]:.1f} standard errors "
                         f"away ({self.k + self.margin:.1f} needed): {outcome}")
        return "\n".join(lines)


#: The MIME type of the record a check leaves in a notebook's output (beside its text).
CHECK_MIME = "application/vnd.initcore.check+json"


def _emit(text, record):
    """Show ``text``; in a notebook, store ``record`` with it (the register reads records, not text)."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython comes with the book's requirements
        get_ipython = None
    shell = get_ipython() if get_ipython else None
    if shell is None or not hasattr(shell, "kernel"):
        print(text)
        return
    display({"text/plain": text, CHECK_MIME: record}, raw=True)


def _as_estimate(estimate, name):
    if not isinstance(estimate, Estimate):
        raise TypeError(f"{name}: check() compares an initcore.Estimate (value +- se from n samples, "
                        "made by ic.sample_mean, ic.over_networks or Estimate.from_samples), got "
                        f"{estimate!r} of type {type(estimate).__name__}")
    return estimate


def _bound(k, name):
    if k is None:
        return None
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, float, np.integer, np.floating)) \
            or not np.isfinite(k) or k <= 0:
        raise ValueError(f"{name}: the bound k must be a positive number of standard errors, got {k!r}")
    return float(k)


def compare(estimate, theory, *, wrong=None, k=None, name="estimate", family=None):
    """Compare ``estimate`` with ``theory`` (and ``wrong``) without raising.

    ``family`` is one of :data:`FAMILIES` (the kind of statistic averaged). ``k`` defaults to
    :func:`check_bound`: the Student-t bound for the estimate's sample size, raised where the
    family's measured tails are heavier.
    """
    estimate = _as_estimate(estimate, name)
    family = _family(family)
    k = _bound(k, name)
    if k is None:
        k = check_bound(estimate.n, family)
    value = np.asarray(estimate.value, dtype=float)
    se = np.asarray(estimate.se, dtype=float)
    if np.any(~np.isfinite(value)) or np.any(~np.isfinite(se)):
        raise ValueError(f"{name}: the estimate is not finite ({estimate})")
    if np.any(se <= 0):
        raise ValueError(f"{name}: the standard error is zero, so no z-score can be formed ({estimate})")
    theory_arr = np.asarray(theory, dtype=float)
    z = _scalar((value - theory_arr) / se)
    z_wrong = separation = None
    if wrong is not None:
        wrong_arr = np.asarray(wrong, dtype=float)
        z_wrong = _scalar((value - wrong_arr) / se)
        separation = _scalar(np.abs(theory_arr - wrong_arr) / se)
    return Comparison(name, estimate, _scalar(theory_arr), z, k, wrong, z_wrong, separation,
                      margin_for(estimate.n), family)


def strict():
    """Whether an underpowered check fails (under the test suite) or only warns (a reader's experiment).

    The test suite sets ``INITCORE_STRICT=1`` for every notebook kernel (``conftest.py``), and so
    do the seed sweep and grading, which run the suite.
    """
    return os.environ.get("INITCORE_STRICT", "").strip() == "1"


class UnderpoweredWarning(UserWarning):
    """A check whose sample is too small to reject its named wrong answer reliably."""


def underpowered_message(result):
    """What an underpowered check says: where it is weakest and how many samples would do."""
    sep = np.atleast_1d(result.separation)
    closest = int(np.argmin(sep))
    required = result.k + result.margin
    wrong = np.atleast_1d(np.asarray(result.wrong, dtype=float) * np.ones_like(sep))[closest]
    where = f" at index {closest} (layer {closest} of a per-layer check)" if sep.size > 1 else ""
    needed = int(np.ceil(result.estimate.n * (required / max(sep[closest], 1e-12)) ** 2))
    return (f"{result.name}: underpowered{where}: the wrong answer {wrong:.6g} is only {sep[closest]:.1f} "
            f"standard errors from the theory, and rejecting it reliably needs {required:.1f}. The estimate "
            f"itself agrees with the theory. Raise the number of independent samples (networks) from "
            f"{result.estimate.n} to about {needed} (the argument that sets n, e.g. over_networks(..., "
            f"networks) or layer_moments(..., networks=...)).")


def check(estimate, theory, *, wrong=None, k=None, name="estimate", family=None):
    """Print the comparison of ``estimate`` with ``theory``; raise ``AssertionError`` if they disagree.

    ``wrong`` is the plausible wrong answer the check must be able to reject
    (a missing factor 1/2, the fan_out variance for fan_in...). If it lies
    fewer than ``k + margin`` standard errors from the theory the check
    is underpowered: under the test suite (:func:`strict`) it raises, in a reader's own session it
    warns (:class:`UnderpoweredWarning`, naming the weakest element and the sample size that would
    do) and the chapter goes on. A disagreement with the theory raises everywhere. ``k`` defaults
    to :func:`check_bound` for the estimate's sample size and ``family``.
    """
    result = compare(estimate, theory, wrong=wrong, k=k, name=name, family=family)
    k = result.k
    _emit(str(result), result.record())
    if not result.passed:
        z = np.atleast_1d(result.z)
        worst = int(np.argmax(np.abs(z)))
        where = f" at index {worst}" if z.size > 1 else ""
        raise AssertionError(
            f"{name}: the estimate disagrees with the theory{where} (|z| = {abs(z[worst]):.2f} > {k:.2f}). "
            f"The formula or the sampler is wrong."
        )
    if not result.powered:
        message = underpowered_message(result)
        if strict():
            raise AssertionError(message)
        warnings.warn(message, UnderpoweredWarning, stacklevel=2)
    return result


def expect_rejection(estimate, wrong, *, k=None, name="wrong answer", family=None):
    """Show that a wrong answer is rejected: print its z-score; complain if it would pass.

    The bound is :func:`check_bound` for the estimate's sample size and ``family``, as for a check.
    A wrong answer that is not rejected means the sample is too small to tell it apart: under the
    test suite (:func:`strict`) that raises ``AssertionError``; in a reader's own session it warns
    (:class:`UnderpoweredWarning`, with about how many samples would do) and the chapter goes on.
    """
    result = compare(estimate, wrong, k=k, name=name, family=family)
    k = result.k
    z = np.max(np.abs(np.atleast_1d(result.z)))
    shown = np.asarray(wrong, dtype=float).round(6).tolist()
    if result.passed:
        needed = int(np.ceil(estimate.n * ((k + margin_for(estimate.n)) / max(z, 1e-12)) ** 2))
        message = (f"{name}: the wrong answer {shown} was not rejected (|z| = {z:.2f} <= {k:.2f}) with "
                   f"{estimate.n} samples. Raise the number of independent samples (networks) to about {needed}.")
        if strict():
            raise AssertionError(message + " The demonstration has no power.")
        warnings.warn(message, UnderpoweredWarning, stacklevel=2)
        return result
    _emit(f"reject {name}\n  estimate {estimate} against the wrong answer {shown}: |z| = {z:.1f}, beyond the "
          f"bound {k:.2f}: rejected", {"kind": "reject", "name": name, "family": result.family, "z": float(z), "k": float(k)})
    return result


# ---------------------------------------------------------------------------------------------
# The book's register of checks (tests/test_power.py, the appendix "How the checks are built") is
# read from the records that check() and expect_rejection() leave in the notebooks' outputs, so it
# can never drift from what the notebooks actually ran.


def _scalar_fields(record):
    """A record with the worst element's value, se and theory for a per-layer check (for tables)."""
    record = dict(record)
    z = np.atleast_1d(np.asarray(record["z"], dtype=float))
    worst = int(np.argmax(np.abs(z)))
    for key in ("value", "se", "theory", "z"):
        values = np.atleast_1d(np.asarray(record[key], dtype=float)) * np.ones_like(z)
        record[key] = float(values[worst])
    if record.get("separation") is not None:
        record["separation"] = float(np.min(record["separation"]))
    if record.get("wrong") is not None:
        record["wrong"] = float(np.atleast_1d(record["wrong"])[0])
    return record


def stored_checks(paths):
    """Every check and rejection recorded in the stored outputs of the notebooks ``paths``.

    Returns a list of dicts (:meth:`Comparison.record`, with the worst element's value, se, theory
    and z, and the smallest separation, for per-layer checks) plus ``notebook`` (the path),
    ``cell`` (index of the cell) and ``kind`` (``"check"`` or ``"reject"``).
    """
    found = []
    for path in paths:
        nb = _json.loads(_Path(path).read_text(encoding="utf-8"))
        for index, cell in enumerate(nb.get("cells", [])):
            for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
                record = output.get("data", {}).get(CHECK_MIME)
                if record is None:
                    continue
                if record.get("kind") == "check":
                    record = _scalar_fields(record)
                found.append(dict(record, notebook=str(path), cell=index))
    return found


def false_alarm_rate(n, k=K, count=1):
    """Probability that ``count`` comparisons of a correct formula fail at bound ``k`` with ``n`` samples.

    The z-score divides by an *estimated* standard error, so for Gaussian samples it follows
    Student's t with ``n - 1`` degrees of freedom: per comparison ``P(|T| > k) =
    I_{nu/(nu+k^2)}(nu/2, 1/2)``, which exceeds the normal tail used to choose :data:`K` when ``n``
    is small (about 20x at n = 100, 2e4x at n = 16); :func:`bound_for` inverts it. Returns the
    Bonferroni sum over ``count``.
    """
    import mpmath

    nu = int(n) - 1
    if nu < 1:
        raise ValueError(f"need n >= 2, got {n}")
    tail = float(mpmath.betainc(nu / 2, 0.5, 0, nu / (nu + float(k) ** 2), regularized=True))
    return min(1.0, count * tail)


def measured_false_alarm_rate(n, k, family=None, count=1):
    """Probability that ``count`` comparisons of a correct formula fail at bound ``k``, as measured.

    The larger of the Student-t rate (:func:`false_alarm_rate`) and the family's measured rate
    (:func:`initcore.calibration.family_rate`) at the check's sample size; the Student-t rate
    alone for a check without a family.
    """
    rate = false_alarm_rate(n, k)
    if family is not None:
        from .calibration import family_rate

        measured = family_rate(_family(family), int(n), float(k))
        if measured is not None:
            rate = max(rate, measured)
    return min(1.0, count * rate)
