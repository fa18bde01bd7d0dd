"""initcore.network.MLP: back-propagated gradients agree with central finite differences,
gradient descent decreases the loss, and the training loop behaves at its edges; train_many and
loss_many, on a stack of networks, reproduce MLP.train and MLP.loss network by network."""
import numpy as np
import pytest

from initcore import activations, network, schemes
from initcore.network import MLP, loss_many, train_many

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


# --- train_many / loss_many: a stack of networks trained at once --------------------------------


def stacked_problem(activation, widths, copies, rng, n_data=64):
    """Stacked weights and biases of ``copies`` networks, and shared data (x, y)."""
    init = schemes.he_normal if activation == "relu" else schemes.glorot_normal
    weights = [init((b, a), rng=rng, copies=copies) for a, b in zip(widths, widths[1:])]
    biases = [rng.normal(0, 0.1, size=(copies, b)) for b in widths[1:]]
    x = rng.normal(size=(n_data, widths[0]))
    y = np.tanh(x[:, :widths[-1]]) + 0.1 * rng.normal(size=(n_data, widths[-1]))
    return weights, biases, x, y


def unstack(weights, biases, k, activation):
    return MLP([w[k] for w in weights], [b[k] for b in biases], activation=activation)


@pytest.mark.parametrize("activation, widths", [("relu", [16] + [48] * 29 + [1]), ("tanh", [5, 9, 7, 2])])
def test_train_many_reproduces_mlp_train(activation, widths):
    """Full-batch gradient descent on a stack agrees with MLP.train, network by network, to 1e-10."""
    rng = np.random.default_rng(20)
    weights, biases, x, y = stacked_problem(activation, widths, 3, rng)
    nets = [unstack(weights, biases, k, activation) for k in range(3)]
    reference = np.array([net.train(x, y, lr=0.005, steps=10) for net in nets])
    stacked = train_many(weights, biases, x, y, lr=0.005, steps=10, activation=activation)
    assert stacked.shape == (3, 10)
    np.testing.assert_allclose(stacked, reference, rtol=1e-10, atol=0)
    for k, net in enumerate(nets):                        # and the weights end in the same place
        for w, w_ref in zip([w[k] for w in weights] + [b[k] for b in biases], net.weights + net.biases):
            np.testing.assert_allclose(w, w_ref, rtol=1e-10, atol=1e-14)
    assert np.all(np.diff(reference, axis=1) < 0)         # not vacuous: the loss moved


def stepwise_reference(nets, x, y, lr, steps, batch, seed):
    """The losses of ``nets`` trained one by one with MLP.step on the rows train_many draws for them.

    Network k steps on ``rng.integers(0, n, size=(c, batch))[k]`` at every step and stops after
    the first step whose loss is not finite (NaN from then on), as in MLP.train.
    """
    draws = np.random.default_rng(seed)
    losses = np.full((len(nets), steps), np.nan)
    stopped = [False] * len(nets)
    for t in range(steps):
        idx = draws.integers(0, x.shape[0], size=(len(nets), batch))
        for k, net in enumerate(nets):
            if not stopped[k]:
                loss = net.step(x[idx[k]], y[idx[k]], lr=lr)
                stopped[k] = not np.isfinite(loss)
                losses[k, t] = np.nan if stopped[k] else loss
    return losses


def test_train_many_draws_one_minibatch_per_network():
    rng = np.random.default_rng(21)
    weights, biases, x, y = stacked_problem("relu", [4, 10, 10, 1], 3, rng)
    nets = [unstack(weights, biases, k, "relu") for k in range(3)]
    stacked = train_many(weights, biases, x, y, lr=0.05, steps=20, batch=8, rng=np.random.default_rng(5))
    reference = stepwise_reference(nets, x, y, lr=0.05, steps=20, batch=8, seed=5)
    np.testing.assert_allclose(stacked, reference, rtol=1e-10, atol=0)


def test_a_stack_of_one_network_is_mlp_train_with_the_same_rng():
    rng = np.random.default_rng(22)
    weights, biases, x, y = stacked_problem("tanh", [3, 8, 8, 2], 1, rng)
    net = unstack(weights, biases, 0, "tanh")
    reference = net.train(x, y, lr=0.1, steps=30, batch=4, rng=7)
    stacked = train_many(weights, biases, x, y, lr=0.1, steps=30, batch=4, activation="tanh", rng=7)
    np.testing.assert_allclose(stacked[0], reference, rtol=1e-10, atol=0)


