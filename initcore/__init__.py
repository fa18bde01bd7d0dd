"""initcore: the derivations' companion for the book on weight initialization.

The public names mirror PyTorch's ``torch.nn.init`` and Keras's ``VarianceScaling``; the Monte
Carlo tools estimate with standard errors and check against theory with a z-bound. The modules,
by topic:

- :mod:`~initcore.schemes` - initializers (one contract, :class:`~initcore.schemes.Initializer`);
- :mod:`~initcore.activations` - activations with their derivatives;
- :mod:`~initcore.symbolic` - SymPy expectations;
- :mod:`~initcore.propagation` - the one engine for many random networks at once;
- :mod:`~initcore.meanfield` - Gaussian quadrature, the variance and correlation maps, gains;
- :mod:`~initcore.spectra` - spectra of deep linear and recurrent maps;
- :mod:`~initcore.fluctuations` - finite-width fluctuations of squared norms;
- :mod:`~initcore.network` - a numpy MLP to train;
- :mod:`~initcore.convolution`, :mod:`~initcore.attention`, :mod:`~initcore.parametrizations`,
  :mod:`~initcore.data_dependent`, :mod:`~initcore.recurrent` - convolutions, attention and
  transformer blocks, standard/NTK/muP parametrizations, LSUV, the LSTM cell's memory;
- :mod:`~initcore.montecarlo`, :mod:`~initcore.calibration` - estimates, checks, measured bounds;
- :mod:`~initcore.feedback`, :mod:`~initcore.gluing`, :mod:`~initcore.plots`,
  :mod:`~initcore.launch`, :mod:`~initcore.seeding` - answers, prose numbers, figures, the first
  cell, random draws.
"""
from . import (activations, attention, convolution, data_dependent, feedback, montecarlo, network, parametrizations, plots,
               propagation, recurrent, schemes, seeding, symbolic)
from .activations import Activation
from .feedback import check_answer
from .gluing import glue
from .montecarlo import K, Estimate, check, compare, expect_rejection, over_networks, sample_mean
from .network import MLP
from .propagation import LayerMoments, Stack, forward_backward, layer_moments, simulate
from .schemes import (
    TRUNCATED_NORMAL_STD,
    Initializer,
    fans,
    gain,
    glorot_normal,
    glorot_uniform,
    he_normal,
    he_uniform,
    identity,
    lecun_normal,
    lecun_uniform,
    orthogonal,
    scaled,
    scaled_normal,
    standard_uniform,
    variance_scaling,
)
from .seeding import as_generator, current_seed

__version__ = "0.1.0"

__all__ = [
    "Activation", "Estimate", "Initializer", "K", "LayerMoments", "MLP", "Stack", "TRUNCATED_NORMAL_STD",
    "activations", "as_generator", "attention", "convolution", "data_dependent", "parametrizations", "recurrent", "check", "check_answer", "compare", "current_seed", "expect_rejection",
    "fans", "feedback", "forward_backward", "gain", "glue", "glorot_normal", "glorot_uniform", "he_normal",
    "he_uniform", "identity", "layer_moments", "lecun_normal", "lecun_uniform", "montecarlo", "network",
    "orthogonal", "over_networks", "plots", "propagation", "sample_mean", "scaled", "scaled_normal", "schemes",
    "seeding", "simulate", "standard_uniform", "symbolic", "variance_scaling",
]
