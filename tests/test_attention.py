"""Attention sublayers and small transformer stacks (initcore.attention)."""
import numpy as np
import pytest

import initcore as ic
from initcore import attention as at


def _stack(**options):
    options = {"copies": 2, "rng": 3, **options}
    return at.transformer(ic.glorot_normal, 6, 4, 2, **options)


@pytest.mark.parametrize("options", [
    {"placement": "pre"}, {"placement": "post"}, {"placement": None},
    {"placement": None, "skip": False, "mlp": False}, {"placement": "pre", "causal": True, "hidden": 10},
])
def test_shapes_and_probabilities(options):
    net = _stack(backward=True, **options)
    assert net.depth == 2 and len(net.stream) == 3 and len(net.grads) == 3
    for x in net.stream + net.grads:
        assert x.shape == (2, 4, 6)
    for p in net.probs:
        assert p.shape == (2, 4, 4)
        np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-12)
        assert np.all(p >= 0)
        if options.get("causal"):
            assert np.all(p[:, np.triu_indices(4, 1)[0], np.triu_indices(4, 1)[1]] == 0)
    for weights, grads in zip(net.weights, net.weight_grads):
        assert set(weights) == set(grads) == set(at.ROLES if options.get("mlp", True) else at.ATTENTION_ROLES)
        for role in weights:
            assert grads[role].shape == weights[role].shape


def test_pre_ln_output_is_normalized_and_post_ln_every_stream():
    pre, post = _stack(placement="pre"), _stack(placement="post")
    np.testing.assert_allclose(np.mean(pre.output**2, axis=-1), 1.0, rtol=1e-3)
    for x in post.stream[1:]:
        np.testing.assert_allclose(np.mean(x**2, axis=-1), 1.0, rtol=1e-3)
        np.testing.assert_allclose(np.mean(x, axis=-1), 0.0, atol=1e-12)


def _loss(options, x, g, weights=None):
    """sum(output * g) of network 0 of a stack drawn with rng=1, optionally with some weights replaced."""
    net = at.transformer(ic.glorot_normal, 5, 3, 2, copies=1, rng=1, inputs=x, **options)
    return np.sum(net.output * g)


OPTIONS = [
    {"placement": "pre"},
    {"placement": "post"},
    {"placement": None},
    {"placement": "pre", "causal": True, "scale": "mup", "hidden": 7},
    {"placement": None, "skip": False, "mlp": False, "scale": 0.7},
]


@pytest.mark.parametrize("options", OPTIONS)
def test_input_gradient_matches_finite_differences(options):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 3, 5))
    g = rng.standard_normal((1, 3, 5))
    net = at.transformer(ic.glorot_normal, 5, 3, 2, copies=1, rng=1, inputs=x, backward=True, grad_out=g, **options)
    eps, numeric = 1e-6, np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        for sign in (1, -1):
            moved = x.copy()
            moved[index] += sign * eps
            numeric[index] += sign * _loss(options, moved, g) / (2 * eps)
    np.testing.assert_allclose(net.grads[0], numeric, atol=1e-7)


class _Perturbed:
    """An initializer that draws like ``glorot_normal`` and adds ``delta`` to one entry of one draw."""

    def __init__(self, target, index, delta):
        self.calls, self.target, self.index, self.delta = 0, target, index, delta

    def __call__(self, shape, rng=None, copies=None, dtype=np.float64):
        w = ic.glorot_normal(shape, rng=rng, copies=copies, dtype=dtype)
        if self.calls == self.target:
            w[(0,) + self.index] += self.delta
        self.calls += 1
        return w


