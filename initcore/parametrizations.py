"""Parametrizations of a multilayer perceptron: standard (SP), NTK and muP, as data and as code.

A parametrization says, for each kind of layer, three things as powers of the layer's fans: the
variance of the stored parameter at initialization, a constant *multiplier* applied to it in the
forward pass, and the learning rate the optimizer uses for it. :data:`RULES` holds them as the
papers write them, one table per parametrization and optimizer:

- ``"sp"``: variance ``1/fan_in`` everywhere, no multiplier, one global learning rate;
- ``"ntk"``: standard normal parameters times ``1/sqrt(fan_in)`` in the forward pass, one global
  learning rate (Jacot, Gabriel & Hongler 2018);
- ``"mup"``: Table 3 of Yang et al. (2022, *Tensor Programs V*): variance ``1/fan_in`` for the
  input and hidden weights and ``1/fan_in**2`` for the output weights; SGD learning rates
  ``fan_out`` (input), ``1`` (hidden), ``1/fan_in`` (output); Adam learning rates ``1``,
  ``1/fan_in``, ``1/fan_in``;
- ``"mup_multipliers"``: the same muP written with multipliers (their Table 9): input variance
  ``1/fan_out`` with multiplier ``sqrt(fan_out)``, output variance ``1/fan_in`` with multiplier
  ``1/sqrt(fan_in)``, SGD learning rate ``1`` everywhere, Adam ``1/sqrt(fan_out)``,
  ``1/fan_in``, ``1/sqrt(fan_in)``;
- ``"mup_readout"``: the form of the ``mup`` package (``MuReadout`` with ``MuSGD`` / ``MuAdam``):
  the output weights have a width-independent variance and a ``1/fan_in`` multiplier, with SGD
  learning rate ``fan_in`` and Adam learning rate ``1``.

A layer is ``"input"`` (fan_in fixed, fan_out the width), ``"hidden"`` (both the width) or
``"output"`` (fan_in the width, fan_out fixed). Only the *effective* weight ``multiplier x
parameter`` enters the network, so a multiplier ``m`` can be folded into the variance and the
learning rate (:func:`effective_rule`): for SGD the update of the effective weight is
``m**2`` times the learning rate times its gradient, for Adam (whose step does not depend on the
gradient's scale) ``m`` times the learning rate. The effective forms of the three muP tables agree
(``tests/test_parametrizations.py``).

The simulations of the chapter use the effective weights: :func:`initializer` draws them for one
layer (the :class:`~initcore.schemes.Initializer` contract), :func:`scales` gives every layer's
standard deviation and learning-rate factor relative to SP, :func:`nested_networks` draws networks
of several widths that share their weights, :func:`sgd` and :func:`adam` train stacks of them with
per-layer learning rates, and :func:`step_kernel` gives the one-step kernel that sets the largest
learning rate.
"""
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from . import activations, schemes
from .propagation import _check_widths
from .schemes import positive_int
from .seeding import as_generator

#: The kinds of layer of an MLP ``d -> n -> ... -> n -> k`` whose width n grows.
LAYERS = ("input", "hidden", "output")
OPTIMIZERS = ("sgd", "adam")


@dataclass(frozen=True)
class Rule:
    """One layer's rule: each entry is ``(a, b)``, meaning ``fan_in**a * fan_out**b``.

    ``variance``: the variance of the stored parameter at initialization; ``multiplier``: the
    constant it is multiplied by in the forward pass; ``lr``: its learning rate (times a global one).
    """

    variance: tuple
    multiplier: tuple
    lr: tuple


def _r(a, b=0):
    return (Fraction(a), Fraction(b))


_ONE = _r(0)
_SP_LAYER = Rule(_r(-1), _ONE, _ONE)
_NTK_LAYER = Rule(_ONE, _r(Fraction(-1, 2)), _ONE)

