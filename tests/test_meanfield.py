"""The Gaussian quadrature, the variance map and the gains built on it (initcore.meanfield).

Every reference value is exact (a closed form) or comes from an independent method (SciPy's
adaptive quad), so a wrong rule, a wrong map or a wrong gain fails here before a chapter prints it.
"""
import math

import numpy as np
import pytest

import initcore as ic
from initcore import meanfield as mf

ACTIVATIONS = [("linear", None), ("relu", None), ("leaky_relu", 0.01), ("tanh", None), ("sigmoid", None),
               ("softsign", None), ("elu", None), ("selu", None)]


@pytest.mark.parametrize("q", [0.0, 1e-6, 0.7, 1.0, 12.5, 3000.0])
def test_quadrature_is_exact_for_kinked_polynomials(q):
    """E[(sqrt q Z)^2] = q, E[ReLU(sqrt q Z)^2] = q/2, P(Z > 0) = 1/2, E[|sqrt q Z|] = sqrt(2q/pi)."""
    assert mf.gaussian_quadrature(lambda x: x**2, q) == pytest.approx(q, rel=1e-14, abs=1e-300)
    relu_squared = mf.gaussian_quadrature(lambda x: np.maximum(x, 0) ** 2, q)
    assert relu_squared == pytest.approx(q / 2, rel=1e-14, abs=1e-300)
    assert mf.gaussian_quadrature(lambda x: np.ones_like(x), q) == pytest.approx(1.0, rel=1e-14)
    assert mf.gaussian_quadrature(np.abs, q) == pytest.approx(math.sqrt(2 * q / math.pi), rel=1e-14, abs=1e-300)
    if q > 0:
        assert mf.gaussian_quadrature(lambda x: (x > 0).astype(float), q) == pytest.approx(0.5, rel=1e-14)


@pytest.mark.parametrize("q", [0.01, 1.0, 7.0, 500.0, 1e5])
def test_quadrature_matches_a_closed_form_with_a_kink_and_a_boundary_layer(q):
    """E[selu'(sqrt q Z)^2] = lambda^2 (1/2 + alpha^2 e^{2q} Phi(-2 sqrt q)): a kink at 0, and for large q
    an exponential boundary layer of width 1/sqrt(q) on the negative side."""
    from scipy.special import erfcx       # e^{x^2} erfc(x): e^{2q} Phi(-2 sqrt q) = erfcx(sqrt(2q)) / 2

    lam, alpha = ic.activations.SELU_LAMBDA, ic.activations.SELU_ALPHA
    exact = lam**2 * (0.5 + alpha**2 * erfcx(math.sqrt(2 * q)) / 2)
    selu = ic.activations.selu()
    assert mf.gaussian_quadrature(lambda x: selu.df(x) ** 2, q) == pytest.approx(exact, rel=1e-14)


@pytest.mark.parametrize("name, param", ACTIVATIONS)
@pytest.mark.parametrize("q", [0.05, 1.0, 12.5, 150.0])
def test_default_rule_agrees_with_adaptive_quad(name, param, q):
    phi = ic.activations.get(name, param)
    for f in (phi.f, lambda x: phi.f(x) ** 2, lambda x: phi.df(x) ** 2):
        rule = mf.gaussian_quadrature(f, q)
        adaptive = mf.gaussian_quadrature(f, q, method="quad")
        assert abs(rule - adaptive) <= 1e-12 * max(1.0, abs(adaptive))


def test_quadrature_vectorizes_and_validates():
    q = np.array([[0.0, 0.5], [2.0, 40.0]])
    values = mf.gaussian_quadrature(np.tanh, q)
    assert values.shape == q.shape and np.all(np.abs(values) < 1e-15)     # tanh is odd
    many = mf.gaussian_quadrature(lambda x: x**2, q)
    assert np.allclose(many, q, rtol=1e-14)
    assert isinstance(mf.gaussian_quadrature(lambda x: x**2, 2.0), float)
    assert np.allclose(mf.gaussian_quadrature(lambda x: x**2, q, method="quad"), q, rtol=1e-12)
    with pytest.raises(ValueError, match="non-negative"):
        mf.gaussian_quadrature(np.tanh, -1.0)
    with pytest.raises(ValueError, match="non-negative"):
        mf.gaussian_quadrature(np.tanh, np.nan)
    with pytest.raises(ValueError, match="unknown method"):
        mf.gaussian_quadrature(np.tanh, 1.0, method="hermite")