@pytest.mark.parametrize("options", OPTIONS)
def test_weight_gradients_match_finite_differences(options):
    rng = np.random.default_rng(5)
    d, tokens, blocks = 5, 3, 2
    x = rng.standard_normal((1, tokens, d))
    g = rng.standard_normal((1, tokens, d))
    net = at.transformer(ic.glorot_normal, d, tokens, blocks, copies=1, rng=1, inputs=x, backward=True, grad_out=g,
                         **options)
    roles = list(net.weights[0])
    for block in range(blocks):
        for r, role in enumerate(roles):
            shape = net.weights[block][role].shape[1:]
            index = tuple(int(i) for i in rng.integers(0, shape))
            target = block * len(roles) + r                  # draws happen block by block, role by role
            values = []
            for sign in (1, -1):
                init = _Perturbed(target, index, sign * 1e-6)
                moved = at.transformer(init, d, tokens, blocks, copies=1, rng=1, inputs=x, **options)
                values.append(np.sum(moved.output * g))
            numeric = (values[0] - values[1]) / 2e-6
            np.testing.assert_allclose(net.weight_grads[block][role][(0,) + index], numeric, atol=1e-7,
                                       err_msg=f"block {block}, {role}")


def test_attention_sublayer_alone_matches_finite_differences():
    rng = np.random.default_rng(2)
    c, tokens, d = 2, 4, 3
    u = rng.standard_normal((c, tokens, d))
    weights = {role: rng.standard_normal((c, d, d)) / np.sqrt(d) for role in at.ATTENTION_ROLES}
    g = rng.standard_normal((c, tokens, d))
    _, cache = at.attention_forward(u, weights, 0.8)
    g_u, grads = at.attention_backward(g, cache)
    eps = 1e-6
    for index in np.ndindex(*u.shape):
        moved = [u.copy(), u.copy()]
        moved[0][index] += eps
        moved[1][index] -= eps
        numeric = (np.sum(at.attention_forward(moved[0], weights, 0.8)[0] * g)
                   - np.sum(at.attention_forward(moved[1], weights, 0.8)[0] * g)) / (2 * eps)
        assert abs(g_u[index] - numeric) < 1e-7
    for role in at.ATTENTION_ROLES:
        for index in [(0, 0, 1), (1, 2, 0)]:
            plus = {**weights, role: weights[role].copy()}
            minus = {**weights, role: weights[role].copy()}
            plus[role][index] += eps
            minus[role][index] -= eps
            numeric = (np.sum(at.attention_forward(u, plus, 0.8)[0] * g)
                       - np.sum(at.attention_forward(u, minus, 0.8)[0] * g)) / (2 * eps)
            assert abs(grads[role][index] - numeric) < 1e-7, role


def test_uniform_attention_and_identical_tokens():
    # a zero query gives zero logits: every row of P is uniform
    net = at.transformer({**{r: ic.glorot_normal for r in at.ROLES}, "query": ic.schemes.zeros}, 8, 5, 1, copies=2, rng=0)
    np.testing.assert_allclose(net.probs[0], 1 / 5)
    # identical tokens stay identical through pure attention (rank one), and have zero residual
    x = np.broadcast_to(np.arange(8.0), (5, 8))
    pure = at.transformer(ic.glorot_normal, 8, 5, 3, copies=2, rng=0, inputs=x, placement=None, skip=False, mlp=False)
    assert np.allclose(at.relative_residual(pure.output), 0.0)
    assert ic.schemes.zeros((3, 2), copies=4).shape == (4, 3, 2)


def test_statistics():
    p = np.full((2, 3, 4), 0.25)
    np.testing.assert_allclose(at.mean_entropy(p), np.log(4))
    one_hot = np.zeros((1, 2, 3))
    one_hot[..., 0] = 1
    np.testing.assert_allclose(at.entropy(one_hot), 0.0)
    x = at.correlated_tokens(0.3)(np.random.default_rng(0), 2, 4, 9)
    gram = np.matmul(x, np.swapaxes(x, -1, -2))
    np.testing.assert_allclose(gram, np.broadcast_to(9 * (0.7 * np.eye(4) + 0.3), (2, 4, 4)), atol=1e-10)
    h = np.zeros((2, 3, 4))
    np.testing.assert_allclose(at.cross_entropy(h, np.ones((2, 7, 4)), [0, 1, 6]), np.log(7))
    s = at.logits(x, np.stack([np.eye(9)] * 2), np.stack([np.eye(9)] * 2), scale=1.0)
    np.testing.assert_allclose(s, gram)
    est = at.simulate(lambda net: at.mean_entropy(net.probs[0]), ic.glorot_normal, 8, 4, 1, networks=6, chunk=4, rng=1)
    assert est.n == 6


