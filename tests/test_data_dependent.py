"""LSUV (initcore.data_dependent): one rescaling where the variance is quadratic in the scale,
more where it is not, the scale it finds, and clear errors for bad input."""
import numpy as np
import pytest

import initcore as ic
from initcore import meanfield as mf
from initcore.data_dependent import LSUVResult, lsuv, predicted_variances


@pytest.mark.parametrize("name", ["relu", "tanh", "gelu", "silu", "mish"])
def test_measured_before_the_activation_one_rescaling_is_exact(name):
    result = lsuv(ic.orthogonal, [16, 24, 24, 8], name, measure="pre", tol=1e-9, copies=3, batch=10, rng=1)
    assert isinstance(result, LSUVResult) and result.depth == 3
    assert result.iterations.shape == (3, 3) and np.all(result.iterations <= 1)
    assert np.allclose(result.variances, 1.0, atol=1e-12) and result.converged.all()
    # the final weights give variance 1 on the same data, layer by layer
    x = np.random.default_rng(1).standard_normal((3, 10, 16))       # the same draw lsuv made first
    for w in result.weights:
        h = x @ np.swapaxes(w, -1, -2)
        assert np.allclose(np.var(h, axis=(1, 2)), 1.0, atol=1e-9)
        x = result.activation.f(h)


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "linear"])
def test_after_a_positively_homogeneous_activation_one_rescaling_is_exact(name):
    result = lsuv(ic.orthogonal, [12, 12, 12], name, measure="post", tol=1e-10, copies=2, batch=16, rng=2)
    assert np.all(result.iterations == 1)
    assert np.allclose(result.variances, 1.0, atol=1e-12)


def test_after_gelu_it_iterates_and_after_tanh_it_cannot_arrive():
    gelu = lsuv(ic.orthogonal, [64, 64], "gelu", measure="post", tol=1e-3, copies=4, batch=64, rng=3)
    assert np.all(gelu.iterations[:, 0] == 2) and gelu.converged.all()
    first = gelu.history[0][1]                                   # after one rescaling
    assert np.allclose(first, predicted_variances("gelu", 1)[1], atol=0.01)
    tanh = lsuv(ic.orthogonal, [32, 32], "tanh", measure="post", max_iter=5, copies=2, batch=32, rng=3)
    assert np.all(tanh.iterations == 5) and not tanh.converged.any()
    assert np.all(tanh.variances < 1) and np.all(np.diff(tanh.history[0], axis=0) > 0)


def test_history_records_every_measurement_then_nan():
    result = lsuv(ic.orthogonal, [20, 20, 20], "silu", measure="post", tol=0.02, max_iter=6, copies=2, batch=8,
                  rng=4)
    for layer, trace in enumerate(result.history):
        assert trace.shape == (7, 2)
        for net in range(2):
            done = result.iterations[net, layer]
            assert np.all(np.isfinite(trace[:done + 1, net])) and np.all(np.isnan(trace[done + 1:, net]))
            assert trace[done, net] == result.variances[net, layer]


def test_the_result_does_not_depend_on_the_starting_scale():
    a = lsuv(ic.orthogonal, [16, 16, 16], "relu", copies=2, batch=12, rng=5)
    b = lsuv(ic.scaled(ic.orthogonal, 3.0), [16, 16, 16], "relu", copies=2, batch=12, rng=5)
    for wa, wb in zip(a.weights, b.weights):
        assert np.allclose(wa, wb, rtol=1e-10)
    assert np.allclose(b.scales * 3.0, a.scales, rtol=1e-10)


def test_relu_scale_is_he_and_gelu_scale_is_the_second_moment_gain():
    # layer 2 of wide networks: n Var[W] = 1 / E[phi(Z)^2], up to sampling error
    for name, expected in (("relu", 2.0), ("gelu", 1 / mf.second_moment("gelu"))):
        result = lsuv(ic.orthogonal, [256, 256, 256], name, copies=4, batch=64, rng=6)
        assert result.weight_scale()[:, 1].mean() == pytest.approx(expected, rel=0.03)


