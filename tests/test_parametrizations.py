"""initcore.parametrizations: the tables as the papers state them, the initializers, the trainers."""
from fractions import Fraction

import numpy as np
import pytest

from initcore import parametrizations as pz

F = Fraction


def powers(a, b=0):
    return (F(a), F(b))


# ------------------------------------------------------------------------------------------------
# The tables, entry by entry as their sources write them (fan_in**a * fan_out**b).

def test_mup_table3_sgd():
    """Yang et al. 2022, Table 3, SGD: init var 1/fan_in, 1/fan_in^2, 1/fan_in; LR fan_out, 1/fan_in, 1."""
    table = pz.RULES[("mup", "sgd")]
    assert table["input"].variance == powers(-1) and table["input"].lr == powers(0, 1)
    assert table["hidden"].variance == powers(-1) and table["hidden"].lr == powers(0)
    assert table["output"].variance == powers(-2) and table["output"].lr == powers(-1)
    assert all(rule.multiplier == powers(0) for rule in table.values())


def test_mup_table3_adam():
    """Table 3, Adam: LR 1 (input and biases), 1/fan_in (output), 1/fan_in (hidden); same variances."""
    table = pz.RULES[("mup", "adam")]
    assert table["input"].lr == powers(0)
    assert table["hidden"].lr == powers(-1)
    assert table["output"].lr == powers(-1)
    assert [table[k].variance for k in pz.LAYERS] == [powers(-1), powers(-1), powers(-2)]


def test_mup_table9_multipliers():
    """Table 9: var 1/fan_out, 1/fan_in, 1/fan_in; multipliers sqrt(fan_out), 1, 1/sqrt(fan_in);
    SGD LR 1 everywhere; Adam LR 1/sqrt(fan_out), 1/fan_in, 1/sqrt(fan_in)."""
    sgd, adam = pz.RULES[("mup_multipliers", "sgd")], pz.RULES[("mup_multipliers", "adam")]
    assert sgd["input"] == pz.Rule(powers(0, -1), powers(0, F(1, 2)), powers(0))
    assert sgd["hidden"] == pz.Rule(powers(-1), powers(0), powers(0))
    assert sgd["output"] == pz.Rule(powers(-1), powers(F(-1, 2)), powers(0))
    assert adam["input"].lr == powers(0, F(-1, 2))
    assert adam["hidden"].lr == powers(-1)
    assert adam["output"].lr == powers(F(-1, 2))


def test_sp_and_ntk():
    for optimizer in pz.OPTIMIZERS:
        for layer in pz.LAYERS:
            assert pz.rule("sp", layer, optimizer) == pz.Rule(powers(-1), powers(0), powers(0))
            assert pz.rule("ntk", layer, optimizer) == pz.Rule(powers(0), powers(F(-1, 2)), powers(0))


WIDTH_EXPONENTS = {  # {layer: (variance, lr)} as powers of the width n, after folding the multipliers
    ("sp", "sgd"): {"input": (0, 0), "hidden": (-1, 0), "output": (-1, 0)},
    ("ntk", "sgd"): {"input": (0, 0), "hidden": (-1, -1), "output": (-1, -1)},
    ("mup", "sgd"): {"input": (0, 1), "hidden": (-1, 0), "output": (-2, -1)},
    ("sp", "adam"): {"input": (0, 0), "hidden": (-1, 0), "output": (-1, 0)},
    ("ntk", "adam"): {"input": (0, 0), "hidden": (-1, F(-1, 2)), "output": (-1, F(-1, 2))},
    ("mup", "adam"): {"input": (0, 0), "hidden": (-1, -1), "output": (-2, -1)},
}


@pytest.mark.parametrize("key", sorted(WIDTH_EXPONENTS))
def test_width_exponents(key):
    assert pz.width_exponents(*key) == {k: tuple(F(v) for v in vals) for k, vals in WIDTH_EXPONENTS[key].items()}


@pytest.mark.parametrize("optimizer", pz.OPTIMIZERS)
def test_three_forms_of_mup_agree(optimizer):
    base = pz.width_exponents("mup", optimizer)
    assert pz.width_exponents("mup_multipliers", optimizer) == base
    assert pz.width_exponents("mup_readout", optimizer) == base