@pytest.mark.parametrize("call, words", [
    (lambda: _stack(placement="middle"), "placement must be"),
    (lambda: _stack(scale="sqrtd"), "scale must be"),
    (lambda: _stack(scale=-1.0), "scale must be"),
    (lambda: at.transformer(ic.glorot_normal, 0, 4, 2, copies=1), "d \\(the width\\) must be a positive integer"),
    (lambda: at.transformer(ic.glorot_normal, 4, 4, 2, copies=True), "copies must be"),
    (lambda: at.transformer({"query": ic.glorot_normal}, 4, 4, 1, copies=1), "missing"),
    (lambda: at.transformer("glorot", 4, 4, 1, copies=1), "init must be"),
    (lambda: at.transformer(ic.glorot_normal, 4, 4, 1, copies=1, inputs=np.ones((3, 4))), "inputs must give shape"),
    (lambda: at.correlated_tokens(1.5), "must lie in"),
    (lambda: _stack(backward=True, grad_out=np.ones((3, 3))), "grad_out must have the output's shape"),
    (lambda: at.uniform_attention_stream(3, 4, q0=1.0, k0=2.0), "0 <= k0 <= q0"),
    (lambda: at.transformer(ic.glorot_normal, 4, 4, 1, copies=1, inputs=at.correlated_tokens(0.5)), "T \\+ 1 <= d"),
    (lambda: at.cross_entropy(np.zeros((1, 2, 3)), np.zeros((1, 4, 3)), [0, 4]), "targets must be"),
    (lambda: at.logits(np.zeros((2, 3)), np.zeros((1, 3, 3)), np.zeros((1, 3, 3))), "shape \\(copies, T, d\\)"),
])
def test_bad_input_says_what_to_fix(call, words):
    with pytest.raises(ValueError, match=words):
        call()


@pytest.mark.parametrize("placement", ["pre", "post"])
def test_truncated_last_layer_matches_the_full_backward_pass(placement):
    net = at.transformer(ic.glorot_normal, 6, 4, 3, copies=2, rng=4, placement=placement)
    cut = at.truncated_last_layer(net, rng=9)
    assert cut["s2"].shape == cut["grad_w2"].shape == (2, 3)
    # the last entry is the full stack: same gradient as transformer()'s backward pass with the same g
    g = np.random.default_rng(9).standard_normal((3, 2, 4, 6))[-1]
    full = at.transformer(ic.glorot_normal, 6, 4, 3, copies=2, rng=4, placement=placement, backward=True, grad_out=g)
    np.testing.assert_allclose(cut["grad_w2"][:, -1], at.frobenius_squared(full.weight_grads[-1]["w2"]), rtol=1e-10)
    np.testing.assert_allclose(cut["s2"][:, -1], at.last_norm_input(full), rtol=1e-12)
    # an earlier entry is the stack cut there
    short = at.transformer(ic.glorot_normal, 6, 4, 1, copies=2, rng=4, placement=placement, backward=True,
                           grad_out=np.random.default_rng(9).standard_normal((3, 2, 4, 6))[0])
    np.testing.assert_allclose(cut["grad_w2"][:, 0], at.frobenius_squared(short.weight_grads[-1]["w2"]), rtol=1e-10)
    with pytest.raises(ValueError, match="needs a pre-LN or post-LN stack"):
        at.truncated_last_layer(at.transformer(ic.glorot_normal, 6, 4, 1, copies=1, placement=None))
    with pytest.raises(ValueError, match="no last LayerNorm"):
        at.last_norm_input(at.transformer(ic.glorot_normal, 6, 4, 1, copies=1, placement=None))
