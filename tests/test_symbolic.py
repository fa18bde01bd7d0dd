"""The symbolic helpers give the exact Gaussian and uniform moments the chapters build on."""
import sympy as sp

import initcore as ic
from initcore import symbolic

x = sp.Symbol("x", real=True)
sigma = sp.Symbol("sigma", positive=True)


def test_halves_give_the_kinked_moments_and_agree_with_the_whole_line():
    relu = ic.activations.relu().symbolic(x)
    leaky = ic.activations.leaky_relu(sp.Rational(1, 5)).symbolic(x)
    halves = symbolic.gaussian_expectation_by_halves
    assert halves(relu, x, sigma) == symbolic.gaussian_expectation(relu, x, sigma) == sigma / sp.sqrt(2 * sp.pi)
    assert halves(relu**2, x, sigma) == sigma**2 / 2                       # the ReLU halving
    assert halves(leaky**2, x, sigma) == (1 + sp.Rational(1, 25)) / 2 * sigma**2
    assert halves(x**2, x, sigma) == sigma**2
    # the same moments from the two pieces written out
    a = sp.Symbol("a", positive=True)
    assert halves(x**2, x, sigma, negative=0) == sigma**2 / 2
    assert sp.simplify(halves(x**2, x, sigma, negative=(a * x) ** 2) - (1 + a**2) / 2 * sigma**2) == 0


def test_uniform_variance():
    a = sp.Symbol("a", positive=True)
    assert symbolic.variance(symbolic.uniform_expectation, x, x, -a, a) == a**2 / 3


def test_expect_independent_replaces_monomials_by_moments():
    w, x, v, q = sp.symbols("w x v q")
    moments = {w: lambda k: {1: 0, 2: v}.get(k, 0), x: lambda k: {1: 0, 2: q}.get(k, 0)}
    assert sp.expand(symbolic.expect_independent((w * x + w) ** 2, moments)) == v * q + v
