"""initcore.network.MLP: back-propagated gradients agree with central finite differences,
gradient descent decreases the loss, and the training loop behaves at its edges."""
import numpy as np
import pytest

from initcore import activations
from initcore.network import MLP

ACTIVATIONS = ["relu", "tanh", "sigmoid", "leaky_relu", "linear", "softsign", "elu", "selu"]
WIDTHS = [4, 6, 5, 3]          # three layers: two hidden activations, a linear output
EPS = 1e-6


def random_net(activation, rng, widths=WIDTHS):
    weights = [rng.normal(0, 1 / np.sqrt(n_in), size=(n_out, n_in)) for n_in, n_out in zip(widths, widths[1:])]
    biases = [rng.normal(0, 0.1, size=n_out) for n_out in widths[1:]]
    return MLP(weights, biases, activation=activation)


def kink_free_problem(activation, rng, margin=1e-3):
    """A net and a batch whose hidden pre-activations all stay at least ``margin`` away from 0.

    ReLU-like activations are not differentiable at 0; a step of size EPS can only cross the kink
    if a pre-activation lies within about EPS * (sum of |inputs|) of it, which the margin excludes.
    """
    for _ in range(1000):
        net = random_net(activation, rng)
        x = rng.normal(size=(7, WIDTHS[0]))
        y = rng.normal(size=(7, WIDTHS[-1]))
        _, cache = net.forward(x)
        if min(np.abs(h).min() for _, h in cache[:-1]) > margin:
            return net, x, y
    raise RuntimeError("could not draw a kink-free problem")


def numeric_gradients(net, x, y, eps=EPS):
    grads = []
    for params in (net.weights, net.biases):
        layer_grads = []
        for p in params:
            g = np.zeros_like(p)
            for idx in np.ndindex(p.shape):
                old = p[idx]
                p[idx] = old + eps
                up = net.loss(x, y)
                p[idx] = old - eps
                down = net.loss(x, y)
                p[idx] = old
                g[idx] = (up - down) / (2 * eps)
            layer_grads.append(g)
        grads.append(layer_grads)
    return grads


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_gradients_match_central_differences(activation):
    rng = np.random.default_rng(12345)
    net, x, y = kink_free_problem(activation, rng)
    loss, gw, gb = net.gradients(x, y)
    assert loss == pytest.approx(net.loss(x, y), rel=1e-14)
    nw, nb = numeric_gradients(net, x, y)
    for analytic, numeric in zip(gw + gb, nw + nb):
        assert analytic.shape == numeric.shape
        np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)


def test_relu_gradient_is_not_trivially_zero():
    """Guard against a vacuous pass: the ReLU network's gradients are non-zero in every layer."""
    rng = np.random.default_rng(7)
    net, x, y = kink_free_problem("relu", rng)
    _, gw, gb = net.gradients(x, y)
    assert all(np.abs(g).max() > 1e-6 for g in gw)


def test_activation_derivatives_match_central_differences():
    x = np.linspace(-3, 3, 601)
    x = x[np.abs(x) > 1e-3]                               # away from the kinks at 0
    for name in ACTIVATIONS:
        phi = activations.get(name)
        numeric = (phi.f(x + EPS) - phi.f(x - EPS)) / (2 * EPS)
        np.testing.assert_allclose(phi.df(x), numeric, rtol=1e-6, atol=1e-9, err_msg=name)


def test_loss_is_half_mean_squared_error():
    net = MLP([np.eye(2)], activation="linear")
    x = np.array([[1.0, 2.0], [3.0, -1.0]])
    y = np.zeros((2, 2))
    assert net.loss(x, y) == pytest.approx(0.5 * np.mean([1 + 4, 9 + 1]))


def test_train_decreases_loss_on_linear_regression():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 5))
    y = x @ rng.normal(size=(5, 2)) + 0.3
    net = MLP([np.zeros((2, 5))], activation="linear")
    losses = net.train(x, y, lr=0.1, steps=300)
    assert np.all(np.isfinite(losses))
    assert np.all(np.diff(losses) <= 1e-12)               # full-batch GD on a convex quadratic, small step
    assert net.loss(x, y) < 1e-6 * losses[0]


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_train_decreases_loss_on_a_smooth_target(activation):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(256, 3))
    y = np.sin(x[:, :1]) + 0.5 * x[:, 1:2] * x[:, 2:3]
    widths = [3, 32, 32, 1]
    net = MLP([rng.normal(0, np.sqrt(2 / a), size=(b, a)) for a, b in zip(widths, widths[1:])], activation=activation)
    before = net.loss(x, y)
    losses = net.train(x, y, lr=0.02, steps=400, batch=32, rng=rng)
    assert np.all(np.isfinite(losses))
    assert net.loss(x, y) < 0.5 * before


def test_step_moves_along_the_negative_gradient():
    rng = np.random.default_rng(3)
    net, x, y = kink_free_problem("tanh", rng)
    _, gw, gb = net.gradients(x, y)
    before = [w.copy() for w in net.weights] + [b.copy() for b in net.biases]
    loss_before = net.loss(x, y)
    returned = net.step(x, y, lr=0.5)
    assert returned == pytest.approx(loss_before, rel=1e-14)
    after = net.weights + net.biases
    for b0, a, g in zip(before, after, gw + gb):
        np.testing.assert_allclose(a, b0 - 0.5 * g, rtol=0, atol=1e-15)


def test_train_stops_with_nan_after_divergence():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(64, 4))
    y = rng.normal(size=(64, 1))
    widths = [4, 16, 16, 1]
    net = MLP([rng.normal(0, 3.0, size=(b, a)) for a, b in zip(widths, widths[1:])], activation="relu")
    with np.errstate(all="ignore"):
        losses = net.train(x, y, lr=10.0, steps=500)
    first_bad = np.argmax(~np.isfinite(losses))
    assert not np.isfinite(losses[-1])
    assert np.all(np.isnan(losses[first_bad + 1:]))


def test_initialized_uses_torch_shapes():
    net = MLP.initialized([3, 7, 2], lambda shape, rng: np.ones(shape), activation="tanh", rng=0)
    assert [w.shape for w in net.weights] == [(7, 3), (2, 7)]
    assert net.depth == 2
    assert net(np.zeros((5, 3))).shape == (5, 2)


def test_bad_shapes_are_rejected():
    with pytest.raises(ValueError):
        MLP([np.ones((3, 2)), np.ones((2, 4))])
    with pytest.raises(ValueError):
        MLP([np.ones((3, 2))], biases=[np.zeros(3), np.zeros(3)])


def test_targets_must_match_the_output_shape():
    net = MLP([np.ones((1, 2))], activation="linear")
    x = np.ones((4, 2))
    with pytest.raises(ValueError, match="do not match the output shape"):
        net.loss(x, np.ones(4))