#: ``RULES[(parametrization, optimizer)][layer]``: the tables as their sources write them.
RULES = {
    ("sp", "sgd"): {layer: _SP_LAYER for layer in LAYERS},
    ("sp", "adam"): {layer: _SP_LAYER for layer in LAYERS},
    ("ntk", "sgd"): {layer: _NTK_LAYER for layer in LAYERS},
    ("ntk", "adam"): {layer: _NTK_LAYER for layer in LAYERS},
    # Yang et al. 2022, Table 3
    ("mup", "sgd"): {"input": Rule(_r(-1), _ONE, _r(0, 1)),
                     "hidden": Rule(_r(-1), _ONE, _ONE),
                     "output": Rule(_r(-2), _ONE, _r(-1))},
    ("mup", "adam"): {"input": Rule(_r(-1), _ONE, _ONE),
                      "hidden": Rule(_r(-1), _ONE, _r(-1)),
                      "output": Rule(_r(-2), _ONE, _r(-1))},
    # Yang et al. 2022, Table 9
    ("mup_multipliers", "sgd"): {"input": Rule(_r(0, -1), _r(0, Fraction(1, 2)), _ONE),
                                 "hidden": Rule(_r(-1), _ONE, _ONE),
                                 "output": Rule(_r(-1), _r(Fraction(-1, 2)), _ONE)},
    ("mup_multipliers", "adam"): {"input": Rule(_r(0, -1), _r(0, Fraction(1, 2)), _r(0, Fraction(-1, 2))),
                                  "hidden": Rule(_r(-1), _ONE, _r(-1)),
                                  "output": Rule(_r(-1), _r(Fraction(-1, 2)), _r(Fraction(-1, 2)))},
    # the mup package: MuReadout (1/width multiplier) with MuSGD / MuAdam
    ("mup_readout", "sgd"): {"input": Rule(_r(-1), _ONE, _r(0, 1)),
                             "hidden": Rule(_r(-1), _ONE, _ONE),
                             "output": Rule(_ONE, _r(-1), _r(1))},
    ("mup_readout", "adam"): {"input": Rule(_r(-1), _ONE, _ONE),
                              "hidden": Rule(_r(-1), _ONE, _r(-1)),
                              "output": Rule(_ONE, _r(-1), _ONE)},
}
PARAMETRIZATIONS = tuple(dict.fromkeys(p for p, _ in RULES))

#: Where each table comes from, as ``(source, table number or None)``.
SOURCES = {
    "sp": ("the default of the deep-learning frameworks (LeCun's variance, one learning rate)", None),
    "ntk": ("Jacot, Gabriel & Hongler (2018)", None),
    "mup": ("Yang et al. (2022), Tensor Programs V", 3),
    "mup_multipliers": ("Yang et al. (2022), Tensor Programs V", 9),
    "mup_readout": ("the mup package (MuReadout with MuSGD / MuAdam)", None),
}


def _choice(value, allowed, what):
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r}: choose one of {', '.join(allowed)}")
    return value


def rule(parametrization, layer, optimizer="sgd"):
    """The :class:`Rule` of one kind of layer, as its source table writes it."""
    _choice(parametrization, PARAMETRIZATIONS, "parametrization")
    _choice(layer, LAYERS, "layer")
    _choice(optimizer, OPTIMIZERS, "optimizer")
    return RULES[(parametrization, optimizer)][layer]


def effective_rule(parametrization, layer, optimizer="sgd"):
    """``(variance, lr)`` of the effective weight ``multiplier x parameter``, as ``(a, b)`` powers.

    A multiplier ``m`` multiplies the variance by ``m**2``; the step of the effective weight is
    ``m**2 x lr x gradient`` under SGD and ``m x lr x (a normalized gradient)`` under Adam.
    """
    r = rule(parametrization, layer, optimizer)
    times = 2 if optimizer == "sgd" else 1
    variance = tuple(v + 2 * m for v, m in zip(r.variance, r.multiplier))
    lr = tuple(v + times * m for v, m in zip(r.lr, r.multiplier))
    return variance, lr


def _width_power(powers, layer):
    """The exponent of the width n in ``fan_in**a fan_out**b`` for a layer of this kind."""
    a, b = powers
    return {"input": b, "hidden": a + b, "output": a}[layer]


def width_exponents(parametrization, optimizer="sgd"):
    """``{layer: (variance exponent, lr exponent)}``: the effective rules as powers of the width n.

    For the MLP ``d -> n -> ... -> n -> k`` with d and k fixed: a quantity ``fan_in**a fan_out**b``
    is ``n**b`` for the input layer, ``n**(a+b)`` for a hidden one and ``n**a`` for the output.
    """
    out = {}
    for layer in LAYERS:
        variance, lr = effective_rule(parametrization, layer, optimizer)
        out[layer] = (_width_power(variance, layer), _width_power(lr, layer))
    return out


