"""SymPy helpers shared by the chapters: expectations under the Gaussian and the uniform law."""
import sympy as sp


def gaussian_pdf(x, sigma=1, mu=0):
    """The density of N(mu, sigma^2) at ``x``."""
    return sp.exp(-((x - mu) ** 2) / (2 * sigma**2)) / (sigma * sp.sqrt(2 * sp.pi))


def gaussian_expectation(expr, x, sigma=1, mu=0):
    """E[expr(x)] for x ~ N(mu, sigma^2), as an explicit integral, simplified."""
    return sp.simplify(sp.integrate(expr * gaussian_pdf(x, sigma, mu), (x, -sp.oo, sp.oo)))


def gaussian_expectation_by_halves(expr, x, sigma=1):
    """E[expr(x)] for x ~ N(0, sigma^2), as the integral over x < 0 plus the one over x > 0.

    On each half line ``x`` is replaced by a symbol whose sign SymPy knows, so a kink at 0 (ReLU,
    leaky ReLU, SELU, a Heaviside derivative) is resolved before integrating: the same value as
    :func:`gaussian_expectation`, much faster than a ``Piecewise`` integrated over the real line.
    Centred laws only: with a mean, the halves are incomplete Gaussian integrals (error functions)
    that SymPy simplifies slowly.
    """
    halves = [(sp.Symbol(x.name, negative=True), -sp.oo, 0), (sp.Symbol(x.name, positive=True), 0, sp.oo)]
    return sp.simplify(sum(sp.integrate((expr * gaussian_pdf(x, sigma)).subs(x, t), (t, low, high))
                           for t, low, high in halves))


def uniform_expectation(expr, x, low, high):
    """E[expr(x)] for x ~ U(low, high), as an explicit integral, simplified."""
    return sp.simplify(sp.integrate(expr / (high - low), (x, low, high)))


def variance(expectation, expr, x, *args):
    """Var[expr(x)] = E[expr^2] - E[expr]^2 under the law whose ``expectation`` helper is given."""
    return sp.simplify(expectation(expr**2, x, *args) - expectation(expr, x, *args) ** 2)
