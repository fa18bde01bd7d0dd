"""SymPy helpers shared by the chapters: expectations under the Gaussian and the uniform law."""
import sympy as sp


def gaussian_pdf(x, sigma=1, mu=0):
    """The density of N(mu, sigma^2) at ``x``."""
    return sp.exp(-((x - mu) ** 2) / (2 * sigma**2)) / (sigma * sp.sqrt(2 * sp.pi))


def gaussian_expectation(expr, x, sigma=1, mu=0):
    """E[expr(x)] for x ~ N(mu, sigma^2), as an explicit integral, simplified."""
    return sp.simplify(sp.integrate(expr * gaussian_pdf(x, sigma, mu), (x, -sp.oo, sp.oo)))


def uniform_expectation(expr, x, low, high):
    """E[expr(x)] for x ~ U(low, high), as an explicit integral, simplified."""
    return sp.simplify(sp.integrate(expr / (high - low), (x, low, high)))


def variance(expectation, expr, x, *args):
    """Var[expr(x)] = E[expr^2] - E[expr]^2 under the law whose ``expectation`` helper is given."""
    return sp.simplify(expectation(expr**2, x, *args) - expectation(expr, x, *args) ** 2)