def _fans_value(powers, fan_in, fan_out):
    a, b = powers
    return float(fan_in) ** float(a) * float(fan_out) ** float(b)


def layer_kinds(depth):
    """``["input", "hidden", ..., "output"]`` for an MLP of ``depth`` weight layers (at least 2)."""
    depth = positive_int(depth, "depth")
    if depth < 2:
        raise ValueError(f"an MLP with an input and an output layer needs depth >= 2, got {depth}")
    return ["input"] + ["hidden"] * (depth - 2) + ["output"]


def _base_fans(layer, fan_in, fan_out, base_width):
    return {"input": (fan_in, base_width), "hidden": (base_width, base_width),
            "output": (base_width, fan_out)}[layer]


def effective_variance(parametrization, layer, fan_in, fan_out, optimizer="sgd", base_width=None):
    """The variance of a layer's effective weights.

    Without ``base_width`` the table's formula itself (``1/fan_in**2`` for muP's output, say). With
    it, the formula is rescaled to agree with SP's ``1/fan_in`` at that width (the ``mup``
    package's "base shapes"): only the ratio to SP scales with the width.
    """
    variance, _ = effective_rule(parametrization, layer, optimizer)
    fan_in, fan_out = positive_int(fan_in, "fan_in"), positive_int(fan_out, "fan_out")
    value = _fans_value(variance, fan_in, fan_out)
    if base_width is not None:
        bi, bo = _base_fans(layer, fan_in, fan_out, positive_int(base_width, "base_width"))
        value *= (1.0 / bi) / _fans_value(variance, bi, bo)
    return value


def learning_rate(parametrization, layer, fan_in, fan_out, optimizer="sgd", base_width=None):
    """The factor that multiplies the global learning rate for a layer's effective weights.

    With ``base_width`` it is rescaled to 1 (SP's factor) at that width, as for
    :func:`effective_variance`.
    """
    _, lr = effective_rule(parametrization, layer, optimizer)
    fan_in, fan_out = positive_int(fan_in, "fan_in"), positive_int(fan_out, "fan_out")
    value = _fans_value(lr, fan_in, fan_out)
    if base_width is not None:
        bi, bo = _base_fans(layer, fan_in, fan_out, positive_int(base_width, "base_width"))
        value /= _fans_value(lr, bi, bo)
    return value


def _widths(widths):
    widths = _check_widths(widths)
    if len(widths) < 3:
        raise ValueError(f"widths [d, n, ..., n, k] need at least three entries (two layers), got {widths}")
    return widths


def scales(parametrization, widths, optimizer="sgd", base_width=None):
    """Per layer of the MLP ``widths = [d, n, ..., n, k]``: ``(std ratios, lr factors)`` to SP.

    ``std[l]`` multiplies an SP draw (variance ``1/fan_in``) to give this parametrization's effective
    weights, ``lr[l]`` multiplies the global learning rate: arrays of length ``len(widths) - 1``.
    """
    widths = _widths(widths)
    kinds = layer_kinds(len(widths) - 1)
    std, lr = [], []
    for kind, fan_in, fan_out in zip(kinds, widths, widths[1:]):
        var = effective_variance(parametrization, kind, fan_in, fan_out, optimizer, base_width)
        std.append(np.sqrt(var * fan_in))
        lr.append(learning_rate(parametrization, kind, fan_in, fan_out, optimizer, base_width))
    return np.array(std), np.array(lr)


def initializer(parametrization, layer, optimizer="sgd", base_width=None):
    """An initializer ``init(shape, rng=None, copies=None, dtype=np.float64)`` of a layer's effective
    weights: normal with :func:`effective_variance` for the fans of ``shape`` (torch layout)."""
    _choice(parametrization, PARAMETRIZATIONS, "parametrization")
    _choice(layer, LAYERS, "layer")
    _choice(optimizer, OPTIMIZERS, "optimizer")
    if base_width is not None:
        base_width = positive_int(base_width, "base_width")

    def init(shape, rng=None, copies=None, dtype=np.float64):
        fan_in, fan_out = schemes.fans(shape)
        var = effective_variance(parametrization, layer, fan_in, fan_out, optimizer, base_width)
        return schemes.normal(shape, np.sqrt(var), rng=rng, copies=copies, dtype=dtype)

    init.__name__ = init.__qualname__ = f"{parametrization}_{layer}"
    return init


