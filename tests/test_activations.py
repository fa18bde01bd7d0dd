"""Activations, their derivatives and their SymPy forms agree (initcore.activations)."""
import numpy as np
import pytest
import sympy as sp

from initcore import activations

POINTS = np.array([-2.0, -0.7, -0.1, 0.3, 1.1, 2.5])


@pytest.mark.parametrize("name", activations.NAMES)
def test_derivative_and_symbolic_form_match_the_function(name):
    act = activations.get(name)
    h = 1e-6
    numeric = (act.f(POINTS + h) - act.f(POINTS - h)) / (2 * h)
    assert np.allclose(act.df(POINTS), numeric, atol=1e-6)
    x = sp.Symbol("x", real=True)
    expr = act.symbolic(x)
    assert np.allclose([float(expr.subs(x, p)) for p in POINTS], act.f(POINTS), atol=1e-12)
    assert np.allclose(act(POINTS), act.f(POINTS))


def test_parameters_and_selu_constants():
    assert np.allclose(activations.get("leaky_relu", 0.2).f(np.array([-1.0, 1.0])), [-0.2, 1.0])
    assert activations.get("elu", 2.0).f(np.array([-50.0]))[0] == pytest.approx(-2.0)
    selu = activations.get("selu")
    assert selu.f(np.array([1.0]))[0] == pytest.approx(activations.SELU_LAMBDA)
    assert activations.get(selu) is selu


def test_unknown_activation_is_refused():
    with pytest.raises(ValueError, match="unknown activation"):
        activations.get("swish")