def test_a_fixed_bias_breaks_the_one_step_rule():
    result = lsuv(ic.orthogonal, [32, 32], "linear", measure="pre", bias=0.5, tol=1e-6, max_iter=20, copies=2,
                  batch=32, rng=7)
    assert np.all(result.iterations[:, 0] > 1) and result.converged.all()
    assert result.biases[0].shape == (2, 1, 32)


def test_data_can_be_shared_per_network_or_drawn():
    x = np.random.default_rng(8).standard_normal((10, 6))
    shared = lsuv(ic.orthogonal, [6, 6], "relu", data=x, copies=3, rng=8)
    assert shared.weights[0].shape == (3, 6, 6)
    per_network = lsuv(ic.orthogonal, [6, 6], "relu", data=np.stack([x] * 2), copies=2, rng=8)
    assert per_network.converged.all()
    drawn = lsuv(ic.orthogonal, [6, 6], "relu", data=lambda rng, c, b, n: rng.uniform(-1, 1, (c, b, n)), copies=2,
                 batch=9, rng=8)
    assert drawn.converged.all()
    layered = lsuv([ic.orthogonal, ic.he_normal], [6, 5, 4], "tanh", copies=2, batch=8, rng=8)
    assert [w.shape for w in layered.weights] == [(2, 5, 6), (2, 4, 5)]


@pytest.mark.parametrize("kwargs, match", [
    ({"measure": "output"}, "measure"),
    ({"tol": 0}, "tol"),
    ({"tol": -1.0}, "tol"),
    ({"max_iter": 0}, "max_iter"),
    ({"max_iter": 2.5}, "max_iter"),
    ({"copies": 0}, "copies"),
    ({"batch": 1}, "batch"),
    ({"target": 0.0}, "target"),
    ({"bias": -0.1}, "bias"),
    ({"data": np.zeros((5, 3))}, "data"),
    ({"data": lambda rng, c, b, n: np.zeros((c, b))}, "data"),
])
def test_bad_arguments_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        lsuv(ic.orthogonal, [4, 4], "relu", rng=0, **kwargs)


def test_bad_widths_init_and_activation_are_refused():
    with pytest.raises(ValueError, match="widths"):
        lsuv(ic.orthogonal, [4], "relu")
    with pytest.raises(ValueError, match="width"):
        lsuv(ic.orthogonal, [4, 0], "relu")
    with pytest.raises(ValueError, match="init"):
        lsuv("orthogonal", [4, 4], "relu")
    with pytest.raises(ValueError, match="init"):
        lsuv([ic.orthogonal], [4, 4, 4], "relu")
    with pytest.raises(ValueError, match="unknown activation"):
        lsuv(ic.orthogonal, [4, 4], "swish")


def test_predicted_variances():
    assert np.allclose(predicted_variances("relu", 3)[1:], 1.0, atol=1e-14)
    assert np.allclose(predicted_variances("tanh", 2, measure="pre", q=4.0), [4.0, 1.0, 1.0])
    gelu = predicted_variances("gelu", 3)
    assert gelu[0] == pytest.approx(mf.second_moment("gelu") - mf.activation_mean("gelu") ** 2, abs=1e-14)
    assert abs(gelu[1] - 1) > 0.02 and abs(gelu[3] - 1) < 1e-8
    tanh = predicted_variances("tanh", 6)
    assert np.all(np.diff(tanh) > 0) and tanh[-1] < 1
    with pytest.raises(ValueError, match="measure"):
        predicted_variances("relu", 2, measure="both")
    with pytest.raises(ValueError, match="steps"):
        predicted_variances("relu", -1)
    with pytest.raises(ValueError, match="q"):
        predicted_variances("relu", 2, q=0.0)