def initializers(parametrization, depth, optimizer="sgd", base_width=None):
    """One :func:`initializer` per layer of an MLP of ``depth`` layers (for ``ic.forward_backward``)."""
    return [initializer(parametrization, kind, optimizer, base_width) for kind in layer_kinds(depth)]


# ----------------------------------------------------------------------------------------------
# Networks and training


def teacher_task(rng, copies, batch, d, dtype=np.float32):
    """``copies`` independent small regression tasks: inputs ``x`` of shape ``(copies, batch, d)``,
    standard normal, and targets ``y = tanh(2 v.x)`` with a random unit direction ``v`` (one per
    task), standardized over the batch to mean 0 and variance 1; shape ``(copies, batch, 1)``."""
    gen = as_generator(rng)
    copies, batch, d = (positive_int(v, name) for v, name in ((copies, "copies"), (batch, "batch"), (d, "d")))
    if batch < 2:
        raise ValueError("a task needs batch >= 2 examples (the targets are standardized over them)")
    x = gen.standard_normal((copies, batch, d)).astype(dtype)
    v = gen.standard_normal((copies, d, 1))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    y = np.tanh(2.0 * (x.astype(np.float64) @ v))
    y = (y - y.mean(axis=1, keepdims=True)) / y.std(axis=1, keepdims=True)
    return x, y.astype(dtype)


def nested_networks(widths, d, k=1, depth=3, *, copies, rng=None, dtype=np.float32, init=None):
    """Networks ``d -> n -> ... -> n -> k`` of every width n in ``widths`` that share their weights.

    The widest network is drawn once (``copies`` independent draws, SP: variance ``1/fan_in``, by
    ``init(kind)``, default ``initializer("sp", kind)``); the network of width n takes the leading n
    units of every layer, with the weights whose fan_in is the width rescaled by ``sqrt(N / n)`` so
    that their variance is ``1/n`` again. Each width is then an SP network in its own right, and the
    widths of one draw differ only by the units they add (common random numbers). Returns ``{n:
    [W_1, ..., W_depth]}`` with ``W_l`` of shape ``(copies, out, in)``.
    """
    widths = sorted({positive_int(n, "every width") for n in widths})
    kinds = layer_kinds(depth)
    init = init or (lambda kind: initializer("sp", kind))
    gen = as_generator(rng)
    N = widths[-1]
    sizes = [d] + [N] * (depth - 1) + [k]
    big = [init(kind)((b, a), rng=gen, copies=copies, dtype=dtype) for kind, a, b in zip(kinds, sizes, sizes[1:])]
    out = {}
    for n in widths:
        ratio = np.sqrt(N / n)
        ws = []
        for kind, w in zip(kinds, big):
            rows = n if kind != "output" else k
            cols = d if kind == "input" else n
            part = w[:, :rows, :cols]
            ws.append((part * ratio).astype(dtype) if kind != "input" else np.ascontiguousarray(part))
        out[n] = ws
    return out


def _check_stack(weights, x, y=None):
    weights = list(weights)
    if not weights or any(np.ndim(w) != 3 for w in weights):
        raise ValueError("weights must be a list of arrays of shape (copies, out, in), one per layer")
    for a, b in zip(weights, weights[1:]):
        if b.shape[0] != a.shape[0] or b.shape[2] != a.shape[1]:
            raise ValueError(f"weight shapes {a.shape} and {b.shape} do not chain")
    c, _, d = weights[0].shape
    if np.ndim(x) != 3 or x.shape[0] != c or x.shape[2] != d:
        raise ValueError(f"inputs must have shape (copies, batch, d) = ({c}, batch, {d}), got {np.shape(x)}")
    if y is not None and np.shape(y) != (c, x.shape[1], weights[-1].shape[1]):
        raise ValueError(f"targets must have shape {(c, x.shape[1], weights[-1].shape[1])}, got {np.shape(y)}")
    return weights


