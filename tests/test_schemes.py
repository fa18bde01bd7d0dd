"""initcore's initializers against PyTorch's and Keras's semantics, by formula and by sampling.

Each sampling test compares a sample variance (or bound) with its formula by the book's z-bound
and also shows that the same check rejects the plausible wrong constant.
"""
import math

import numpy as np
import pytest
import sympy as sp

import initcore as ic
from initcore import symbolic

N_DRAWS = 200  # independent weight matrices per sampling test


def variance_estimate(weights):
    """Mean of w^2 per independent matrix, then mean +- se across matrices."""
    return ic.Estimate.from_samples(np.mean(weights**2, axis=tuple(range(1, weights.ndim))))


@pytest.mark.parametrize("shape, layout, expected", [
    ((30, 20), "torch", (20, 30)),
    ((16, 8, 3, 3), "torch", (72, 144)),
    ((5, 4, 7), "torch", (28, 35)),
    ((20, 30), "keras", (20, 30)),
    ((3, 3, 8, 16), "keras", (72, 144)),
    ((7,), "keras", (7, 7)),
])
def test_fans_follow_torch_and_keras_layouts(shape, layout, expected):
    assert ic.fans(shape, layout) == expected


def test_gains_match_pytorch_table():
    for name in ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                 "conv_transpose3d", "sigmoid"]:
        assert ic.gain(name) == 1.0
    assert ic.gain("tanh") == pytest.approx(5 / 3)
    assert ic.gain("selu") == pytest.approx(3 / 4)
    assert ic.gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert ic.gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))


def test_relu_gain_is_the_derived_second_moment_preserving_gain():
    # g^2 = 1 / E[ReLU(Z)^2]: the ReLU halving, derived rather than typed in.
    x = sp.Symbol("x", real=True)
    second_moment = symbolic.gaussian_expectation_by_halves(ic.activations.relu().symbolic(x) ** 2, x)
    assert second_moment == sp.Rational(1, 2)
    assert ic.gain("relu") == pytest.approx(float(sp.sqrt(1 / second_moment)), rel=1e-15)
    leaky = symbolic.gaussian_expectation_by_halves(ic.activations.leaky_relu(sp.Rational(1, 5)).symbolic(x) ** 2, x)
    assert ic.gain("leaky_relu", 0.2) == pytest.approx(float(sp.sqrt(1 / leaky)), rel=1e-15)


def test_truncated_normal_constant_is_keras_literal_and_derived():
    assert ic.TRUNCATED_NORMAL_STD == pytest.approx(0.87962566103423978, rel=1e-15)
    x = sp.Symbol("x", real=True)
    mass = sp.integrate(symbolic.gaussian_pdf(x), (x, -2, 2))
    var = sp.integrate(x**2 * symbolic.gaussian_pdf(x), (x, -2, 2)) / mass
    assert float(sp.sqrt(var)) == pytest.approx(ic.TRUNCATED_NORMAL_STD, rel=1e-14)