def test_effective_rule_folds_multiplier():
    # NTK: m = fan_in^(-1/2): SGD lr fan_in^-1, Adam lr fan_in^(-1/2), variance fan_in^-1
    assert pz.effective_rule("ntk", "hidden", "sgd") == (powers(-1), powers(-1))
    assert pz.effective_rule("ntk", "hidden", "adam") == (powers(-1), powers(F(-1, 2)))


# ------------------------------------------------------------------------------------------------
# Numbers from the tables


def test_effective_variance_and_lr_values():
    assert pz.effective_variance("mup", "output", 512, 1) == pytest.approx(1 / 512**2)
    assert pz.effective_variance("mup", "output", 512, 1, base_width=64) == pytest.approx(64 / 512**2)
    assert pz.effective_variance("sp", "hidden", 300, 300) == pytest.approx(1 / 300)
    assert pz.learning_rate("mup", "input", 8, 512) == pytest.approx(512)
    assert pz.learning_rate("mup", "input", 8, 512, base_width=64) == pytest.approx(8)
    assert pz.learning_rate("ntk", "output", 256, 1, base_width=64) == pytest.approx(0.25)


@pytest.mark.parametrize("name", ["sp", "ntk", "mup", "mup_multipliers", "mup_readout"])
def test_scales_agree_with_sp_at_base_width(name):
    std, lr = pz.scales(name, [8, 64, 64, 1], base_width=64)
    np.testing.assert_allclose(std, 1.0)
    np.testing.assert_allclose(lr, 1.0)


def test_scales_mup_sgd():
    std, lr = pz.scales("mup", [8, 256, 256, 1], base_width=64)
    np.testing.assert_allclose(std, [1, 1, 0.5])
    np.testing.assert_allclose(lr, [4, 1, 0.25])


# ------------------------------------------------------------------------------------------------
# The initializer contract


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_initializer_contract(dtype):
    init = pz.initializer("mup", "hidden")
    one = init((16, 32), rng=0, dtype=dtype)
    many = init((16, 32), rng=1, copies=3, dtype=dtype)
    assert one.shape == (16, 32) and many.shape == (3, 16, 32)
    assert one.dtype == dtype and many.dtype == dtype
    assert not np.allclose(many[0], many[1])                         # independent copies
    np.testing.assert_array_equal(init((16, 32), rng=5), init((16, 32), rng=5))


@pytest.mark.parametrize("name, layer, shape, variance", [
    ("mup", "output", (1, 400), 1 / 400**2),
    ("mup", "hidden", (400, 400), 1 / 400),
    ("sp", "output", (1, 400), 1 / 400),
    ("ntk", "input", (400, 10), 1 / 10),
    ("mup_readout", "output", (1, 400), 1 / 400**2),
])
def test_initializer_variance(name, layer, shape, variance):
    w = pz.initializer(name, layer)(shape, rng=3, copies=200)
    sample_var = np.mean(w**2)
    rel_se = np.sqrt(2 / w.size)
    assert abs(sample_var / variance - 1) < 6 * rel_se


def test_initializers_per_layer():
    inits = pz.initializers("mup", 4)
    assert [i.__name__ for i in inits] == ["mup_input", "mup_hidden", "mup_hidden", "mup_output"]


# ------------------------------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize("call", [
    lambda: pz.rule("mu_p", "hidden"),
    lambda: pz.rule("mup", "middle"),
    lambda: pz.rule("mup", "hidden", "rmsprop"),
    lambda: pz.effective_variance("mup", "output", 0, 1),
    lambda: pz.learning_rate("mup", "output", 64, 1, base_width=-3),
    lambda: pz.scales("sp", [8, 64]),
    lambda: pz.layer_kinds(1),
    lambda: pz.initializer("mup", "hidden", base_width=0),
    lambda: pz.teacher_task(0, 2, 1, 4),
    lambda: pz.log_slopes([1, 2], [1.0, -1.0]),
    lambda: pz.log_slopes([1, 2, 4], [1.0, 2.0]),
    lambda: pz.width_sweep([8, 16], [pz.variant("sp")], [0.1], steps=1, copies=2, optimizer="adam", kernel=True),
    lambda: pz.width_sweep([8, 16], [pz.variant("sp")], [-0.1], steps=1, copies=2),
    lambda: pz.width_sweep([8, 16], [], [0.1], steps=1, copies=2),
    lambda: pz.variant("sgd"),
])
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()