def _variant_table(values, depth, name, dtype):
    table = np.asarray(values, dtype=np.float64)
    if table.ndim == 1:
        table = table[None, :]
    if table.ndim != 2 or table.shape[1] != depth:
        raise ValueError(f"{name} must have one value per layer ({depth}), or one row per variant, got shape "
                         f"{np.shape(values)}")
    if not np.all(np.isfinite(table)) or np.any(table < 0):
        raise ValueError(f"{name} must be finite and non-negative, got {values!r}")
    return table.astype(dtype)


@dataclass
class Run:
    """The result of :func:`sgd` or :func:`adam`.

    ``pre[t][l]``: the pre-activations of layer l+1 after t steps, on the training inputs, shape
    ``(copies, variants, batch, n_l)`` (``None`` unless recorded); ``loss``: the loss before each
    step and after the last, shape ``(copies, variants, steps + 1)``.
    """

    pre: list
    loss: np.ndarray

    def changes(self, step):
        """Per network, variant and layer: the mean of ``|h(step) - h(0)|`` over units and inputs."""
        if self.pre is None:
            raise ValueError("this run kept no pre-activations: call it with record=True")
        return np.stack([np.mean(np.abs(a - b), axis=(2, 3), dtype=np.float64)
                         for a, b in zip(self.pre[step], self.pre[0])], axis=-1)


def sgd(weights, x, y, lrs, steps, *, std=None, activation="relu", center=True, record=True):
    """Full-batch gradient descent on stacks of MLPs, with a learning rate per layer and variant.

    ``weights[l]``: the initial weights of layer l+1, shape ``(copies, out, in)``, shared by every
    *variant*; variant g starts from ``std[g, l] * weights[l]`` and steps with learning rate
    ``lrs[g, l]`` (``lrs`` and ``std`` have one row per variant, or are one row for a single
    variant; ``std`` defaults to ones). ``x`` (copies, batch, d) and ``y`` (copies, batch, k) are the
    data of each network. The loss is ``mean_b |f(x_b) - y_b|^2 / 2``, with ``f`` less its value at
    initialization when ``center`` (so that the first step's residual is ``-y`` whatever the initial
    output). The last layer is linear.

    The weights are never formed: after t steps ``W_l = std W_l(0) - lr sum_s delta_l(s)^T x_(l-1)(s)``,
    a low-rank correction that is applied from the stored layer inputs and errors, so one step costs
    two products with ``W_l(0)`` for the whole stack of variants.
    """
    weights = _check_stack(weights, x, y)
    phi = activations.get(activation)
    dtype = weights[0].dtype
    depth = len(weights)
    lrs = _variant_table(lrs, depth, "lrs", dtype)
    std = np.ones_like(lrs) if std is None else _variant_table(std, depth, "std", dtype)
    if std.shape != lrs.shape:
        raise ValueError(f"std and lrs must have the same shape, got {std.shape} and {lrs.shape}")
    steps = positive_int(steps, "steps") if steps else 0
    c, B, _ = x.shape
    G = lrs.shape[0]
    x = np.ascontiguousarray(np.broadcast_to(np.asarray(x, dtype)[:, None], (c, G, B, x.shape[-1])))
    y = np.asarray(y, dtype)[:, None]
    hist_x = [np.empty((c, G, steps * B, w.shape[2]), dtype) for w in weights]
    hist_d = [np.empty((c, G, steps * B, w.shape[1]), dtype) for w in weights]
    col = lambda table, l: table[None, :, l, None, None]  # noqa: E731 - one value per variant
    pres, losses, f0 = [], [], None
    for t in range(steps + 1):
        inp, cache = x, []
        for l, w in enumerate(weights):
            n_out = w.shape[1]
            h = (inp.reshape(c, G * B, -1) @ np.swapaxes(w, -1, -2)).reshape(c, G, B, n_out)
            h *= col(std, l)
            if t:
                used = slice(0, t * B)
                h -= col(lrs, l) * ((inp @ np.swapaxes(hist_x[l][:, :, used], -1, -2)) @ hist_d[l][:, :, used])
            cache.append((inp, h))
            inp = h if l == depth - 1 else phi.f(h)
        if record:
            pres.append([h for _, h in cache])
        if center and t == 0:
            f0 = inp.copy()
        r = inp - y - (f0 if center else 0)
        losses.append(0.5 * np.mean(np.sum(np.square(r, dtype=np.float64), axis=-1), axis=-1))
        if t == steps:
            break
        delta = r * dtype.type(1.0 / B)
        rows = slice(t * B, (t + 1) * B)
        for l in reversed(range(depth)):
            inp_l, h = cache[l]
            if l < depth - 1:
                delta = delta * phi.df(h)
            hist_x[l][:, :, rows] = inp_l
            hist_d[l][:, :, rows] = delta
            if l:
                w = weights[l]
                g = (delta.reshape(c, G * B, -1) @ w).reshape(c, G, B, w.shape[2]) * col(std, l)
                if t:
                    used = slice(0, t * B)
                    g -= col(lrs, l) * ((delta @ np.swapaxes(hist_d[l][:, :, used], -1, -2)) @ hist_x[l][:, :, used])
                delta = g
    return Run(pres if record else None, np.stack(losses, axis=-1))


