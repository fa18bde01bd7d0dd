"""The LSTM cell at initialization: gates, memory, and how fast the gradient along the cell forgets.

An LSTM cell with hidden size ``n`` and input size ``m`` computes, at every step ``t``,

    a_t = W x_t + U h_(t-1) + b                  (4n pre-activations, PyTorch's gate order i, f, g, o)
    i_t = sigmoid(a^i), f_t = sigmoid(a^f), g_t = tanh(a^g), o_t = sigmoid(a^o)
    c_t = f_t * c_(t-1) + i_t * g_t,   h_t = o_t * tanh(c_t)

with ``W`` of torch shape ``(4n, m)`` and ``U`` of shape ``(4n, n)``. Along the cell state alone
(the path of Gers et al.'s truncated gradient, the "constant error carousel") the gradient is
multiplied by the forget gate at every step, ``dc_t / dc_(t-1) = diag(f_t)``, so after ``T``
steps it has been multiplied by the product of ``T`` forget gates: its log decays at the rate
``E[log f_t]`` per step. With zero weights ``f_t = sigmoid(b_f)`` exactly; with random weights
the forget pre-activation is ``b_f`` plus a centred Gaussian of variance ``v``, and the rate is
``E[log sigmoid(b_f + sqrt(v) Z)]`` (:func:`log_forget_rate`), below ``log sigmoid(b_f)``.

:func:`lstm_forward` runs ``copies`` independent cells (independent weights and inputs) at once,
:func:`cell_gradients` back-propagates a gradient injected at the last cell state, along the cell
path alone or through the hidden state too, :func:`forget_rate` is the per-cell mean of
``log f_t``, and :func:`lstm_mean_field` the stationary second moments that give ``v``.
"""
import math
from dataclasses import dataclass
from numbers import Real

import numpy as np

from .activations import _sigmoid
from .meanfield import gaussian_quadrature
from .schemes import glorot_uniform, int_at_least, orthogonal
from .seeding import as_generator

#: PyTorch's order of the four gates in the stacked weights and biases.
GATES = ("input", "forget", "cell", "output")


@dataclass(frozen=True)
class LSTMRun:
    """``copies`` LSTM cells after ``steps`` steps, each on ``batch`` input sequences.

    ``pre``: the gate pre-activations, shape ``(c, steps, batch, 4n)`` (gate order of
    :data:`GATES`); ``cells`` and ``hidden``: ``c_t`` and ``h_t`` for ``t = 0..steps``, shape
    ``(c, steps + 1, batch, n)`` (``t = 0`` is the state after the burn-in, zero without one);
    ``recurrent``: ``U``, shape ``(c, 4n, n)``; ``output0``: the output gate that made ``h_0``
    (zero without a burn-in, where ``h_0 = 0`` does not depend on ``c_0``).
    """

    pre: np.ndarray
    cells: np.ndarray
    hidden: np.ndarray
    recurrent: np.ndarray
    output0: np.ndarray

    @property
    def hidden_size(self):
        return self.cells.shape[-1]

    @property
    def steps(self):
        return self.pre.shape[1]

    def gate(self, name):
        """The values of one gate (a name of :data:`GATES`), shape ``(c, steps, batch, n)``."""
        if name not in GATES:
            raise ValueError(f"unknown gate {name!r}: use one of {GATES}")
        k, n = GATES.index(name), self.hidden_size
        a = self.pre[..., k * n:(k + 1) * n]
        return np.tanh(a) if name == "cell" else _sigmoid(a)


def _bias(value, name, n):
    """A gate bias: a number, or an array of ``n`` values (one per unit)."""
    b = np.asarray(value, dtype=float)
    if b.ndim == 0:
        b = np.full(n, float(b))
    if b.shape != (n,) or not np.all(np.isfinite(b)):
        raise ValueError(f"{name} must be a finite number or {n} finite numbers (one per unit), got {value!r}")
    return b


