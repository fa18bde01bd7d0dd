"""initcore: the derivations' companion for the book on weight initialization.

The public names mirror PyTorch's ``torch.nn.init`` and Keras's
``VarianceScaling``; the Monte Carlo tools estimate with standard errors and
check against theory with a z-bound.
"""
from . import activations, feedback, montecarlo, network, plots, propagation, schemes, seeding, symbolic
from .activations import Activation
from .feedback import check_answer
from .gluing import glue
from .montecarlo import K, Estimate, check, compare, expect_rejection, over_networks, sample_mean
from .network import MLP
from .propagation import LayerMoments, layer_moments
from .schemes import (
    TRUNCATED_NORMAL_STD,
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
    scaled_normal,
    variance_scaling,
)
from .seeding import as_generator, current_seed

__version__ = "0.1.0"

__all__ = [
    "Activation", "Estimate", "K", "LayerMoments", "MLP", "TRUNCATED_NORMAL_STD", "activations",
    "as_generator", "check", "check_answer", "compare", "current_seed", "expect_rejection", "fans",
    "feedback", "gain", "glue", "glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "identity",
    "layer_moments", "lecun_normal", "lecun_uniform", "montecarlo", "network", "orthogonal",
    "over_networks", "plots", "propagation", "sample_mean", "scaled_normal", "schemes", "seeding", "symbolic",
    "variance_scaling",
]