def adam(weights, x, y, lrs, steps, *, activation="relu", betas=(0.9, 0.999), eps=1e-8, record=True):
    """Adam (Kingma & Ba, with bias correction) on a stack of MLPs, one learning rate per layer.

    ``weights[l]`` has shape ``(copies, out, in)`` and is updated in place (pass copies to keep the
    originals); ``lrs`` has shape ``(copies, depth)`` or ``(depth,)``. Loss, data and output as in
    :func:`sgd` (no centering). Returns a :class:`Run` with one variant.
    """
    weights = _check_stack(weights, x, y)
    phi = activations.get(activation)
    dtype = weights[0].dtype
    depth = len(weights)
    c, B, _ = x.shape
    lrs = _variant_table(lrs, depth, "lrs", dtype)
    if lrs.shape[0] not in (1, c):
        raise ValueError(f"lrs must have one row per network ({c}) or a single row, got {lrs.shape[0]} rows")
    lrs = np.broadcast_to(lrs, (c, depth))
    steps = positive_int(steps, "steps")
    b1, b2 = (float(b) for b in betas)
    if not (0 <= b1 < 1 and 0 <= b2 < 1) or not eps > 0:
        raise ValueError(f"Adam needs 0 <= betas < 1 and eps > 0, got betas={betas!r}, eps={eps!r}")
    x, y = np.asarray(x, dtype), np.asarray(y, dtype)
    m = [np.zeros_like(w) for w in weights]
    v = [np.zeros_like(w) for w in weights]
    pres, losses = [], []
    for t in range(steps + 1):
        inp, cache = x, []
        for l, w in enumerate(weights):
            h = inp @ np.swapaxes(w, -1, -2)
            cache.append((inp, h))
            inp = h if l == depth - 1 else phi.f(h)
        if record:
            pres.append([h[:, None] for _, h in cache])
        r = inp - y
        losses.append(0.5 * np.mean(np.sum(np.square(r, dtype=np.float64), axis=-1), axis=-1))
        if t == steps:
            break
        delta = r * dtype.type(1.0 / B)
        grads = [None] * depth
        for l in reversed(range(depth)):
            inp_l, h = cache[l]
            if l < depth - 1:
                delta = delta * phi.df(h)
            grads[l] = np.swapaxes(delta, -1, -2) @ inp_l
            if l:
                delta = delta @ weights[l]
        first, second = 1 - b1 ** (t + 1), np.sqrt(1 - b2 ** (t + 1))
        for l in range(depth):
            g = grads[l]
            m[l] *= dtype.type(b1)
            m[l] += dtype.type(1 - b1) * g
            v[l] *= dtype.type(b2)
            v[l] += dtype.type(1 - b2) * np.square(g)
            step = np.sqrt(v[l])
            step *= dtype.type(1 / second)
            step += dtype.type(eps)
            np.divide(m[l], step, out=step)
            step *= (lrs[:, l] * dtype.type(1 / first))[:, None, None]
            weights[l] -= step
    return Run(pres if record else None, np.stack(losses, axis=-1)[:, None])


