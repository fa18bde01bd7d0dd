"""The power registry: every Monte Carlo check the book makes, read from the notebooks' stored outputs.

Each line printed by ``initcore.check`` names the wrong answer it must reject and how many standard
errors separate it from the theory. These tests assert, notebook by notebook, that every check
declares a wrong alternative, that with the chapter's sample size n the wrong answer lies at least
``check_bound(n, family) + margin_for(n)`` standard errors away (so it is rejected with probability
>= 1 - MISS_RATE), that the stored run passed with the bound for its n and family, that every check
names its family, and that the book makes no more comparisons than the bound was computed for
(``FAMILY_SIZE``), with a family-wise false-alarm rate, from the *measured* tails of each family
(initcore.calibration), within the book's budget.
"""
from pathlib import Path

import pytest

from initcore import montecarlo
from tools.book import notebooks

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = notebooks()


def required(record):
    """Standard errors a wrong answer must lie from the theory, at the check's sample size."""
    return montecarlo.check_bound(record["n"], record["family"]) + montecarlo.margin_for(record["n"])


def _checks(path):
    return [r for r in montecarlo.stored_checks([path]) if r["kind"] == "check"]


def _where(record):
    return f"{Path(record['notebook']).relative_to(ROOT)} cell {record['cell']}: {record['name']}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT / "book")))
def test_every_check_names_its_wrong_alternative(path):
    missing = [_where(r) for r in _checks(path) if r["wrong"] is None]
    assert not missing, "checks without wrong=... (they cannot show their power):\n" + "\n".join(missing)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT / "book")))
def test_every_check_is_powered_against_its_wrong_alternative(path):
    weak = [f"{_where(r)}\n    separation {r['separation']:.1f} < {required(r):.1f}"
            for r in _checks(path) if r["wrong"] is not None and r["separation"] < required(r)]
    assert not weak, ("checks whose wrong answer is too close to the theory for their sample size "
                      "(draw more samples, or re-execute the notebook if its output predates the "
                      "printed separation):\n" + "\n".join(weak))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT / "book")))
def test_stored_checks_passed_with_the_books_bound(path):
    failed = [_where(r) for r in _checks(path) if not r["passed"] or abs(r["z"]) > r["k"]]
    assert not failed, "\n".join(failed)
    loose = [_where(r) for r in _checks(path)
             if r["k"] < round(montecarlo.check_bound(r["n"], r["family"]), 2) - 0.005]
    assert not loose, "checks run with a bound below check_bound(n, family):\n" + "\n".join(loose)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT / "book")))
def test_every_check_names_its_family(path):
    missing = [_where(r) for r in _checks(path) if r["family"] not in montecarlo.FAMILIES]
    assert not missing, ("checks without family=... (the family decides the measured bound):\n"
                         + "\n".join(missing))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT / "book")))
def test_check_names_are_unique_within_a_notebook(path):
    names = [r["name"] for r in _checks(path)]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    assert not duplicates, f"{path.name}: give each check its own name: {duplicates}"


def test_the_book_makes_no_more_comparisons_than_k_was_set_for():
    # Every element of a vector check is one comparison; the z-bound K is Bonferroni over FAMILY_SIZE.
    records = [r for path in NOTEBOOKS for r in _checks(path)]
    total = sum(r["count"] for r in records)
    assert total <= montecarlo.FAMILY_SIZE, (
        f"the book makes {total} comparisons but K assumes at most {montecarlo.FAMILY_SIZE}: "
        "raise initcore.montecarlo.FAMILY_SIZE")


#: The family-wise false-alarm rate: each check's bound is at least the Student-t quantile for its n
#: and at least its family's measured bound, so the sum of the measured per-check rates stays
#: within the nominal FAMILY_FALSE_ALARM (a little slack for the printed rounding of k).
FAMILY_BUDGET = 1.05 * montecarlo.FAMILY_FALSE_ALARM


def test_family_false_alarm_from_measured_tails_stays_within_budget():
    records = [r for path in NOTEBOOKS for r in _checks(path)]
    rates = [montecarlo.measured_false_alarm_rate(r["n"], r["k"], r["family"], r["count"]) for r in records]
    worst = sorted(zip(rates, records), key=lambda pair: -pair[0])[:5]
    assert sum(rates) <= FAMILY_BUDGET, (
        f"family-wise false-alarm rate {sum(rates):.2e} > {FAMILY_BUDGET:.0e}; the largest contributions:\n"
        + "\n".join(f"{rate:.1e}  {_where(r)}" for rate, r in worst))
