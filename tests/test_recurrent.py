"""The LSTM cell at initialization (initcore.recurrent): shapes, the cell-path gradient, the forget
rate at zero and at random weights, chrono biases, and clear errors for bad input."""
import math

import numpy as np
import pytest

import initcore as ic
from initcore import recurrent
from initcore.activations import _sigmoid


def zeros(shape, rng=None, copies=None, dtype=np.float64):
    return np.zeros(((copies,) if copies else ()) + tuple(shape), dtype=dtype)


def test_shapes_and_gates():
    run = recurrent.lstm_forward(5, 7, input_size=3, copies=2, batch=4, burn_in=2, rng=0)
    assert run.pre.shape == (2, 7, 4, 20) and run.cells.shape == (2, 8, 4, 5) and run.hidden.shape == (2, 8, 4, 5)
    assert run.recurrent.shape == (2, 20, 5) and run.output0.shape == (2, 4, 5)
    assert run.steps == 7 and run.hidden_size == 5
    for name in recurrent.GATES:
        values = run.gate(name)
        assert values.shape == (2, 7, 4, 5)
        low = -1 if name == "cell" else 0
        assert np.all(values > low) and np.all(values < 1)
    assert np.allclose(run.hidden[:, 1:], run.gate("output") * np.tanh(run.cells[:, 1:]))
    fresh = recurrent.lstm_forward(5, 3, copies=1, rng=0)
    assert np.all(fresh.cells[:, 0] == 0) and np.all(fresh.output0 == 0)
    with pytest.raises(ValueError, match="gate"):
        run.gate("reset")


@pytest.mark.parametrize("b_f", [-1.0, 0.0, 1.0, math.log(99)])
def test_at_zero_weights_the_rate_is_exactly_log_sigmoid_of_the_bias(b_f):
    run = recurrent.lstm_forward(4, 6, forget_bias=b_f, kernel=zeros, recurrent=zeros, copies=3, batch=2, rng=1)
    assert np.allclose(run.gate("forget"), _sigmoid(b_f), rtol=1e-15)
    expected = -math.log1p(math.exp(-b_f))                       # log sigmoid(b_f)
    assert np.allclose(recurrent.forget_rate(run), expected, rtol=1e-14)
    assert recurrent.log_forget_rate(b_f) == pytest.approx(expected, rel=1e-13)
    assert recurrent.memory_time(b_f) == pytest.approx(-1 / expected, rel=1e-13)


def test_per_unit_biases_and_chrono():
    b = recurrent.chrono_bias(50, size=8, rng=2)
    assert b.shape == (8,) and np.all(b >= 0) and np.all(b <= math.log(49))
    run = recurrent.lstm_forward(8, 3, forget_bias=b, input_bias=-b, kernel=zeros, recurrent=zeros, copies=1, rng=2)
    assert np.allclose(run.gate("forget") + run.gate("input"), 1.0)       # sigma(b) + sigma(-b) = 1
    assert np.isscalar(recurrent.chrono_bias(10, rng=2))


def test_cell_path_gradient_is_the_product_of_forget_gates():
    run = recurrent.lstm_forward(6, 9, copies=2, batch=3, burn_in=4, rng=3)
    grads = recurrent.cell_gradients(run, grad_out=np.ones(1))
    assert grads.shape == (2, 10, 3, 6) and grads.dtype == np.float64
    f = run.gate("forget")
    expected = np.concatenate([np.cumprod(f[:, ::-1], axis=1)[:, ::-1], np.ones((2, 1, 3, 6))], axis=1)
    assert np.allclose(grads, expected, rtol=1e-12)
    log_ratio = np.mean(np.log(grads[:, 0] / grads[:, -1]), axis=(1, 2)) / run.steps
    assert np.allclose(log_ratio, recurrent.forget_rate(run), rtol=1e-12)
    norms = recurrent.log_gradient_norms(grads)
    assert norms.shape == (2, 10) and np.all(norms[:, -1] == 0)