def step_kernel(weights, x, lrs, *, std=None, activation="relu"):
    """The one-step kernel ``K[a, b] = sum_l lr_l <df(x_a)/dW_l, df(x_b)/dW_l>`` of every variant.

    One step of gradient descent with global learning rate ``eta`` on the loss of :func:`sgd`
    changes the outputs by ``-(eta / batch) K r`` to first order, ``r`` the residuals. Arguments as
    for :func:`sgd` (a scalar output, ``k = 1``); returns shape ``(copies, variants, batch, batch)``.
    """
    weights = _check_stack(weights, x)
    if weights[-1].shape[1] != 1:
        raise ValueError("step_kernel needs a network with one output (k = 1)")
    phi = activations.get(activation)
    dtype = weights[0].dtype
    depth = len(weights)
    lrs = _variant_table(lrs, depth, "lrs", dtype)
    std = np.ones_like(lrs) if std is None else _variant_table(std, depth, "std", dtype)
    c, B, _ = x.shape
    G = lrs.shape[0]
    inp = np.ascontiguousarray(np.broadcast_to(np.asarray(x, dtype)[:, None], (c, G, B, x.shape[-1])))
    cache = []
    for l, w in enumerate(weights):
        h = (inp.reshape(c, G * B, -1) @ np.swapaxes(w, -1, -2)).reshape(c, G, B, w.shape[1])
        h *= std[None, :, l, None, None]
        cache.append((inp, h))
        inp = h if l == depth - 1 else phi.f(h)
    kernel = np.zeros((c, G, B, B))
    delta = np.ones((c, G, B, 1), dtype)                 # df_a / df_a: one row per example
    for l in reversed(range(depth)):
        inp_l, h = cache[l]
        if l < depth - 1:
            delta = delta * phi.df(h)
        gram = (delta @ np.swapaxes(delta, -1, -2)) * (inp_l @ np.swapaxes(inp_l, -1, -2))
        kernel += lrs[None, :, l, None, None] * gram
        if l:
            w = weights[l]
            delta = (delta.reshape(c, G * B, -1) @ w).reshape(c, G, B, w.shape[2]) * std[None, :, l, None, None]
    return kernel


def best_one_step_lr(kernel, residual):
    """The global learning rate that minimizes the linearized loss after one step:
    ``batch (r.K r) / |K r|^2`` for residuals ``r`` (shape ``(..., batch)``), per network."""
    kernel = np.asarray(kernel, dtype=np.float64)
    r = np.asarray(residual, dtype=np.float64)
    kr = np.einsum("...ab,...b->...a", kernel, r)
    return kernel.shape[-1] * np.sum(r * kr, axis=-1) / np.sum(kr * kr, axis=-1)


def variant(parametrization, optimizer="sgd", base_width=None, zero_readout=False, lr_override=None):
    """A function ``n -> (std, lr)`` for :func:`width_sweep`: :func:`scales` of the MLP
    ``[d, n, ..., n, k]``. ``zero_readout`` starts the output weights at zero; ``lr_override``
    ``{layer index: factor}`` replaces learning-rate factors (to model a mistake)."""
    _choice(parametrization, PARAMETRIZATIONS, "parametrization")
    _choice(optimizer, OPTIMIZERS, "optimizer")
    overrides = dict(lr_override or {})

    def make(widths):
        std, lr = scales(parametrization, widths, optimizer, base_width)
        if zero_readout:
            std[-1] = 0.0
        for index, factor in overrides.items():
            lr[index] = factor
        return std, lr

    return make