# (initializer call, theoretical variance, plausible wrong variance) for shape (out=300, in=100)
OUT, IN = 300, 100
CASES = {
    "lecun_normal": (lambda **kw: ic.lecun_normal((OUT, IN), **kw), 1 / IN, 1 / OUT),
    "lecun_uniform": (lambda **kw: ic.lecun_uniform((OUT, IN), **kw), 1 / IN, 1 / (3 * IN)),
    "glorot_normal": (lambda **kw: ic.glorot_normal((OUT, IN), **kw), 2 / (IN + OUT), 1 / IN),
    "glorot_uniform": (lambda **kw: ic.glorot_uniform((OUT, IN), **kw), 2 / (IN + OUT), 1 / IN),
    "glorot_uniform_gain": (lambda **kw: ic.glorot_uniform((OUT, IN), gain=ic.gain("tanh"), **kw),
                            (5 / 3) ** 2 * 2 / (IN + OUT), 2 / (IN + OUT)),
    "he_normal": (lambda **kw: ic.he_normal((OUT, IN), **kw), 2 / IN, 1 / IN),
    "he_uniform": (lambda **kw: ic.he_uniform((OUT, IN), **kw), 2 / IN, 1 / IN),
    "he_normal_fan_out": (lambda **kw: ic.he_normal((OUT, IN), mode="fan_out", **kw), 2 / OUT, 2 / IN),
    "he_uniform_leaky": (lambda **kw: ic.he_uniform((OUT, IN), a=0.3, nonlinearity="leaky_relu", **kw),
                         2 / (1 + 0.09) / IN, 2 / IN),
    "vs_fan_avg_uniform": (lambda **kw: ic.variance_scaling((OUT, IN), 2.0, "fan_avg", "uniform", **kw),
                           2 / ((IN + OUT) / 2), 2 / IN),
    "vs_truncated": (lambda **kw: ic.variance_scaling((OUT, IN), 3.0, "fan_out", "truncated_normal", **kw),
                     3 / OUT, 3 / OUT * ic.TRUNCATED_NORMAL_STD**2),
    "vs_untruncated": (lambda **kw: ic.variance_scaling((OUT, IN), 0.5, "fan_in", "untruncated_normal", **kw),
                       0.5 / IN, 0.5 / OUT),
    "orthogonal": (lambda **kw: ic.orthogonal((OUT, IN), gain=2.0, **kw), 4 / OUT, 4 / IN),
    "scaled_normal": (lambda **kw: ic.scaled_normal(2.0)((OUT, IN), **kw), 2 / IN, 2 / OUT),
    "scaled_normal_fan_out": (lambda **kw: ic.scaled_normal(0.5, mode="fan_out")((OUT, IN), **kw),
                              0.5 / OUT, 0.5 / IN),
    "scaled_normal_fan_avg_keras": (lambda **kw: ic.scaled_normal(3.0, "fan_avg", "keras")((IN, OUT), **kw),
                                    3 / ((IN + OUT) / 2), 3 / IN),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_sample_variance_matches_formula_and_rejects_wrong_constant(name):
    draw, theory, wrong = CASES[name]
    est = variance_estimate(draw(rng=np.random.default_rng(ic.current_seed()), copies=N_DRAWS))
    ic.check(est, theory, wrong=wrong, name=name)
    ic.expect_rejection(est, wrong, name=f"{name} with the wrong constant")


@pytest.mark.parametrize("draw, bound", [
    (lambda g: ic.lecun_uniform((OUT, IN), rng=g), math.sqrt(3 / IN)),
    (lambda g: ic.glorot_uniform((OUT, IN), rng=g), math.sqrt(6 / (IN + OUT))),
    (lambda g: ic.he_uniform((OUT, IN), rng=g), math.sqrt(6 / IN)),
    (lambda g: ic.variance_scaling((OUT, IN), 1.0, "fan_in", "truncated_normal", rng=g),
     2 / math.sqrt(IN) / ic.TRUNCATED_NORMAL_STD),
])
def test_bounds_are_attained_and_respected(draw, bound):
    w = draw(np.random.default_rng(1))
    assert np.max(np.abs(w)) <= bound
    assert np.max(np.abs(w)) > 0.99 * bound


def test_orthogonal_is_orthogonal_and_identity_is_eye():
    q = ic.orthogonal((5, 8), rng=3)
    assert np.allclose(q @ q.T, np.eye(5))
    q = ic.orthogonal((8, 5), rng=3)
    assert np.allclose(q.T @ q, np.eye(5))
    q = ic.orthogonal((6, 2, 3), rng=3)
    assert q.shape == (6, 2, 3)
    assert np.allclose(ic.identity((3, 4)), np.eye(3, 4))


def test_orthogonal_sign_correction_removes_the_bias_of_raw_qr():
    corrected = ic.orthogonal((3, 3), rng=5, copies=20000)[:, 0, 0]
    raw = ic.orthogonal((3, 3), rng=5, copies=20000, sign_correction=False)[:, 0, 0]
    ic.check(ic.Estimate.from_samples(corrected), 0.0, wrong=-0.5, name="Haar E[Q_00]")
    ic.expect_rejection(ic.Estimate.from_samples(raw), 0.0, name="raw QR E[Q_00] = 0")


def test_seeding_same_seed_same_draws_other_seed_other_draws(monkeypatch):
    monkeypatch.setenv("INITCORE_SEED", "11")
    ic.seeding.reset()
    a = ic.he_normal((4, 4))
    ic.seeding.reset()
    b = ic.he_normal((4, 4))
    monkeypatch.setenv("INITCORE_SEED", "12")
    ic.seeding.reset()
    c = ic.he_normal((4, 4))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    monkeypatch.delenv("INITCORE_SEED")
    assert ic.current_seed() == ic.seeding.DEFAULT_SEED
    ic.seeding.reset()


def test_rng_accepts_generator_int_or_none():
    g = np.random.default_rng(0)
    assert ic.as_generator(g) is g
    assert np.array_equal(ic.he_normal((3, 3), rng=4), ic.he_normal((3, 3), rng=4))
    with pytest.raises(ValueError, match="rng must be"):
        ic.he_normal((3, 3), rng="seed")


def test_scaled_normal_is_variance_scaling_untruncated_and_says_what_it_draws():
    init = ic.scaled_normal(2, mode="fan_out")
    assert init.__name__ == init.__qualname__ == "scaled_normal(2, fan_out)"
    assert ic.scaled_normal(0.5, layout="keras").__name__ == "scaled_normal(0.5, fan_in, keras)"
    w = init((OUT, IN), rng=7, copies=2, dtype=np.float32)
    assert w.shape == (2, OUT, IN) and w.dtype == np.float32
    assert np.array_equal(w, ic.variance_scaling((OUT, IN), 2.0, "fan_out", "untruncated_normal", rng=7,
                                                 copies=2, dtype=np.float32))


def test_copies_stack_independent_draws():
    w = ic.glorot_normal((4, 6), copies=3, rng=0)
    assert w.shape == (3, 4, 6)
    assert not np.array_equal(w[0], w[1])


@pytest.mark.parametrize("call, message", [
    (lambda: ic.gain("swish"), "unsupported nonlinearity"),
    (lambda: ic.gain("leaky_relu", "big"), "negative slope"),
    (lambda: ic.variance_scaling((3, 3), mode="fan_mid"), "unknown mode"),
    (lambda: ic.variance_scaling((3, 3), distribution="normalish"), "unknown distribution"),
    (lambda: ic.variance_scaling((3, 3), scale=0), "scale must be a positive"),
    (lambda: ic.variance_scaling((3, 3), scale=-1.0), "scale must be a positive"),
    (lambda: ic.he_normal((3, 3), mode="fan_avg"), "unknown mode"),
    (lambda: ic.scaled_normal(0), "scale must be a positive"),
    (lambda: ic.scaled_normal("2"), "scale must be a positive"),
    (lambda: ic.scaled_normal(1.0, mode="fan"), "unknown mode"),
    (lambda: ic.scaled_normal(1.0, layout="jax"), "unknown layout"),
    (lambda: ic.scaled_normal(1.0)((3,)), "at least 2 dimensions"),
    (lambda: ic.fans(()), "shape is empty"),
    (lambda: ic.fans((3, 0)), "zero or negative dimension"),
    (lambda: ic.he_normal((0, 5)), "zero or negative dimension"),
    (lambda: ic.fans((3,), layout="torch"), "at least 2 dimensions"),
    (lambda: ic.fans((3, 3), layout="jax"), "unknown layout"),
    (lambda: ic.glorot_uniform(()), "shape is empty"),
    (lambda: ic.orthogonal((5,)), "at least 2 dimensions"),
    (lambda: ic.identity((2, 2, 2)), "2-D shape"),
    (lambda: ic.lecun_normal((3, 3), copies=0), "copies must be"),
])
def test_bad_input_raises_a_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("call, words", [
    (lambda: ic.he_normal((64, 32), dtype=int), "floating"),
    (lambda: ic.glorot_normal((4, 4), gain=-1), "gain must be a positive number"),
    (lambda: ic.glorot_uniform((4, 4), gain=-2), "gain must be a positive number"),
    (lambda: ic.glorot_normal((4, 4), gain="relu"), r"ic.gain\('relu'\)"),
    (lambda: ic.orthogonal((4, 4), gain="2"), "gain must be a positive number"),
    (lambda: ic.identity((4, 4), gain=float("nan")), "gain must be a positive number"),
    (lambda: ic.he_normal((4, 4), a="0.1"), "negative slope"),
    (lambda: ic.he_uniform((4, 4), a="0.1", nonlinearity="leaky_relu"), "negative slope"),
    (lambda: ic.layer_moments(ic.he_normal, [64, "64"]), "widths must be positive integers"),
    (lambda: ic.layer_moments(ic.he_normal, [64, 0]), "widths must be positive integers"),
])
def test_bad_input_names_the_argument(call, words):
    with pytest.raises(ValueError, match=words):
        call()


def test_standard_uniform_and_scaled():
    w = ic.standard_uniform((200, 400), rng=1)
    assert np.max(np.abs(w)) <= 1 / np.sqrt(400) and np.var(w) * 400 == pytest.approx(1 / 3, rel=0.02)
    doubled = ic.scaled(ic.he_normal, 2.0)
    assert np.allclose(doubled((4, 4), rng=2), 2 * ic.he_normal((4, 4), rng=2))
    with pytest.raises(ValueError, match="factor must be a positive number"):
        ic.scaled(ic.he_normal, 0)


def test_every_initializer_follows_the_contract():
    for init in (ic.he_normal, ic.he_uniform, ic.glorot_normal, ic.glorot_uniform, ic.lecun_normal,
                 ic.lecun_uniform, ic.orthogonal, ic.identity, ic.standard_uniform, ic.scaled_normal(2.0),
                 ic.scaled(ic.orthogonal, 0.5)):
        one = init((3, 5), rng=1, copies=None, dtype=np.float32)
        many = init((3, 5), rng=1, copies=4, dtype=np.float64)
        assert one.shape == (3, 5) and one.dtype == np.float32, init
        assert many.shape == (4, 3, 5) and many.dtype == np.float64, init


# --- residual networks: normal_std, zeros, fixup --------------------------------------------------

from initcore.schemes import fixup, fixup_scale, normal_std, zeros  # noqa: E402


@pytest.mark.parametrize("init", [normal_std(0.02), zeros, *fixup(16, 3)])
def test_residual_initializers_follow_the_contract(init):
    one = init((3, 5), rng=1, copies=None, dtype=np.float32)
    many = init((3, 5), rng=1, copies=4, dtype=np.float64)
    assert one.shape == (3, 5) and one.dtype == np.float32
    assert many.shape == (4, 3, 5) and many.dtype == np.float64


def test_normal_std_has_a_fixed_standard_deviation_whatever_the_fan():
    # torch.nn.init.normal_(w, mean=0.0, std=0.02) draws N(0, 0.02^2) for every shape (GPT-2's rule);
    # a fan-based law would give 1/fan_in, the plausible wrong variance.
    init = normal_std(0.02)
    assert init.__name__ == "normal_std(0.02)"
    for shape in ((OUT, IN), (IN, OUT)):
        est = variance_estimate(init(shape, rng=np.random.default_rng(ic.current_seed()), copies=N_DRAWS))
        ic.check(est, 0.02**2, wrong=1 / shape[1], name=f"normal_std(0.02) variance, shape {shape}")
    w = init((4096,), rng=3)                                          # 1-D: an embedding row or a bias
    assert w.shape == (4096,) and abs(np.mean(w)) < 5 * 0.02 / np.sqrt(4096)
    assert np.array_equal(init((6, 7), rng=5), ic.schemes.normal((6, 7), 0.02, 5))


def test_zeros_is_torch_zeros_and_ignores_rng():
    # torch.nn.init.zeros_ fills the tensor with 0 whatever its shape; no random number is drawn.
    gen = np.random.default_rng(0)
    state = gen.bit_generator.state
    w = zeros((3, 4, 2), rng=gen, copies=2, dtype=np.float32)
    assert w.shape == (2, 3, 4, 2) and w.dtype == np.float32 and not np.any(w)
    assert gen.bit_generator.state == state


def test_fixup_scales_inner_layers_and_zeroes_the_last():
    inits = fixup(64, 3)
    assert len(inits) == 3 and inits[-1] is zeros
    assert fixup_scale(64, 3) == pytest.approx(64 ** -0.25, rel=1e-15)
    assert fixup_scale(64, 2) == pytest.approx(64 ** -0.5, rel=1e-15)
    L, m, s = sp.symbols("L m s", positive=True)
    derived = sp.solve(sp.Eq(L * s ** (2 * m - 2), 1), s)[0]           # L branches, each moving by s^(2m-2)
    assert fixup_scale(100, 4) == pytest.approx(float(derived.subs({L: 100, m: 4})), rel=1e-12)
    est = variance_estimate(inits[0]((OUT, IN), rng=np.random.default_rng(ic.current_seed()), copies=N_DRAWS))
    ic.check(est, 2 / IN * fixup_scale(64, 3) ** 2, wrong=2 / IN * fixup_scale(64, 2) ** 2,
             name="fixup(64, 3) inner variance 2 L^(-1/2) / n (not the m = 2 scale)")
    assert not np.any(inits[-1]((OUT, IN), copies=2))
    custom = fixup(4, 2, base=ic.lecun_normal)                        # scale 4^(-1/2)
    assert np.allclose(custom[0]((5, 5), rng=7), ic.lecun_normal((5, 5), rng=7) / 2)


def test_fixup_networks_start_as_the_identity_in_both_directions():
    stack = ic.forward_backward(fixup(3, 2) * 3, [8] * 7, "relu", copies=2, rng=0, batch=3, backward=True,
                                residual=1.0, branch=2)
    assert all(np.array_equal(x, stack.inputs) for x in stack.stream)
    assert all(np.array_equal(g, stack.grad_out) for g in stack.grads)


@pytest.mark.parametrize("call, message", [
    (lambda: normal_std(-0.02), "std must be a positive finite number"),
    (lambda: normal_std(0), "std must be a positive finite number"),
    (lambda: normal_std(float("inf")), "std must be a positive finite number"),
    (lambda: normal_std("0.02"), "std must be a positive finite number"),
    (lambda: normal_std(True), "std must be a positive finite number"),
    (lambda: normal_std(0.02)((0, 3)), "zero or negative dimension"),
    (lambda: zeros((3, 3), dtype=int), "floating"),
    (lambda: zeros((3, 3), copies=0), "copies must be"),
    (lambda: fixup(8, 1), r"m \(weight layers per residual branch\) must be an integer >= 2"),
    (lambda: fixup(8, 2.5), r"m \(weight layers per residual branch\) must be an integer >= 2"),
    (lambda: fixup(0, 2), r"blocks \(the number of residual branches L\) must be a positive integer"),
    (lambda: fixup(2.0, 2), r"blocks \(the number of residual branches L\) must be a positive integer"),
    (lambda: fixup(4, 2, base="he_normal"), "base must be an initializer"),
    (lambda: fixup_scale(-1, 3), "must be a positive integer"),
])
def test_residual_initializers_refuse_bad_input_clearly(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_int_at_least_is_the_one_count_check():
    from initcore.schemes import int_at_least, positive_int

    assert int_at_least(3, "steps") == 3 and int_at_least(np.int64(0), "burn_in", least=0) == 0
    assert positive_int(np.int32(2), "copies") == 2
    with pytest.raises(ValueError, match="copies must be a positive integer, got 0"):
        positive_int(0, "copies")
    with pytest.raises(ValueError, match="batch must be an integer of at least 2, got 1"):
        int_at_least(1, "batch", least=2)
    for bad in (True, 2.0, "2", None):
        with pytest.raises(ValueError, match="steps"):
            int_at_least(bad, "steps")