def test_full_gradient_matches_finite_differences():
    run = recurrent.lstm_forward(4, 5, input_size=3, copies=1, batch=2, burn_in=3, rng=4,
                                 kernel=ic.scaled(ic.glorot_uniform, 2.0), recurrent=ic.scaled(ic.orthogonal, 2.0))
    u = run.recurrent[0]
    n = run.hidden_size
    outside = run.pre[0] - np.einsum("tbk,jk->tbj", run.hidden[0, :-1], u)     # W x_t + b, step by step
    w = np.random.default_rng(5).standard_normal((2, 4))

    def loss(c0):
        c, h = c0, run.output0[0] * np.tanh(c0)
        for t in range(run.steps):
            a = outside[t] + h @ u.T
            i, f, o = _sigmoid(a[:, :n]), _sigmoid(a[:, n:2 * n]), _sigmoid(a[:, 3 * n:])
            c = f * c + i * np.tanh(a[:, 2 * n:3 * n])
            h = o * np.tanh(c)
        return np.sum(w * c)

    c0 = run.cells[0, 0]
    assert loss(c0) == pytest.approx(np.sum(w * run.cells[0, -1]), rel=1e-12)
    numeric = np.zeros_like(c0)
    eps = 1e-6
    for index in np.ndindex(c0.shape):
        up, down = c0.copy(), c0.copy()
        up[index] += eps
        down[index] -= eps
        numeric[index] = (loss(up) - loss(down)) / (2 * eps)
    full = recurrent.cell_gradients(run, through_hidden=True, grad_out=w[None])[0, 0]
    assert np.allclose(full, numeric, rtol=1e-6, atol=1e-9)
    cell_only = recurrent.cell_gradients(run, grad_out=w[None])[0, 0]
    assert not np.allclose(cell_only, numeric, rtol=1e-3)


def test_log_forget_rate_with_noise():
    assert recurrent.log_forget_rate(1.0, 0.4) < recurrent.log_forget_rate(1.0)        # Jensen: log sigmoid is concave
    rng = np.random.default_rng(6)
    z = rng.standard_normal(400_000)
    sample = np.mean(-np.logaddexp(0, -(1.0 + math.sqrt(0.4) * z)))
    assert recurrent.log_forget_rate(1.0, 0.4) == pytest.approx(sample, abs=3e-3)
    grid = recurrent.log_forget_rate(np.array([0.0, 2.0]), np.array([0.1, 0.2]))
    assert grid.shape == (2,) and np.all(grid < 0)
    # large bias: E[log sigmoid(b + sqrt(v) Z)] ~ -exp(-b + v/2)
    assert recurrent.log_forget_rate(8.0, 0.5) == pytest.approx(-math.exp(-8.0 + 0.25), rel=1e-3)
    with pytest.raises(ValueError, match="variance"):
        recurrent.log_forget_rate(1.0, -0.1)


def test_mean_field_and_simulation_agree_on_the_rate():
    n = 64
    field = recurrent.lstm_mean_field(1.0, 0.0, 2 * n / (n + 4 * n), 0.25)
    assert field["v"] == pytest.approx(0.4 + 0.25 * field["q_h"]) and 0 < field["q_h"] < field["q_c"] < 1
    run = recurrent.lstm_forward(n, 30, forget_bias=1.0, copies=8, batch=4, burn_in=20, rng=7)
    assert recurrent.forget_rate(run).mean() == pytest.approx(recurrent.log_forget_rate(1.0, field["v"]), abs=2e-3)
    assert recurrent.lstm_mean_field(2.0, input_scale=0.3, recurrent_scale=0.0)["v"] == pytest.approx(0.3)


@pytest.mark.parametrize("kwargs, match", [
    ({"hidden_size": 0}, "hidden_size"),
    ({"steps": 0}, "steps"),
    ({"input_size": 0}, "input_size"),
    ({"copies": 0}, "copies"),
    ({"batch": 0}, "batch"),
    ({"burn_in": -1}, "burn_in"),
    ({"forget_bias": np.ones(3)}, "forget_bias"),
    ({"input_bias": float("nan")}, "input_bias"),
    ({"kernel": "glorot"}, "initializers"),
    ({"inputs": np.zeros(3)}, "inputs"),
    ({"inputs": lambda rng, c, b, m: np.zeros((c, m))}, "inputs"),
])
def test_bad_arguments_are_refused(kwargs, match):
    args = {"hidden_size": 4, "steps": 3}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        recurrent.lstm_forward(args.pop("hidden_size"), args.pop("steps"), rng=0, **args)


def test_other_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="t_max"):
        recurrent.chrono_bias(2)
    with pytest.raises(ValueError, match="LSTMRun"):
        recurrent.cell_gradients(np.zeros(3))
    with pytest.raises(ValueError, match="input_scale"):
        recurrent.lstm_mean_field(1.0, input_scale=-1.0)
    with pytest.raises(ValueError, match="forget_bias"):
        recurrent.lstm_mean_field(float("inf"))