def lstm_forward(hidden_size, steps, *, input_size=None, forget_bias=1.0, input_bias=0.0, kernel=glorot_uniform,
                 recurrent=orthogonal, copies=1, batch=1, burn_in=0, inputs=None, rng=None, dtype=np.float64):
    """Run ``copies`` independent LSTM cells for ``burn_in + steps`` steps; keep the last ``steps``.

    Weights: ``kernel((4n, m), rng=, copies=, dtype=)`` for ``W`` and ``recurrent((4n, n), ...)``
    for ``U`` (defaults: Keras's ``glorot_uniform`` and ``orthogonal``); biases zero except
    ``forget_bias`` and ``input_bias`` (numbers or arrays of ``n``, e.g. chrono initialization's
    ``log(U(1, T_max - 1))`` and its negative). ``input_size`` defaults to ``hidden_size``.
    ``inputs``: ``None`` (independent standard normal ``x_t`` at every step) or a function
    ``inputs(rng, copies, batch, m)`` called once per step. The state starts at zero.
    """
    n = int_at_least(hidden_size, "hidden_size")
    steps = int_at_least(steps, "steps")
    m = n if input_size is None else int_at_least(input_size, "input_size")
    copies = int_at_least(copies, "copies (the number of independent cells)")
    batch = int_at_least(batch, "batch (the input sequences per cell)")
    burn_in = int_at_least(burn_in, "burn_in", least=0)
    if not (callable(kernel) and callable(recurrent)):
        raise ValueError("kernel and recurrent must be initializers f(shape, rng=, copies=, dtype=)")
    if inputs is not None and not callable(inputs):
        raise ValueError("inputs must be None (standard normal) or a function inputs(rng, copies, batch, m)")
    b = np.zeros(4 * n)
    b[:n] = _bias(input_bias, "input_bias", n)
    b[n:2 * n] = _bias(forget_bias, "forget_bias", n)
    b = b.astype(dtype)
    gen = as_generator(rng)
    w = np.asarray(kernel((4 * n, m), rng=gen, copies=copies, dtype=dtype), dtype=dtype)
    u = np.asarray(recurrent((4 * n, n), rng=gen, copies=copies, dtype=dtype), dtype=dtype)
    if w.shape != (copies, 4 * n, m) or u.shape != (copies, 4 * n, n):
        raise ValueError(f"the initializers returned shapes {w.shape} and {u.shape}, expected "
                         f"{(copies, 4 * n, m)} and {(copies, 4 * n, n)}")
    wt, ut = np.swapaxes(w, -1, -2), np.swapaxes(u, -1, -2)
    c = np.zeros((copies, batch, n), dtype=dtype)
    h = np.zeros((copies, batch, n), dtype=dtype)
    pre, cells, hidden = [], [], []
    o = np.zeros((copies, batch, n), dtype=dtype)
    for t in range(burn_in + steps):
        if t == burn_in:
            cells.append(c)
            hidden.append(h)
            output0 = o
        if inputs is None:
            x = gen.standard_normal((copies, batch, m), dtype=dtype)
        else:
            x = np.asarray(inputs(gen, copies, batch, m), dtype=dtype)
            if x.shape != (copies, batch, m):
                raise ValueError(f"inputs must return shape {(copies, batch, m)}, got {x.shape}")
        a = np.matmul(x, wt) + np.matmul(h, ut) + b
        i, f, o = _sigmoid(a[..., :n]), _sigmoid(a[..., n:2 * n]), _sigmoid(a[..., 3 * n:])
        c = f * c + i * np.tanh(a[..., 2 * n:3 * n])
        h = o * np.tanh(c)
        if t >= burn_in:
            pre.append(a)
            cells.append(c)
            hidden.append(h)
    return LSTMRun(np.stack(pre, axis=1), np.stack(cells, axis=1), np.stack(hidden, axis=1), u, output0)


def cell_gradients(run, through_hidden=False, grad_out=None, rng=None):
    """dL/dc_t for ``t = 0..steps``, shape ``(c, steps + 1, batch, n)``, for L with dL/dc_T = ``grad_out``.

    The gradient is injected at the last cell state (``grad_out``: standard normal when ``None``;
    dL/dh_T = 0) and carried back. ``through_hidden=False`` follows the cell path alone,
    dL/dc_(t-1) = f_t dL/dc_t; ``True`` adds the path through h_(t-1) = o_(t-1) tanh(c_(t-1)) and
    the four gates of step t (the full gradient of back-propagation through time).
    """
    if not isinstance(run, LSTMRun):
        raise ValueError(f"run must be an LSTMRun from lstm_forward, got {type(run).__name__}")
    n, steps = run.hidden_size, run.steps
    shape = run.cells.shape[:1] + run.cells.shape[2:]
    if grad_out is None:
        total = as_generator(rng).standard_normal(shape)
    else:
        total = np.broadcast_to(np.asarray(grad_out, dtype=np.float64), shape).copy()
    out = [total]
    d_hidden = np.zeros_like(total)                      # dL/dh_t from the steps after t
    for t in range(steps, 0, -1):
        a = run.pre[:, t - 1]
        f = _sigmoid(a[..., n:2 * n])
        direct = total * f
        if through_hidden:
            i, o, g = _sigmoid(a[..., :n]), _sigmoid(a[..., 3 * n:]), np.tanh(a[..., 2 * n:3 * n])
            tc = np.tanh(run.cells[:, t])
            d_pre = np.concatenate([total * g * i * (1 - i), total * run.cells[:, t - 1] * f * (1 - f),
                                    total * i * (1 - g * g), d_hidden * tc * o * (1 - o)], axis=-1)
            d_hidden = np.matmul(d_pre, run.recurrent)                  # a = ... + h U^T
            o_prev = run.output0 if t == 1 else _sigmoid(run.pre[:, t - 2, :, 3 * n:])
            tc_prev = np.tanh(run.cells[:, t - 1])
            direct = direct + d_hidden * o_prev * (1 - tc_prev * tc_prev)
        total = direct
        out.append(total)
    return np.stack(out[::-1], axis=1)


def log_gradient_norms(grads):
    """Per cell: ``log`` of the mean squared gradient at each step over the batch and units, halved (a log
    norm), relative to the last step; shape ``(c, steps + 1)``, zero at the last step."""
    ms = np.mean(np.square(grads), axis=(2, 3), dtype=np.float64)
    return 0.5 * (np.log(ms) - np.log(ms[:, -1:]))


