"""Activation functions with their derivatives, in numpy and in SymPy.

Each :class:`Activation` carries the numpy function ``f``, its derivative
``df`` and ``symbolic(x)``, the same function as a SymPy expression, so that a
chapter derives with the very function it simulates.
"""
from dataclasses import dataclass
from typing import Callable

import numpy as np
import sympy as sp

#: SELU's constants as published (Klambauer et al. 2017) and used by PyTorch and Keras.
SELU_LAMBDA = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717


@dataclass(frozen=True)
class Activation:
    name: str
    f: Callable
    df: Callable
    symbolic: Callable

    def __call__(self, x):
        return self.f(x)


def _sigmoid(x):
    return 0.5 * (1 + np.tanh(0.5 * x))


def relu():
    return Activation("relu", lambda x: np.maximum(x, 0), lambda x: (x > 0).astype(x.dtype),
                      lambda x: sp.Piecewise((x, x > 0), (0, True)))


def leaky_relu(slope=0.01):
    return Activation(f"leaky_relu({slope})", lambda x: np.where(x > 0, x, slope * x),
                      lambda x: np.where(x > 0, 1.0, slope).astype(x.dtype),
                      lambda x: sp.Piecewise((x, x > 0), (slope * x, True)))


def linear():
    return Activation("linear", lambda x: x, np.ones_like, lambda x: x)


def tanh():
    return Activation("tanh", np.tanh, lambda x: 1 - np.tanh(x) ** 2, sp.tanh)


def sigmoid():
    return Activation("sigmoid", _sigmoid, lambda x: _sigmoid(x) * (1 - _sigmoid(x)),
                      lambda x: 1 / (1 + sp.exp(-x)))


def softsign():
    return Activation("softsign", lambda x: x / (1 + np.abs(x)), lambda x: 1 / (1 + np.abs(x)) ** 2,
                      lambda x: x / (1 + sp.Abs(x)))


def elu(alpha=1.0):
    return Activation(f"elu({alpha})", lambda x: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))),
                      lambda x: np.where(x > 0, 1.0, alpha * np.exp(np.minimum(x, 0))).astype(x.dtype),
                      lambda x: sp.Piecewise((x, x > 0), (alpha * (sp.exp(x) - 1), True)))


def selu(scale=SELU_LAMBDA, alpha=SELU_ALPHA):
    inner = elu(alpha)
    return Activation("selu", lambda x: scale * inner.f(x), lambda x: scale * inner.df(x),
                      lambda x: scale * inner.symbolic(x))


_FACTORIES = {"relu": relu, "leaky_relu": leaky_relu, "linear": linear, "tanh": tanh,
              "sigmoid": sigmoid, "softsign": softsign, "elu": elu, "selu": selu}
NAMES = tuple(_FACTORIES)


def get(activation, param=None):
    """Return an :class:`Activation` from its name (``param`` for leaky_relu's slope, elu's alpha)."""
    if isinstance(activation, Activation):
        return activation
    if activation not in _FACTORIES:
        raise ValueError(f"unknown activation {activation!r}: use one of {NAMES}")
    factory = _FACTORIES[activation]
    return factory() if param is None else factory(param)


# ---------------------------------------------------------------------------------------------
# Smooth rectifiers of recent architectures: GELU (Hendrycks & Gimpel 2016), SiLU / Swish-1
# (Elfwing et al. 2018; Ramachandran et al. 2017) and Mish (Misra 2019). Each is x times a gate
# that rises from 0 to 1, so each behaves like the ReLU for large |x| and like x/2 (GELU, SiLU) or
# x tanh(log 2) (Mish) near 0.

import math as _math


def _erf(x):
    """erf, vectorized: scipy's (exact to rounding), imported at the first call, not with initcore
    (it adds a tenth of a second to every chapter's start)."""
    try:
        from scipy.special import erf
    except ImportError:                  # pragma: no cover - scipy comes with the book's requirements
        erf = np.vectorize(_math.erf, otypes=[float])
    return erf(x)


_SQRT2 = _math.sqrt(2.0)                 # Python floats, so that float32 arrays stay float32
_INV_SQRT_2PI = 1.0 / _math.sqrt(2.0 * _math.pi)


def _normal_cdf(x):
    return 0.5 * (1.0 + _erf(x / _SQRT2))


def _softplus(x):
    return np.logaddexp(0.0, x)


def gelu():
    """GELU, exact: ``x Phi(x)`` with Phi the standard normal distribution function (not the tanh
    approximation); the derivative is ``Phi(x) + x phi(x)``."""
    def df(x):
        return _normal_cdf(x) + x * np.exp(-0.5 * x * x) * _INV_SQRT_2PI

    return Activation("gelu", lambda x: x * _normal_cdf(x), df, lambda x: x * (1 + sp.erf(x / sp.sqrt(2))) / 2)


def silu():
    """SiLU (Swish-1): ``x sigmoid(x)``; the derivative is ``sigmoid(x) (1 + x (1 - sigmoid(x)))``."""
    def df(x):
        s = _sigmoid(x)
        return s * (1 + x * (1 - s))

    return Activation("silu", lambda x: x * _sigmoid(x), df, lambda x: x / (1 + sp.exp(-x)))


def mish():
    """Mish: ``x tanh(softplus(x))``, softplus(x) = log(1 + e^x); the derivative is
    ``tanh(softplus(x)) + x sigmoid(x) (1 - tanh(softplus(x))^2)``."""
    def df(x):
        t = np.tanh(_softplus(x))
        return t + x * _sigmoid(x) * (1 - t * t)

    return Activation("mish", lambda x: x * np.tanh(_softplus(x)), df,
                      lambda x: x * sp.tanh(sp.log(1 + sp.exp(x))))


_FACTORIES.update({"gelu": gelu, "silu": silu, "mish": mish})
NAMES = tuple(_FACTORIES)