def width_sweep(widths, variants, lrs, *, steps, copies, d=16, batch=16, depth=3, optimizer="sgd",
                record=True, kernel=False, rng=None, dtype=np.float32):
    """Train every variant at every global learning rate and width, on ``copies`` independent draws.

    Each draw is one :func:`teacher_task` and one set of :func:`nested_networks` (SP) of all the
    ``widths``; ``variants`` is a list of functions ``widths_list -> (std, lr)`` (see
    :func:`variant`) that turn the SP draw into a parametrization. SGD runs through :func:`sgd`
    (centered), Adam through :func:`adam`. Returns a dict of arrays, the draw first:

    - ``"loss"``: shape ``(copies, variants, lrs, widths, steps + 1)``;
    - ``"changes"`` (with ``record``): mean ``|h_l(t) - h_l(0)|`` over units and inputs, shape
      ``(copies, variants, lrs, widths, steps, depth)``;
    - ``"best_lr"`` (with ``kernel``, SGD): :func:`best_one_step_lr` for the first step's residual
      ``-y``, shape ``(copies, variants, widths)``.
    """
    _choice(optimizer, OPTIMIZERS, "optimizer")
    widths = sorted({positive_int(n, "every width") for n in widths})
    lrs = np.atleast_1d(np.asarray(lrs, dtype=np.float64))
    if lrs.ndim != 1 or not np.all(np.isfinite(lrs)) or np.any(lrs <= 0):
        raise ValueError(f"lrs must be positive global learning rates, got {lrs!r}")
    if not variants or not all(callable(v) for v in variants):
        raise ValueError("variants must be a non-empty list of functions widths -> (std, lr), see variant()")
    if kernel and optimizer != "sgd":
        raise ValueError("the one-step kernel describes gradient descent: use kernel=True with optimizer='sgd'")
    gen = as_generator(rng)
    x, y = teacher_task(gen, copies, batch, d, dtype)
    nets = nested_networks(widths, d, 1, depth, copies=copies, rng=gen, dtype=dtype)
    V, E, W = len(variants), lrs.size, len(widths)
    out = {"loss": np.empty((copies, V, E, W, steps + 1))}
    if record:
        out["changes"] = np.empty((copies, V, E, W, steps, depth))
    if kernel:
        out["best_lr"] = np.empty((copies, V, W))
    for i, n in enumerate(widths):
        shape = [d] + [n] * (depth - 1) + [1]
        table = [v(shape) for v in variants]
        std = np.array([s for s, _ in table])
        factor = np.array([f for _, f in table])
        step_lrs = (factor[:, None, :] * lrs[None, :, None]).reshape(V * E, depth)
        if optimizer == "sgd":
            run = sgd(nets[n], x, y, step_lrs, steps, std=np.repeat(std, E, axis=0), record=record)
            loss = run.loss
        else:
            count = copies * V * E
            ws = [(np.repeat(std[None, :, l], E, axis=1).reshape(1, V * E, 1, 1).astype(dtype)
                   * w[:, None]).reshape(count, *w.shape[1:]) for l, w in enumerate(nets[n])]
            rep = lambda a: np.repeat(a, V * E, axis=0)  # noqa: E731
            run = adam(ws, rep(x), rep(y), np.tile(step_lrs, (copies, 1)), steps, record=record)
            loss = run.loss.reshape(copies, V * E, steps + 1)
            if record:
                run.pre = [[h.reshape(copies, V * E, *h.shape[2:]) for h in layer] for layer in run.pre]
        out["loss"][:, :, :, i] = loss.reshape(copies, V, E, steps + 1)
        if record:
            for t in range(1, steps + 1):
                out["changes"][:, :, :, i, t - 1] = run.changes(t).reshape(copies, V, E, depth)
        if kernel:
            k = step_kernel(nets[n], x, factor, std=std)
            out["best_lr"][:, :, i] = best_one_step_lr(k, -np.repeat(y[:, None, :, 0], V, axis=1))
    return out


def log_slopes(widths, values, axis=-1):
    """Least-squares slope of ``log(values)`` against ``log(widths)`` along ``axis`` (one per row)."""
    lw = np.log(np.asarray(widths, dtype=np.float64))
    values = np.moveaxis(np.asarray(values, dtype=np.float64), axis, -1)
    if values.shape[-1] != lw.size or lw.size < 2:
        raise ValueError(f"need one value per width ({lw.size} widths, at least 2), got {values.shape[-1]}")
    if np.any(values <= 0):
        raise ValueError("log_slopes needs positive values")
    centred = lw - lw.mean()
    return np.sum(np.log(values) * centred, axis=-1) / np.sum(centred**2)


__all__ = ["LAYERS", "OPTIMIZERS", "PARAMETRIZATIONS", "RULES", "Rule", "Run", "adam", "best_one_step_lr",
           "SOURCES", "effective_rule", "effective_variance", "initializer", "initializers", "layer_kinds",
           "learning_rate", "log_slopes", "nested_networks", "rule", "scales", "sgd", "step_kernel",
           "teacher_task", "variant", "width_exponents", "width_sweep"]