def test_variance_map_linear_and_relu():
    assert mf.variance_map(0.7, 1.3, 0.2, "linear") == pytest.approx(1.3**2 * 0.7 + 0.2**2, rel=1e-14)
    assert mf.variance_map(0.7, 1.3, 0.2, "relu") == pytest.approx(1.3**2 * 0.7 / 2 + 0.2**2, rel=1e-14)
    leaky = mf.variance_map(0.7, 1.3, activation="leaky_relu", param=0.25)
    assert leaky == pytest.approx(1.3**2 * 0.7 * (1 + 0.25**2) / 2, rel=1e-14)
    assert mf.chi1(1.3, 0.0, "relu", q=0.7) == pytest.approx(1.3**2 / 2, rel=1e-14)


def test_trajectory_iterates_the_map_and_broadcasts():
    q = mf.q_trajectory(1.0, 5 / 3, 0.0, "tanh", depth=5)
    assert q.shape == (5,)
    assert q[0] == pytest.approx(mf.variance_map(1.0, 5 / 3))
    assert q[4] == pytest.approx(mf.variance_map(q[3], 5 / 3))
    grid = mf.q_trajectory(1.0, np.array([1.0, 2.0]), np.array([[0.0], [0.5]]), "tanh", depth=3)
    assert grid.shape == (3, 2, 2)
    assert grid[2, 1, 0] == pytest.approx(mf.q_trajectory(1.0, 1.0, 0.5, "tanh", depth=3)[2])


@pytest.mark.parametrize("sigma_w, sigma_b, activation", [
    (5 / 3, 0.0, "tanh"), (1.5, 0.5, "tanh"), (4.0, 0.0, "tanh"), (1.0, 0.0, "sigmoid"), (4.0, 0.0, "sigmoid"),
    (0.75, 0.0, "selu"), (1.0, 0.0, "selu"),
])
def test_fixed_point_is_a_fixed_point_and_the_limit_of_iteration(sigma_w, sigma_b, activation):
    q_star = mf.fixed_point(sigma_w, sigma_b, activation)
    assert abs(mf.variance_map(q_star, sigma_w, sigma_b, activation) - q_star) <= 1e-14 * max(1.0, q_star)
    adaptive = mf.variance_map(q_star, sigma_w, sigma_b, activation, method="quad")
    assert abs(adaptive - q_star) <= 1e-12 * max(1.0, q_star)
    iterated = mf.q_trajectory(1.0, sigma_w, sigma_b, activation, depth=400)[-1]
    assert iterated == pytest.approx(q_star, rel=1e-9)


def test_fixed_point_special_cases():
    assert mf.fixed_point(1.0, 0.0, "selu") == pytest.approx(1.0, rel=1e-13)      # SELU's self-normalizing point
    assert mf.fixed_point(0.9, 0.0, "tanh") < 1e-12                                # ordered phase: q* = 0
    assert mf.chi1(0.9, 0.0, "tanh") == pytest.approx(0.81, rel=1e-9)
    assert mf.fixed_point(5 / 3, 0.0, "tanh", method="quad") == pytest.approx(mf.fixed_point(5 / 3), rel=1e-13)
    sw, sb = np.meshgrid(np.linspace(0.5, 3.5, 7), np.linspace(0.0, 1.5, 4))
    grid = mf.fixed_point(sw, sb)
    assert grid.shape == sw.shape
    assert grid[2, 3] == pytest.approx(mf.fixed_point(sw[2, 3], sb[2, 3]), rel=1e-13)
    assert isinstance(mf.fixed_point(5 / 3), float)
    with pytest.raises(RuntimeError, match="no fixed point"):
        mf.fixed_point(2.0, 0.0, "relu", max_iter=50)                          # q' = 2q: no finite fixed point


def test_chi1_at_the_fixed_point_and_at_given_q():
    q_star = mf.fixed_point(5 / 3)
    assert mf.chi1(5 / 3) == pytest.approx(mf.chi1(5 / 3, q=q_star), rel=1e-15)
    assert mf.chi1(5 / 3, q=0.0) == pytest.approx((5 / 3) ** 2, rel=1e-14)      # tanh'(0) = 1
    qs = np.array([0.5, 1.0, 2.0])
    assert np.allclose(mf.chi1(2.0, q=qs), [mf.chi1(2.0, q=v) for v in qs], rtol=1e-15)
    assert mf.chi1(4.0) == pytest.approx(mf.chi1(4.0, method="quad"), rel=1e-12)


