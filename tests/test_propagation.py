"""The engine for many random networks at once (initcore.propagation)."""
import numpy as np
import pytest

import initcore as ic
from initcore import propagation


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_layer_moments_he_relu_keeps_second_moments(dtype):
    # He (fan_in) with ReLU: E[h_l^2] = 2 E[x_0^2] = 2 and E[x_l^2] = 1 at every layer, exactly.
    m = ic.layer_moments(ic.he_normal, [64] * 5, "relu", networks=400, batch=8, backward=True,
                         dtype=dtype, rng=11)
    assert np.asarray(m.pre.value).dtype == np.float64  # accumulation stays float64
    assert m.pre.n == 400 and len(m.pre) == 4
    ic.check(m.pre, 2.0, wrong=1.0, name="He pre-activation second moment", family="depth")
    ic.check(m.post, 1.0, wrong=0.5, name="He post-activation second moment", family="depth")
    # gradient wrt x_(L-1): the output gradient is independent of the last layer, so n_L/n_(L-1) = 1
    ic.check(m.grad[-1], 1.0, wrong=0.5, name="He last-layer gradient second moment", family="depth")


def test_layer_moments_streams_networks_in_chunks():
    seen = []

    def init(shape, rng=None, copies=None, dtype=np.float64):
        seen.append(copies)
        return ic.he_normal(shape, rng=rng, copies=copies, dtype=dtype)

    ic.layer_moments(init, [8, 8, 8], networks=40, chunk=16, rng=2)
    assert seen == [16, 16, 16, 16, 8, 8]


def test_chunks_shrink_to_keep_memory_bounded(monkeypatch):
    seen = []

    def init(shape, rng=None, copies=None, dtype=np.float64):
        seen.append(copies)
        return ic.he_normal(shape, rng=rng, copies=copies, dtype=dtype)

    per_network = 8 * 2 * 16 * (16 + 3 * 4)  # float64 weights, h, x and gradients of two 16x16 layers, batch 4
    monkeypatch.setattr(propagation, "CHUNK_BYTES", 3 * per_network)
    m = ic.layer_moments(init, [16, 16, 16], networks=7, batch=4, chunk=16, backward=True, rng=1)
    assert seen[::2] == [3, 3, 1] and m.grad.n == 7


def test_forward_backward_matches_a_hand_written_network():
    widths, c, batch = [5, 4, 3], 2, 6
    stack = ic.forward_backward(ic.he_normal, widths, "tanh", copies=c, rng=3, batch=batch, bias=0.5,
                                backward=True)
    gen = np.random.default_rng(3)
    x = gen.standard_normal((c, batch, 5))
    assert np.allclose(stack.inputs, x)
    for layer in range(2):
        w = ic.he_normal((widths[layer + 1], widths[layer]), rng=gen, copies=c)
        b = 0.5 * gen.standard_normal((c, 1, widths[layer + 1]))
        h = x @ np.swapaxes(w, -1, -2) + b
        x = np.tanh(h)
        assert np.allclose(stack.weights[layer], w) and np.allclose(stack.pre[layer], h)
        assert np.allclose(stack.post[layer], x) and np.allclose(stack.biases[layer], b)
    g = gen.standard_normal(x.shape)
    g1 = (g * (1 - np.tanh(stack.pre[1]) ** 2)) @ stack.weights[1]
    g0 = (g1 * (1 - np.tanh(stack.pre[0]) ** 2)) @ stack.weights[0]
    assert np.allclose(stack.grads[1], g1) and np.allclose(stack.grads[0], g0)


def test_fixed_inputs_fixed_gradient_linear_output_and_one_initializer_per_layer():
    x, g = np.arange(3.0), np.array([1.0, -2.0])
    inits = [ic.scaled(ic.identity, 2.0), ic.identity]
    stack = ic.forward_backward(inits, [3, 3, 2], "relu", copies=4, rng=0, batch=1, inputs=x,
                                grad_out=g, backward=True, linear_output=True)
    assert np.allclose(stack.post[-1], [[2 * x[:2]]] * 4)          # I (2 I x): the output is linear
    assert np.allclose(stack.grads[1], [[np.r_[g, 0.0]]] * 4)       # no slope at the linear output
    assert np.allclose(stack.grads[0], [[2 * np.r_[g, 0.0] * (x > 0)]] * 4)


def test_simulate_takes_any_per_network_statistic():
    est = ic.simulate(lambda s: propagation.mean_square(s.post[-1]), ic.he_normal, [32, 32, 32], "relu",
                      networks=300, rng=5)
    ic.check(est, 1.0, wrong=0.5, name="He ReLU: E[x_2^2] = 1 from simulate", family="depth")


def test_layer_samples_pools_every_layer():
    post, grads = propagation.layer_samples(ic.glorot_normal, [10, 20, 30], "tanh", networks=3, batch=4, rng=1)
    assert [p.size for p in post] == [3 * 4 * 20, 3 * 4 * 30] and [g.size for g in grads] == [3 * 4 * 10, 3 * 4 * 20]


def test_linear_recursion_is_the_product_of_the_per_layer_factors():
    forward, backward = propagation.linear_recursion([100, 300, 100], [2 / 400, 2 / 400])
    assert np.allclose(forward, [0.5, 0.5 * 1.5]) and np.allclose(backward, [1.5 * 0.5, 0.5])
    with pytest.raises(ValueError, match="one variance per layer"):
        propagation.linear_recursion([3, 3], [1, 1])


@pytest.mark.parametrize("call, words", [
    (lambda: ic.forward_backward("he", [4, 4], copies=2), "init must be an initializer"),
    (lambda: ic.forward_backward([ic.he_normal], [4, 4, 4], copies=2), "list of 2"),
    (lambda: ic.forward_backward(ic.he_normal, [4, 4], copies=2, bias=-1.0), "bias standard deviation"),
    (lambda: ic.forward_backward(ic.he_normal, [4, 4], copies=2, bias="small"), "bias must be"),
    (lambda: ic.forward_backward(ic.he_normal, [4], copies=2), "at least an input and an output"),
])
def test_bad_input_is_refused_clearly(call, words):
    with pytest.raises(ValueError, match=words):
        call()


def test_correlated_pairs_have_the_correlation_asked_for():
    inputs = propagation.correlated_pairs(0.6, pairs=3)
    x = inputs(np.random.default_rng(1), 2, 6, 50)
    cos = np.sum(x[:, :3] * x[:, 3:], axis=-1) / np.sqrt(np.sum(x[:, :3] ** 2, axis=-1) * np.sum(x[:, 3:] ** 2, axis=-1))
    assert np.allclose(cos, 0.6) and np.allclose(np.sum(x**2, axis=-1), 50)
    stack = ic.forward_backward(ic.identity, [50, 50], "linear", copies=2, rng=1, batch=6, inputs=inputs)
    assert np.allclose(propagation.pair_correlations(stack), 0.6)   # an identity layer keeps the correlation
    with pytest.raises(ValueError, match="needs batch = 6"):
        ic.forward_backward(ic.identity, [50, 50], copies=2, batch=4, inputs=inputs)
    with pytest.raises(ValueError, match="correlation lies in"):
        propagation.correlated_pairs(1.5)