def test_sgd_rejects_bad_tables():
    rng = np.random.default_rng(0)
    w = [rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 1, 5))]
    x, y = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 4, 1))
    with pytest.raises(ValueError, match="one value per layer"):
        pz.sgd(w, x, y, [0.1, 0.1, 0.1], 1)
    with pytest.raises(ValueError, match="non-negative"):
        pz.sgd(w, x, y, [0.1, -0.1], 1)
    with pytest.raises(ValueError, match="inputs"):
        pz.sgd(w, x[:, :, :2], y, [0.1, 0.1], 1)
    with pytest.raises(ValueError, match="targets"):
        pz.sgd(w, x, y[:, :3], [0.1, 0.1], 1)


# ------------------------------------------------------------------------------------------------
# The trainers against plain loops


def _relu(x):
    return np.maximum(x, 0)


def _plain_step(ws, x, y, lrs, f0=None):
    """One full-batch gradient step on one network (float64), the loss of pz.sgd."""
    inp, cache = x, []
    for l, w in enumerate(ws):
        h = inp @ w.T
        cache.append((inp, h))
        inp = h if l == len(ws) - 1 else _relu(h)
    r = inp - y - (0 if f0 is None else f0)
    delta = r / x.shape[0]
    grads = [None] * len(ws)
    for l in reversed(range(len(ws))):
        inp_l, h = cache[l]
        if l < len(ws) - 1:
            delta = delta * (h > 0)
        grads[l] = delta.T @ inp_l
        delta = delta @ ws[l]
    return [w - lr * g for w, lr, g in zip(ws, lrs, grads)], [h for _, h in cache], inp


@pytest.mark.parametrize("center", [False, True])
def test_sgd_matches_plain_gradient_descent(center):
    rng = np.random.default_rng(1)
    c, B, d, n = 2, 5, 4, 7
    w0 = [rng.standard_normal((c, n, d)) / 2, rng.standard_normal((c, n, n)) / np.sqrt(n),
          rng.standard_normal((c, 1, n)) / np.sqrt(n)]
    x, y = rng.standard_normal((c, B, d)), rng.standard_normal((c, B, 1))
    std = np.array([[1, 1, 1], [1, 0.5, 0.3]])
    lrs = np.array([[0.1, 0.2, 0.3], [0.5, 0.1, 0.05]])
    run = pz.sgd(w0, x, y, lrs, 3, std=std, center=center)
    for k in range(c):
        for g in range(2):
            ws = [s * w[k] for s, w in zip(std[g], w0)]
            f0 = None
            for t in range(4):
                new, pre, out = _plain_step(ws, x[k], y[k], lrs[g], f0)
                if center and t == 0:
                    f0 = out
                    new, pre, out = _plain_step(ws, x[k], y[k], lrs[g], f0)
                for l in range(3):
                    np.testing.assert_allclose(run.pre[t][l][k, g], pre[l], rtol=1e-10, atol=1e-12)
                ws = new


def test_adam_matches_plain_adam():
    rng = np.random.default_rng(2)
    w0 = [rng.standard_normal((1, 6, 3)), rng.standard_normal((1, 1, 6)) / 3]
    x, y = rng.standard_normal((1, 4, 3)), rng.standard_normal((1, 4, 1))
    lrs = np.array([0.01, 0.02])
    run = pz.adam([w.copy() for w in w0], x, y, lrs, 3)
    ws = [w[0].copy() for w in w0]
    m = [np.zeros_like(w) for w in ws]
    v = [np.zeros_like(w) for w in ws]
    for t in range(1, 4):
        new, pre, _ = _plain_step(ws, x[0], y[0], [1.0, 1.0])
        for l in range(2):
            np.testing.assert_allclose(run.pre[t - 1][l][0, 0], pre[l], rtol=1e-10)
            grad = ws[l] - new[l]
            m[l] = 0.9 * m[l] + 0.1 * grad
            v[l] = 0.999 * v[l] + 0.001 * grad**2
            ws[l] = ws[l] - lrs[l] * (m[l] / (1 - 0.9**t)) / (np.sqrt(v[l] / (1 - 0.999**t)) + 1e-8)