@pytest.mark.parametrize("name, param, expected", [
    ("linear", None, 1.0), ("relu", None, math.sqrt(2)), ("leaky_relu", 0.25, math.sqrt(2 / (1 + 0.25**2))),
    ("selu", None, 1.0),
])
def test_second_moment_gain_closed_forms(name, param, expected):
    assert mf.second_moment_gain(name, param) == pytest.approx(expected, rel=1e-14)
    assert mf.second_moment_gain(name, param, method="quad") == pytest.approx(expected, rel=1e-12)


def test_gain_moments_and_slopes():
    assert mf.activation_mean("selu") == pytest.approx(0.0, abs=1e-15)                  # SELU's constants make the mean 0
    assert mf.activation_mean("relu", 4.0) == pytest.approx(2 / math.sqrt(2 * math.pi), rel=1e-14)
    assert mf.second_moment("tanh", 2.0) == pytest.approx(mf.variance_map(2.0, 1.0, 0.0, "tanh"), rel=1e-15)
    assert mf.slope_gain("tanh") == 1.0
    assert mf.slope_gain("sigmoid") == pytest.approx(4.0)
    for kinked in ("relu", "selu"):
        assert math.isnan(mf.slope_gain(kinked))
    assert math.isnan(mf.slope_gain("leaky_relu", 0.01))


# ---- the correlation map -------------------------------------------------------------------


@pytest.mark.parametrize("q, c", [(0.7, 0.3), (2.0, -0.6), (1.0, 0.95), (3.0, 1.0), (0.5, -1.0)])
def test_bivariate_expectation_matches_closed_forms(q, c):
    """erf: E[erf(u1) erf(u2)] = (2/pi) arcsin(2 q c / (1 + 2q)); ReLU: the arc-cosine kernel; c = 1 and c = 0."""
    from scipy.special import erf

    assert mf.bivariate_expectation(erf, q=q, c=c) == pytest.approx(
        2 / math.pi * math.asin(2 * q * c / (1 + 2 * q)), abs=1e-12)
    s = math.sqrt(max(0.0, 1 - c * c))
    arccos_kernel = q / (2 * math.pi) * (s + (math.pi - math.acos(c)) * c)
    assert mf.bivariate_expectation(lambda x: np.maximum(x, 0), q=q, c=c) == pytest.approx(arccos_kernel, abs=2e-5 * q)
    assert mf.bivariate_expectation(np.tanh, q=q, c=1.0) == pytest.approx(
        mf.gaussian_quadrature(lambda x: np.tanh(x) ** 2, q), rel=1e-13)
    assert mf.bivariate_expectation(np.cosh, np.exp, q=q, q2=0.3, c=0.0) == pytest.approx(
        math.exp(q / 2) * math.exp(0.3 / 2), rel=1e-12)                       # independent factors
    with pytest.raises(ValueError, match="correlation"):
        mf.bivariate_expectation(np.tanh, q=q, c=1.5)


def test_bivariate_expectation_agrees_with_adaptive_quadrature_for_tanh():
    from scipy import integrate

    q, c = 1.7, 0.6
    s = math.sqrt(1 - c * c)

    def integrand(z2, z1):
        density = math.exp(-(z1 * z1 + z2 * z2) / 2) / (2 * math.pi)
        return math.tanh(math.sqrt(q) * z1) * math.tanh(math.sqrt(q) * (c * z1 + s * z2)) * density

    adaptive, _ = integrate.dblquad(integrand, -12, 12, -12, 12, epsabs=1e-13, epsrel=1e-12)
    assert mf.bivariate_expectation(np.tanh, q=q, c=c) == pytest.approx(adaptive, abs=1e-11)


