"""The engine for many random networks at once (initcore.propagation)."""
import numpy as np
import pytest

import initcore as ic
from initcore.propagation import forward_backward
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


# --- normalization and residual blocks ---------------------------------------------------------

def _numeric_input_gradient(widths, options, x, g, eps=1e-6):
    """dL/dx_0 of L = sum(output * g) by central differences, for one network (copies=1, rng=1)."""
    num = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        for sign in (1, -1):
            moved = x.copy()
            moved[index] += sign * eps
            stack = forward_backward(ic.he_normal, widths, "tanh", copies=1, rng=1, batch=x.shape[0], inputs=moved,
                                     **options)
            num[index] += sign * np.sum(stack.output * g) / (2 * eps)
    return num


@pytest.mark.parametrize("widths, options", [
    ([5, 7, 6, 4], {"norm": "layer"}),
    ([5, 7, 6, 4], {"norm": "rms"}),
    ([5, 7, 6, 4], {"norm": "batch", "bias": 0.1}),
    ([6] * 5, {"residual": 0.5, "branch": 2, "norm": "layer"}),
    ([6] * 4, {"residual": [0.3, 0.7, 1.0]}),
    ([6] * 4, {"residual": 0.2, "norm": "batch", "bias": 0.1}),
])
def test_backward_is_the_exact_input_gradient(widths, options):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, widths[0]))
    g = rng.standard_normal((1, 4, widths[-1]))
    stack = forward_backward(ic.he_normal, widths, "tanh", copies=1, rng=1, batch=4, inputs=x, backward=True,
                             grad_out=g, **options)
    np.testing.assert_allclose(stack.grads[0][0], _numeric_input_gradient(widths, options, x, g), atol=1e-7)


@pytest.mark.parametrize("norm, axis", [("layer", -1), ("rms", -1), ("batch", 1)])
def test_normalized_arguments_have_unit_mean_square(norm, axis):
    stack = forward_backward(ic.scaled_normal(9.0), [32, 32, 32], "tanh", copies=3, rng=0, batch=8, norm=norm)
    for h in stack.pre:
        np.testing.assert_allclose(np.mean(h**2, axis=axis), 1.0, rtol=1e-3)
        if norm != "rms":
            np.testing.assert_allclose(np.mean(h, axis=axis), 0.0, atol=1e-12)


def test_residual_stream_adds_scaled_branches():
    stack = forward_backward(ic.he_normal, [8] * 5, "relu", copies=2, rng=0, batch=3, residual=[0.5, 0.25], branch=2)
    assert len(stack.stream) == 3 and stack.residual
    np.testing.assert_array_equal(stack.stream[1], stack.stream[0] + 0.5 * stack.post[1])
    np.testing.assert_array_equal(stack.stream[2], stack.stream[1] + 0.25 * stack.post[3])
    np.testing.assert_array_equal(stack.post[0], stack.pre[0].clip(0) @ np.swapaxes(stack.weights[0], -1, -2))
    np.testing.assert_array_equal(stack.output, stack.stream[-1])


def test_zero_branch_scale_is_the_identity_both_ways():
    stack = forward_backward(ic.he_normal, [8] * 4, "relu", copies=2, rng=0, batch=3, residual=0.0, backward=True)
    np.testing.assert_array_equal(stack.output, stack.inputs)
    np.testing.assert_array_equal(stack.grads[0], stack.grad_out)


def test_layer_moments_of_a_residual_network_report_the_stream():
    moments = ic.layer_moments(ic.he_normal, [16] * 5, "relu", networks=4, backward=True, residual=0.5, branch=2)
    assert moments.stream.value.shape == (3,) and moments.grad.value.shape == (2,)
    assert moments.pre.value.shape == (4,)
    assert ic.layer_moments(ic.he_normal, [16] * 3, networks=2).stream is None


@pytest.mark.parametrize("options, message", [
    ({"norm": "group"}, "norm must be"),
    ({"residual": 0.5, "widths": [4, 8, 8]}, "one width"),
    ({"residual": 0.5, "branch": 2, "widths": [4] * 4}, "blocks of branch=2"),
    ({"residual": [0.5], "widths": [4] * 3}, "one branch scale"),
    ({"residual": 0.5, "branch": 0}, "positive integer"),
    ({"residual": 0.5, "linear_output": True}, "linear_output"),
])
def test_bad_residual_or_norm_options_say_what_to_fix(options, message):
    widths = options.pop("widths", [4] * 3)
    with pytest.raises(ValueError, match=message):
        forward_backward(ic.he_normal, widths, copies=1, **options)