def test_step_kernel_is_the_first_order_output_change():
    rng = np.random.default_rng(3)
    c, B, d, n = 2, 5, 4, 9
    w0 = [rng.standard_normal((c, n, d)) / 2, rng.standard_normal((c, n, n)) / np.sqrt(n),
          rng.standard_normal((c, 1, n)) / np.sqrt(n)]
    x, y = rng.standard_normal((c, B, d)), rng.standard_normal((c, B, 1))
    lrs, std = np.array([[0.3, 1.0, 0.2]]), np.array([[1.0, 0.7, 1.3]])
    kernel = pz.step_kernel(w0, x, lrs, std=std)
    eta = 1e-7
    run = pz.sgd(w0, x, y, lrs * eta, 1, std=std, center=False)
    f0, f1 = run.pre[0][-1][..., 0], run.pre[1][-1][..., 0]
    predicted = -np.einsum("cgab,cgb->cga", kernel, f0 - y[:, None, :, 0]) / B
    np.testing.assert_allclose((f1 - f0) / eta, predicted, rtol=1e-4, atol=1e-8)


def test_best_one_step_lr():
    assert pz.best_one_step_lr(np.array([[3.0]]), np.array([2.0])) == pytest.approx(1 / 3)
    kernel = np.diag([1.0, 2.0])
    r = np.array([1.0, 1.0])
    assert pz.best_one_step_lr(kernel, r) == pytest.approx(2 * 3 / 5)


def test_nested_networks_share_weights():
    nets = pz.nested_networks([8, 32], d=3, copies=2, rng=4, dtype=np.float64)
    small, big = nets[8], nets[32]
    np.testing.assert_allclose(small[0], big[0][:, :8])
    np.testing.assert_allclose(small[1], big[1][:, :8, :8] * 2)        # sqrt(32 / 8)
    np.testing.assert_allclose(small[2], big[2][:, :, :8] * 2)
    assert [w.shape for w in small] == [(2, 8, 3), (2, 8, 8), (2, 1, 8)]


def test_log_slopes():
    widths = [16, 32, 64]
    values = np.array([[1.0, 2.0, 4.0], [4.0, 2.0, 1.0]])
    np.testing.assert_allclose(pz.log_slopes(widths, values), [1.0, -1.0])


def test_width_sweep_shapes_and_zero_readout():
    out = pz.width_sweep([8, 16], [pz.variant("mup", "adam", base_width=8, zero_readout=True)], [1e-3, 1e-2],
                         steps=2, copies=3, d=4, batch=5, optimizer="adam", rng=0)
    assert out["loss"].shape == (3, 1, 2, 2, 3)
    assert out["changes"].shape == (3, 1, 2, 2, 2, 3)
    assert np.all(out["changes"][:, :, :, :, 0, :2] == 0)            # no gradient reaches W_1, W_2 at step 1
    sgd_out = pz.width_sweep([8, 16], [pz.variant("sp"), pz.variant("mup", base_width=8)], [0.1], steps=1,
                             copies=2, d=4, batch=5, kernel=True, rng=0)
    assert sgd_out["best_lr"].shape == (2, 2, 2)
    np.testing.assert_allclose(sgd_out["best_lr"][:, 0, 0], sgd_out["best_lr"][:, 1, 0])   # equal at the base width


def test_adam_rejects_bad_learning_rates():
    rng = np.random.default_rng(0)
    w = [rng.standard_normal((3, 5, 2)), rng.standard_normal((3, 1, 5))]
    x, y = rng.standard_normal((3, 4, 2)), rng.standard_normal((3, 4, 1))
    with pytest.raises(ValueError, match="one row per network"):
        pz.adam(w, x, y, np.full((2, 2), 0.1), 1)
    with pytest.raises(ValueError, match="non-negative"):
        pz.adam(w, x, y, [0.1, -1.0], 1)
    with pytest.raises(ValueError, match="betas"):
        pz.adam(w, x, y, [0.1, 0.1], 1, betas=(1.0, 0.999))
