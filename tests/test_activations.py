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


# ---------------------------------------------------------------------------------------------
# GELU, SiLU and Mish (their derivatives and SymPy forms are covered by the parametrized test above).

def test_smooth_rectifiers_match_their_definitions():
    import math

    x = np.array([-3.0, -0.5, 0.0, 0.7, 2.0])
    gelu, silu, mish = (activations.get(name) for name in ("gelu", "silu", "mish"))
    phi = np.array([0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x])
    assert np.allclose(gelu.f(x), x * phi, rtol=1e-14, atol=1e-15)
    assert np.allclose(silu.f(x), x / (1 + np.exp(-x)), rtol=1e-14, atol=1e-15)
    assert np.allclose(mish.f(x), x * np.tanh(np.log1p(np.exp(x))), rtol=1e-14, atol=1e-15)
    # slopes at 0: 1/2, 1/2 and tanh(log 2) = 3/5
    assert [float(a.df(np.zeros(1))[0]) for a in (gelu, silu, mish)] == pytest.approx([0.5, 0.5, 0.6], abs=1e-15)


@pytest.mark.parametrize("name", ["gelu", "silu", "mish"])
def test_smooth_rectifiers_keep_float32_and_stay_finite_far_out(name):
    act = activations.get(name)
    x32 = np.linspace(-5, 5, 11, dtype=np.float32)
    assert act.f(x32).dtype == np.float32 and act.df(x32).dtype == np.float32
    far = np.array([-1e3, -40.0, 40.0, 1e3])
    assert np.all(np.isfinite(act.f(far))) and np.all(np.isfinite(act.df(far)))
    assert np.allclose(act.f(far), np.maximum(far, 0), atol=1e-12)          # a ReLU far from zero
    assert np.allclose(act.df(far), (far > 0).astype(float), atol=1e-12)


def test_gelu_second_moment_has_its_closed_form():
    from initcore import meanfield as mf

    closed = 1 / 3 + np.sqrt(3) / (6 * np.pi)                     # E[GELU(Z)^2]
    assert mf.second_moment("gelu") == pytest.approx(closed, abs=1e-13)
    assert mf.activation_mean("gelu") == pytest.approx(1 / (2 * np.sqrt(np.pi)), abs=1e-13)
    slope2 = mf.gaussian_quadrature(lambda z: activations.get("gelu").df(z) ** 2, 1.0)
    assert slope2 == pytest.approx(1 / 3 + 2 * np.sqrt(3) / (9 * np.pi), abs=1e-13)