def forget_rate(run):
    """Per cell: the mean of ``log f_t`` over the steps, the batch and the units, shape ``(c,)``.

    It is the per-step rate at which the log of the cell-path gradient decays:
    ``log |dL/dc_0| - log |dL/dc_T| = sum_t log f_t`` unit by unit.
    """
    n = run.hidden_size
    a = run.pre[..., n:2 * n]
    return np.mean(-np.logaddexp(0.0, -a), axis=(1, 2, 3), dtype=np.float64)   # log sigmoid(a)


def log_forget_rate(forget_bias, variance=0.0):
    """``E[log sigmoid(b + sqrt(v) Z)]``, Z standard normal, by quadrature (elementwise over arrays).

    At ``variance = 0`` it is ``log sigmoid(b)``; a positive variance lowers it (log sigmoid is
    concave), so the memory is shorter than the bias alone says.
    """
    b = np.asarray(forget_bias, dtype=float)
    v = np.asarray(variance, dtype=float)
    if np.any(v < 0) or not np.all(np.isfinite(v)) or not np.all(np.isfinite(b)):
        raise ValueError(f"need finite biases and variances >= 0, got {forget_bias!r}, {variance!r}")
    b, v = np.broadcast_arrays(b, v)
    out = np.array([gaussian_quadrature(lambda x, bb=bb: -np.logaddexp(0.0, -(bb + x)), vv)
                    for bb, vv in zip(b.ravel(), v.ravel())]).reshape(b.shape)
    return float(out) if out.ndim == 0 else out


def memory_time(forget_bias, variance=0.0):
    """The steps over which the cell-path gradient shrinks by the factor e: ``-1 / E[log f]``."""
    return -1.0 / np.asarray(log_forget_rate(forget_bias, variance))


def chrono_bias(t_max, size=None, rng=None):
    """Chrono initialization (Tallec & Ollivier 2018): forget biases ``log(U)``, ``U ~ U(1, t_max - 1)``.

    The input biases are their negatives. ``size=None`` returns one draw, else an array.
    """
    if isinstance(t_max, bool) or not isinstance(t_max, Real) or not t_max > 2:
        raise ValueError(f"t_max must be a number greater than 2 (U(1, t_max - 1) must be an interval), got {t_max!r}")
    return np.log(as_generator(rng).uniform(1.0, float(t_max) - 1.0, size=size))


def lstm_mean_field(forget_bias, input_bias=0.0, input_scale=1.0, recurrent_scale=1.0, tol=1e-12, max_iter=200):
    """Stationary second moments of a wide LSTM cell at initialization, by quadrature.

    Every gate pre-activation is its bias plus a centred Gaussian of variance
    ``v = input_scale + recurrent_scale * q_h``, with ``input_scale = m Var[W] E[x^2]`` and
    ``recurrent_scale = n Var[U]``; gates are taken independent of each other and of the state.
    Then ``E[c] = 0`` (g is odd and centred), ``q_c = E[i^2] E[g^2] / (1 - E[f^2])`` and
    ``q_h = E[o^2] E[tanh(c)^2]`` with c Gaussian of second moment ``q_c``, iterated to a fixed
    point from ``q_h = 0``. Returns ``{"v": v, "q_c": q_c, "q_h": q_h}``. These are
    approximations (the cell state is a Gaussian mixture, not a Gaussian); ``q_h`` enters ``v``
    multiplied by ``recurrent_scale``, which is small for the usual initializations.
    """
    for name, value in (("forget_bias", forget_bias), ("input_bias", input_bias)):
        if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
    for name, value in (("input_scale", input_scale), ("recurrent_scale", recurrent_scale)):
        if isinstance(value, bool) or not isinstance(value, Real) or not value >= 0:
            raise ValueError(f"{name} must be a number >= 0, got {value!r}")
    q_h = 0.0
    for _ in range(int(max_iter)):
        v = input_scale + recurrent_scale * q_h
        f2 = gaussian_quadrature(lambda x: _sigmoid(forget_bias + x) ** 2, v)
        i2 = gaussian_quadrature(lambda x: _sigmoid(input_bias + x) ** 2, v)
        g2 = gaussian_quadrature(lambda x: np.tanh(x) ** 2, v)
        o2 = gaussian_quadrature(lambda x: _sigmoid(x) ** 2, v)
        q_c = i2 * g2 / (1.0 - f2)
        new = o2 * gaussian_quadrature(lambda x: np.tanh(x) ** 2, q_c)
        if abs(new - q_h) <= tol:
            q_h = new
            break
        q_h = new
    v = input_scale + recurrent_scale * q_h
    return {"v": float(v), "q_c": float(q_c), "q_h": float(q_h)}


__all__ = ["GATES", "LSTMRun", "cell_gradients", "chrono_bias", "forget_rate", "log_forget_rate",
           "log_gradient_norms", "lstm_forward", "lstm_mean_field", "memory_time"]
