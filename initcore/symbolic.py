"""SymPy helpers shared by the chapters: expectations under the Gaussian and the uniform law, and of
polynomials in independent variables."""
import sympy as sp


def gaussian_pdf(x, sigma=1, mu=0):
    """The density of N(mu, sigma^2) at ``x``."""
    return sp.exp(-((x - mu) ** 2) / (2 * sigma**2)) / (sigma * sp.sqrt(2 * sp.pi))


def gaussian_expectation(expr, x, sigma=1, mu=0):
    """E[expr(x)] for x ~ N(mu, sigma^2), as an explicit integral, simplified."""
    return sp.simplify(sp.integrate(expr * gaussian_pdf(x, sigma, mu), (x, -sp.oo, sp.oo)))


def gaussian_expectation_by_halves(expr, x, sigma=1, negative=None):
    """E[f(x)] for x ~ N(0, sigma^2), as the integral over x < 0 plus the one over x > 0.

    f is ``expr`` on both halves, or ``expr`` on x > 0 and ``negative`` on x < 0. Each half is
    integrated with ``x`` replaced by a symbol whose sign SymPy knows, so an expression with a kink at
    0 (a ``Piecewise``, ``Max(x, 0)``, a Heaviside derivative) resolves to a single piece first: the
    same value as :func:`gaussian_expectation`, much faster for ReLU, leaky ReLU or SELU. Centred
    laws only: with a mean, the halves are incomplete Gaussian integrals that SymPy simplifies slowly.
    """
    pdf = gaussian_pdf(x, sigma)
    total = 0
    for part, half, low, high in ((expr if negative is None else negative, sp.Symbol(x.name, negative=True),
                                   -sp.oo, 0),
                                  (expr, sp.Symbol(x.name, positive=True), 0, sp.oo)):
        total += sp.integrate((sp.sympify(part) * pdf).subs(x, half), (half, low, high))
    return sp.simplify(total)


def uniform_expectation(expr, x, low, high):
    """E[expr(x)] for x ~ U(low, high), as an explicit integral, simplified."""
    return sp.simplify(sp.integrate(expr / (high - low), (x, low, high)))


def variance(expectation, expr, x, *args):
    """Var[expr(x)] = E[expr^2] - E[expr]^2 under the law whose ``expectation`` helper is given."""
    return sp.simplify(expectation(expr**2, x, *args) - expectation(expr, x, *args) ** 2)


def expect_independent(expr, moments):
    """E[expr] for a polynomial ``expr`` in independent random variables.

    ``moments`` maps each random symbol to a function ``k -> E[X^k]``; other symbols are
    constants. The polynomial is expanded and each monomial replaced by the product of the
    moments of its factors (independence).
    """
    expr = sp.expand(expr)
    symbols = list(moments)
    total = sp.Integer(0)
    for term in sp.Add.make_args(expr):
        powers = term.as_powers_dict()
        value = term
        for s in symbols:
            k = powers.get(s, 0)
            if k:
                value = value / s**k * moments[s](k)
        total += value
    return sp.simplify(total)