@pytest.mark.parametrize("batch", [None, 8])
def test_a_diverged_network_drops_out_of_the_stack_as_mlp_train_stops(batch):
    """Network 1 diverges; its losses turn NaN where MLP.train's do, and networks 0 and 2 go on unchanged."""
    rng = np.random.default_rng(23)
    weights, biases, x, y = stacked_problem("linear", [4, 16, 16, 1], 3, rng)
    for w in weights:
        w[1] *= 3.0                                       # network 1 starts too large to settle
    nets = [unstack(weights, biases, k, "linear") for k in range(3)]
    with np.errstate(all="ignore"):
        if batch is None:
            reference = np.array([net.train(x, y, lr=0.05, steps=40) for net in nets])
        else:
            reference = stepwise_reference(nets, x, y, lr=0.05, steps=40, batch=batch, seed=6)
        stacked = train_many(weights, biases, x, y, lr=0.05, steps=40, batch=batch, activation="linear", rng=6)
    assert np.all(np.isfinite(stacked[[0, 2]])) and np.isnan(stacked[1, -1])
    np.testing.assert_array_equal(np.isnan(stacked), np.isnan(reference))
    np.testing.assert_allclose(stacked, reference, rtol=1e-10, atol=0, equal_nan=True)
    for k, net in enumerate(nets):                        # the diverged network's weights as its last step left them
        for w, w_ref in zip([w[k] for w in weights] + [b[k] for b in biases], net.weights + net.biases):
            np.testing.assert_allclose(w, w_ref, rtol=1e-10, atol=1e-14, equal_nan=True)


def test_loss_many_is_mlp_loss_per_network():
    rng = np.random.default_rng(24)
    weights, biases, x, y = stacked_problem("relu", [6, 12, 12, 3], 4, rng)
    losses = loss_many(weights, biases, x, y)
    assert losses.shape == (4,)
    expected = [unstack(weights, biases, k, "relu").loss(x, y) for k in range(4)]
    np.testing.assert_allclose(losses, expected, rtol=1e-12, atol=0)


def test_train_many_keeps_single_precision():
    rng = np.random.default_rng(25)
    weights, biases, x, y = stacked_problem("relu", [4, 10, 1], 2, rng)
    w32 = [w.astype(np.float32) for w in weights]
    b32 = [b.astype(np.float32) for b in biases]
    before = loss_many(w32, b32, x.astype(np.float32), y)
    train_many(w32, b32, x.astype(np.float32), y, lr=0.05, steps=50)
    assert all(a.dtype == np.float32 for a in w32 + b32)
    assert np.all(loss_many(w32, b32, x.astype(np.float32), y) < before)


def test_train_many_rejects_bad_input():
    rng = np.random.default_rng(26)
    weights, biases, x, y = stacked_problem("relu", [4, 6, 1], 2, rng)
    with pytest.raises(ValueError, match="stacked layer"):
        train_many([w[0] for w in weights], [b[0] for b in biases], x, y)      # one network, unstacked
    with pytest.raises(ValueError, match="do not chain"):
        train_many([weights[0], weights[1][:1]], [biases[0], biases[1][:1]], x, y)
    with pytest.raises(ValueError, match="do not match the output shape"):
        train_many(weights, biases, x, y[:, 0])
    with pytest.raises(ValueError, match="do not fit"):
        train_many(weights, biases, x[:, :3], y)


def test_teacher_task_gives_standardized_targets_and_checks_its_sizes():
    x, y = network.teacher_task(4, 64, 8, rng=0)
    assert x.shape == (64, 4) and y.shape == (64, 1)
    assert abs(y.mean()) < 1e-12 and abs(y.std() - 1) < 1e-12
    np.testing.assert_array_equal(network.teacher_task(4, 64, 8, rng=0)[1], y)
    with pytest.raises(ValueError, match="teacher_width must be a positive integer"):
        network.teacher_task(4, 64, 0)
    with pytest.raises(ValueError, match="n_data must be at least 2"):
        network.teacher_task(4, 1, 3)