@pytest.mark.parametrize("sigma_w, sigma_b", [(5 / 3, 0.0), (1.2, 0.5), (2.5, 0.5)])
def test_correlation_map_fixes_one_and_its_slope_there_is_chi1(sigma_w, sigma_b):
    assert mf.correlation_map(1.0, sigma_w, sigma_b) == pytest.approx(1.0, rel=1e-13)
    chi_1 = mf.chi1(sigma_w, sigma_b)
    assert mf.correlation_slope(1.0, sigma_w, sigma_b) == pytest.approx(chi_1, rel=1e-12)
    h = 1e-4                                                                # one-sided difference at c = 1
    slope = (3 * mf.correlation_map(1.0, sigma_w, sigma_b) - 4 * mf.correlation_map(1 - h, sigma_w, sigma_b)
             + mf.correlation_map(1 - 2 * h, sigma_w, sigma_b)) / (2 * h)
    assert slope == pytest.approx(chi_1, rel=1e-6)


@pytest.mark.parametrize("c", [-0.5, 0.0, 0.4, 0.9])
def test_correlation_slope_is_the_derivative_of_the_map(c):
    """Price's theorem: dC/dc = sigma_w^2 q E[phi'(u1) phi'(u2)] / V(q), at q* and away from it."""
    for q in (None, 0.6):
        h = 1e-5
        difference = (mf.correlation_map(c + h, 2.0, 0.3, q=q) - mf.correlation_map(c - h, 2.0, 0.3, q=q)) / (2 * h)
        assert mf.correlation_slope(c, 2.0, 0.3, q=q) == pytest.approx(difference, rel=1e-8)


def test_relu_correlation_map_is_the_arc_cosine_kernel():
    c = 0.3
    expected = (math.sqrt(1 - c * c) + (math.pi - math.acos(c)) * c) / math.pi     # sigma_w^2 = 2, no bias
    assert mf.correlation_map(c, math.sqrt(2), 0.0, "relu", q=1.0) == pytest.approx(expected, abs=2e-5)


def test_correlation_fixed_points_by_phase():
    # ordered phase: c* = 1 and chi_c = chi_1 < 1
    assert mf.correlation_fixed_point(1.2, 0.5) == 1.0
    assert mf.correlation_chi(1.2, 0.5) == pytest.approx(mf.chi1(1.2, 0.5), rel=1e-12)
    assert mf.correlation_depth_scale(1.2, 0.5) == pytest.approx(-1 / math.log(mf.chi1(1.2, 0.5)), rel=1e-12)
    # chaotic tanh without bias: c* = 0 (tanh is odd) and chi_c = sigma_w^2 E[tanh'(sqrt(q*) Z)]^2
    assert mf.correlation_fixed_point(5 / 3) == 0.0
    mean_slope = mf.gaussian_quadrature(lambda x: 1 - np.tanh(x) ** 2, mf.fixed_point(5 / 3))
    assert mf.correlation_chi(5 / 3) == pytest.approx((5 / 3) ** 2 * mean_slope**2, rel=1e-12)
    # chaotic with bias: 0 < c* < 1, a fixed point, the limit of iteration, and stable
    c_star = mf.correlation_fixed_point(2.5, 0.5)
    assert 0.0 < c_star < 1.0
    assert mf.correlation_map(c_star, 2.5, 0.5) == pytest.approx(c_star, abs=1e-13)
    assert mf.correlation_trajectory(0.9, 2.5, 0.5, depth=200)[-1] == pytest.approx(c_star, abs=1e-10)
    assert mf.correlation_trajectory(0.05, 2.5, 0.5, depth=200)[-1] == pytest.approx(c_star, abs=1e-10)
    assert 0.0 < mf.correlation_chi(2.5, 0.5) < 1.0
    with pytest.raises(ValueError, match="second moment is 0"):
        mf.correlation_fixed_point(0.9, 0.0)


def test_correlation_trajectory_iterates_the_joint_map():
    c = mf.correlation_trajectory(0.5, 2.0, 0.5, depth=3, q0=0.8)
    q1 = mf.variance_map(0.8, 2.0, 0.5)
    assert c[0] == pytest.approx(mf.correlation_map(0.5, 2.0, 0.5, q=0.8), rel=1e-15)
    assert c[1] == pytest.approx(mf.correlation_map(c[0], 2.0, 0.5, q=q1), rel=1e-15)
    at_fixed_point = mf.correlation_trajectory(0.5, 2.0, 0.5, depth=2)
    assert at_fixed_point[1] == pytest.approx(mf.correlation_map(at_fixed_point[0], 2.0, 0.5), rel=1e-15)
    # a linear network without bias keeps the correlation
    assert np.allclose(mf.correlation_trajectory(0.3, 1.3, 0.0, "linear", depth=4, q0=1.0), 0.3, rtol=1e-12)
