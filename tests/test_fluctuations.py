"""Finite-width fluctuations of squared norms in He ReLU networks (initcore.fluctuations)."""
import math

import numpy as np
import pytest

import initcore as ic
from initcore import fluctuations


def test_norm_factor_has_mean_one_and_variance_five_over_n():
    n, draws = 16, 200_000
    r = fluctuations.relu_norm_factor(n, draws, rng=1)
    ic.check(ic.Estimate.from_samples(r), 1.0, wrong=1.0 - 1 / n, name="E[r] = 1", family="draws")
    ic.check(ic.Estimate.from_samples((r - 1) ** 2), 5 / n, wrong=4 / n, name="Var[r] = 5/n", family="draws")


def test_alive_conditions_on_at_least_one_active_unit():
    dead = fluctuations.relu_norm_factor(1, 10_000, rng=2)
    assert 0.45 < np.mean(dead == 0) < 0.55  # width 1: the unit is off half the time
    assert np.all(fluctuations.relu_norm_factor(1, 1000, rng=3, alive=True) > 0)
    with pytest.raises(ValueError, match="at least 1"):
        fluctuations.relu_norm_factor(0, 10)


def test_log_factor_moments_agree_with_draws():
    n = 8
    mean, var = fluctuations.relu_log_factor_moments(n)
    logs = np.log(fluctuations.relu_norm_factor(n, 400_000, rng=4, alive=True))
    ic.check(ic.Estimate.from_samples(logs), mean, wrong=math.log(1) - 5 / (2 * n), name="E[log r]", family="log")
    ic.check(ic.Estimate.from_samples((logs - mean) ** 2), var, wrong=5 / n, name="Var[log r]", family="log")
    with pytest.raises(ValueError, match="K >= 1"):
        fluctuations.relu_log_factor_moments(n, alive=False)


def test_death_probability():
    assert fluctuations.relu_death_probability([8] * 8) == pytest.approx(1 - (1 - 2**-8) ** 8)
    assert fluctuations.relu_death_probability(1) == pytest.approx(0.5)


def test_norm_ratios_are_the_same_factors_in_real_networks():
    ratios = fluctuations.relu_norm_ratios([32] * 6, 4000, rng=5)
    assert ratios.shape == (4000, 5)
    ic.check(ic.Estimate.from_samples(ratios.mean(axis=1)), 1.0, wrong=0.9, name="mean factor", family="ratio")
