"""Spectra of deep linear and recurrent maps (initcore.spectra)."""
import numpy as np
import pytest

import initcore as ic
from initcore import spectra


def test_end_to_end_jacobian_is_the_product_of_the_weights():
    jac = spectra.end_to_end_jacobian(ic.identity, 3, 4, copies=2)
    assert jac.shape == (2, 3, 3) and np.allclose(jac, np.eye(3))
    gen = np.random.default_rng(1)
    w = [ic.scaled_normal()((3, 3), rng=gen, copies=1) for _ in range(2)]
    assert np.allclose(spectra.end_to_end_jacobian(ic.scaled_normal(), 3, 2, rng=1), w[1] @ w[0])


def test_deep_linear_statistics_of_orthogonal_layers_are_exact():
    stats = spectra.deep_linear_statistics(ic.orthogonal, 8, 5, copies=3, rng=2)
    assert np.allclose(stats, [[1.0, 0.0]] * 3)   # every singular value of an orthogonal product is 1


def test_log_chi2_moments_and_the_log_det_mean():
    draws = np.log(np.random.default_rng(3).chisquare(5, 400_000))
    assert np.mean(draws) == pytest.approx(spectra.log_chi2_mean(5), abs=0.01)
    assert np.var(draws) == pytest.approx(spectra.log_chi2_var(5), rel=0.02)
    n = 6
    logdets = [np.linalg.slogdet(ic.scaled_normal()((n, n), rng=s))[1] * 2 / n for s in range(4000)]
    assert np.mean(logdets) == pytest.approx(spectra.gaussian_log_det_mean(n), abs=0.03)


def test_talathi_vartak_has_largest_eigenvalue_one():
    w, lam = spectra.talathi_vartak(10, rng=4, return_scale=True)
    assert np.max(np.linalg.eigvalsh(w)) == pytest.approx(1.0) and lam > 1
    with pytest.raises(ValueError):
        spectra.talathi_vartak(0)


def test_relu_rnn_runs_the_recurrence():
    states = spectra.relu_rnn(np.eye(2), np.array([1.0, -1.0]), steps=3)
    assert states.shape == (4, 2) and np.allclose(states[1:], [[1.0, 0.0]] * 3)
    with pytest.raises(ValueError, match="inputs or the number of steps"):
        spectra.relu_rnn(np.eye(2), np.ones(2))
