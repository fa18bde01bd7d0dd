"""Weight initializers with the names and semantics of PyTorch and Keras.

Shapes follow PyTorch by default (``layout="torch"``: ``(out, in, *kernel)``);
``layout="keras"`` reads ``(*kernel, in, out)``. Every initializer takes
``rng`` (a ``numpy.random.Generator``, an int seed or ``None`` for the
book's default generator) and ``copies``: with ``copies=c`` it returns ``c``
independent draws stacked on a new leading axis, which is how the Monte Carlo
checks sample many networks at once.

Every initializer follows one contract, :class:`Initializer`: called as
``init(shape, rng=None, copies=None, dtype=np.float64)`` it returns an array of
``shape`` (or ``(copies, *shape)``). Factories make initializers with settings:
:func:`scaled_normal` (N(0, scale / fan), the one Gaussian initializer with a
free scale) and :func:`scaled` (any initializer times a factor). The samplers
:func:`normal`, :func:`uniform` and :func:`truncated_normal` take the standard
deviation or the bound itself.
"""
import math
from numbers import Real
from typing import Protocol

import numpy as np

from .seeding import as_generator

#: Where the truncated normal is cut, in standard deviations.
TRUNCATION = 2.0
#: Standard deviation of a standard normal truncated to [-2, 2]. Keras divides
#: by it (as the literal 0.87962566103423978) so that a truncated normal keeps
#: the requested standard deviation. Computed here from its formula
#: sqrt(1 - 2 c phi(c) / (2 Phi(c) - 1)) with c = 2.
TRUNCATED_NORMAL_STD = math.sqrt(
    1 - 2 * TRUNCATION * math.exp(-TRUNCATION**2 / 2) / math.sqrt(2 * math.pi) / math.erf(TRUNCATION / math.sqrt(2))
)

MODES = ("fan_in", "fan_out", "fan_avg")
DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")
LAYOUTS = ("torch", "keras")
_LINEAR_GAIN_ONE = (
    "linear", "conv1d", "conv2d", "conv3d",
    "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "sigmoid",
)
NONLINEARITIES = _LINEAR_GAIN_ONE + ("tanh", "relu", "leaky_relu", "selu")


class Initializer(Protocol):
    """What every initializer of the book is: ``init(shape, rng=None, copies=None, dtype=np.float64)``.

    ``shape`` in torch layout ``(out, in, *kernel)``; ``rng`` a ``numpy.random.Generator``, a seed
    or ``None`` (the book's default generator); ``copies=c`` stacks ``c`` independent draws on a
    new leading axis. The engine (:mod:`initcore.propagation`) calls initializers this way.
    """

    def __call__(self, shape, rng=None, copies=None, dtype=np.float64) -> np.ndarray: ...


def check_shape(shape):
    """Return ``shape`` as a tuple of positive ints, or raise ``ValueError``."""
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    shape = tuple(shape)
    if len(shape) == 0:
        raise ValueError("shape is empty: a weight tensor needs at least one dimension")
    if any(not isinstance(d, (int, np.integer)) or isinstance(d, bool) for d in shape):
        raise ValueError(f"shape {shape} must contain only integers")
    if any(d <= 0 for d in shape):
        raise ValueError(f"shape {shape} has a zero or negative dimension: every size must be at least 1")
    return tuple(int(d) for d in shape)


def fans(shape, layout="torch"):
    """Return ``(fan_in, fan_out)`` of a weight of ``shape``.

    torch layout ``(out, in, *kernel)``; keras layout ``(*kernel, in, out)``.
    The receptive field (the product of the kernel sizes) multiplies both
    fans. A 1-D shape ``(n,)`` has ``fan_in = fan_out = n`` (Keras's rule;
    PyTorch refuses it, as this function does with ``layout="torch"``).
    """
    shape = check_shape(shape)
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}: use one of {LAYOUTS}")
    if len(shape) == 1:
        if layout == "torch":
            raise ValueError(f"torch layout needs at least 2 dimensions (out, in), got shape {shape}")
        return shape[0], shape[0]
    if layout == "torch":
        receptive = math.prod(shape[2:])
        return shape[1] * receptive, shape[0] * receptive
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


def gain(nonlinearity, param=None):
    """PyTorch's recommended gain (``torch.nn.init.calculate_gain``).

    linear, conv*, conv_transpose* and sigmoid: 1; tanh: 5/3; relu: sqrt(2);
    leaky_relu: sqrt(2 / (1 + a^2)) with negative slope ``param`` (default
    0.01); selu: 3/4.
    """
    if nonlinearity in _LINEAR_GAIN_ONE:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, Real) and not isinstance(param, bool) and math.isfinite(param):
            slope = float(param)
        else:
            raise ValueError(f"the negative slope (param, or a for he_*) must be a number, got {param!r}")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"unsupported nonlinearity {nonlinearity!r}: use one of {NONLINEARITIES}")


def _fan(shape, mode, layout):
    fan_in, fan_out = fans(shape, layout)
    if mode == "fan_in":
        return fan_in
    if mode == "fan_out":
        return fan_out
    if mode == "fan_avg":
        return (fan_in + fan_out) / 2
    raise ValueError(f"unknown mode {mode!r}: use one of {MODES}")


def _float_dtype(dtype):
    """``dtype`` as a floating numpy dtype, or a ValueError (integer weights would all be zero)."""
    try:
        kind = np.dtype(dtype)
    except TypeError:
        raise ValueError(f"dtype {dtype!r} is not a numpy dtype: use np.float64 or np.float32") from None
    if kind not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise ValueError(f"dtype must be a floating type (np.float64 or np.float32), got {kind}: "
                         "weights drawn from a continuous law would be rounded to integers")
    return kind


def _check_gain(gain):
    """A gain is a positive real number (use ``gain("relu")`` to get one from a nonlinearity's name)."""
    if isinstance(gain, str):
        raise ValueError(f"gain must be a number, got the string {gain!r}: for a nonlinearity's gain "
                         f"pass ic.gain({gain!r})" if gain in NONLINEARITIES else
                         f"gain must be a positive number, got the string {gain!r}")
    if not isinstance(gain, Real) or isinstance(gain, bool) or not math.isfinite(gain) or not gain > 0:
        raise ValueError(f"gain must be a positive number, got {gain!r}")
    return float(gain)


def _check_scale(scale):
    if not isinstance(scale, Real) or isinstance(scale, bool) or not scale > 0:
        raise ValueError(f"scale must be a positive number, got {scale!r}")


def int_at_least(value, name, least=1):
    """``value`` as an int of at least ``least``, or a ValueError that names ``name``.

    The one check of counts (widths, copies, steps, ...) for the whole package."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < least:
        what = "a positive integer" if least == 1 else f"an integer of at least {least}"
        raise ValueError(f"{name} must be {what}, got {value!r}")
    return int(value)


def positive_int(value, name):
    """``value`` as an int, or a ValueError saying that ``name`` must be a positive integer."""
    return int_at_least(value, name)


def _size(shape, copies):
    if copies is None:
        return shape
    return (positive_int(copies, "copies"),) + shape


def normal(shape, std, rng=None, copies=None, dtype=np.float64):
    """Draw from N(0, std^2)."""
    shape = check_shape(shape)
    dtype = _float_dtype(dtype)
    gen = as_generator(rng)
    if np.dtype(dtype) == np.float32:  # draw in single precision directly: no float64 draw and copy
        out = gen.standard_normal(size=_size(shape, copies), dtype=np.float32)
        out *= np.float32(std)
        return out
    return gen.normal(0.0, std, size=_size(shape, copies)).astype(dtype, copy=False)


def uniform(shape, bound, rng=None, copies=None, dtype=np.float64):
    """Draw from U(-bound, bound)."""
    shape = check_shape(shape)
    dtype = _float_dtype(dtype)
    gen = as_generator(rng)
    if np.dtype(dtype) == np.float32:  # U[0, 1) in single precision, then shifted and scaled in place
        out = gen.random(size=_size(shape, copies), dtype=np.float32)
        out *= np.float32(2 * bound)
        out -= np.float32(bound)
        return out
    return gen.uniform(-bound, bound, size=_size(shape, copies)).astype(dtype, copy=False)


def truncated_normal(shape, std, rng=None, copies=None, dtype=np.float64):
    """Draw from N(0, std^2) truncated to [-2 std, 2 std] (redrawing outside values).

    Note that the result's standard deviation is ``std * TRUNCATED_NORMAL_STD``,
    not ``std``: :func:`variance_scaling` corrects for this.
    """
    shape = check_shape(shape)
    dtype = _float_dtype(dtype)
    gen = as_generator(rng)
    z = gen.standard_normal(size=_size(shape, copies))
    out = np.abs(z) > TRUNCATION
    while out.any():
        z[out] = gen.standard_normal(size=int(out.sum()))
        out = np.abs(z) > TRUNCATION
    return (std * z).astype(dtype, copy=False)


def variance_scaling(shape, scale=1.0, mode="fan_in", distribution="truncated_normal", rng=None,
                     layout="torch", copies=None, dtype=np.float64):
    """Keras's ``VarianceScaling``: weights with variance ``scale / n``.

    ``n`` is the fan chosen by ``mode`` (fan_in, fan_out or fan_avg, the
    mean of the two). ``truncated_normal`` cuts a normal at two standard
    deviations and divides the standard deviation by
    ``TRUNCATED_NORMAL_STD`` so that the result still has variance
    ``scale / n``; ``untruncated_normal`` draws N(0, scale/n); ``uniform``
    draws from U(-limit, limit) with limit = sqrt(3 scale / n).
    """
    _check_scale(scale)
    if distribution not in DISTRIBUTIONS:
        raise ValueError(f"unknown distribution {distribution!r}: use one of {DISTRIBUTIONS}")
    n = max(1.0, _fan(shape, mode, layout))
    variance = scale / n
    if distribution == "truncated_normal":
        return truncated_normal(shape, math.sqrt(variance) / TRUNCATED_NORMAL_STD, rng, copies, dtype)
    if distribution == "untruncated_normal":
        return normal(shape, math.sqrt(variance), rng, copies, dtype)
    return uniform(shape, math.sqrt(3 * variance), rng, copies, dtype)


def scaled_normal(scale=1.0, mode="fan_in", layout="torch"):
    """An initializer drawing i.i.d. N(0, scale / n), ``n`` the fan chosen by ``mode``.

    ``scaled_normal(scale, mode, layout)`` returns ``init(shape, rng=None, copies=None,
    dtype=numpy.float64)``: :func:`variance_scaling` with ``distribution="untruncated_normal"``,
    with the scale, mode and layout fixed, in the form that ``initcore.layer_moments`` and the
    other network samplers take. ``scale`` is ``n Var[W]`` (a gain ``g`` gives ``scale=g**2``);
    ``mode`` is ``"fan_in"``, ``"fan_out"`` or ``"fan_avg"``. Both are checked when the factory
    is called, not at the first draw. The returned function's name says what it draws, for
    example ``scaled_normal(2, fan_in)``.
    """
    _check_scale(scale)
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}: use one of {MODES}")
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}: use one of {LAYOUTS}")
    scale = float(scale)

    def init(shape, rng=None, copies=None, dtype=np.float64):
        return variance_scaling(shape, scale, mode, "untruncated_normal", rng, layout, copies, dtype)

    init.__name__ = init.__qualname__ = (
        f"scaled_normal({scale:g}, {mode}" + ("" if layout == "torch" else f", {layout}") + ")"
    )
    return init


def lecun_normal(shape, rng=None, layout="torch", copies=None, dtype=np.float64):
    """LeCun normal (Keras): truncated normal with variance 1 / fan_in."""
    return variance_scaling(shape, 1.0, "fan_in", "truncated_normal", rng, layout, copies, dtype)


def lecun_uniform(shape, rng=None, layout="torch", copies=None, dtype=np.float64):
    """LeCun uniform (Keras): U(-a, a) with a = sqrt(3 / fan_in)."""
    return variance_scaling(shape, 1.0, "fan_in", "uniform", rng, layout, copies, dtype)


def glorot_std(shape, gain=1.0, layout="torch"):
    """The standard deviation of Glorot/Xavier: gain * sqrt(2 / (fan_in + fan_out))."""
    gain = _check_gain(gain)
    fan_in, fan_out = fans(shape, layout)
    return gain * math.sqrt(2.0 / (fan_in + fan_out))


def glorot_normal(shape, gain=1.0, rng=None, layout="torch", copies=None, dtype=np.float64):
    """Glorot/Xavier normal (``torch.nn.init.xavier_normal_``): N(0, gain^2 2/(fan_in+fan_out))."""
    return normal(shape, glorot_std(shape, gain, layout), rng, copies, dtype)


def glorot_uniform(shape, gain=1.0, rng=None, layout="torch", copies=None, dtype=np.float64):
    """Glorot/Xavier uniform (``xavier_uniform_``): bound gain * sqrt(6 / (fan_in + fan_out))."""
    return uniform(shape, math.sqrt(3.0) * glorot_std(shape, gain, layout), rng, copies, dtype)


def he_std(shape, a=0.0, mode="fan_in", nonlinearity="relu", layout="torch"):
    """The standard deviation of He/Kaiming: gain(nonlinearity, a) / sqrt(fan)."""
    if not isinstance(a, Real) or isinstance(a, bool) or not math.isfinite(a):
        raise ValueError(f"a (the negative slope of a leaky ReLU) must be a number, got {a!r}")
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"unknown mode {mode!r}: kaiming initialization uses 'fan_in' or 'fan_out'")
    return gain(nonlinearity, a) / math.sqrt(_fan(shape, mode, layout))


def he_normal(shape, a=0.0, mode="fan_in", nonlinearity="relu", rng=None, layout="torch",
              copies=None, dtype=np.float64):
    """He/Kaiming normal (``torch.nn.init.kaiming_normal_``): N(0, gain^2 / fan)."""
    return normal(shape, he_std(shape, a, mode, nonlinearity, layout), rng, copies, dtype)


def he_uniform(shape, a=0.0, mode="fan_in", nonlinearity="relu", rng=None, layout="torch",
               copies=None, dtype=np.float64):
    """He/Kaiming uniform (``kaiming_uniform_``): bound gain * sqrt(3 / fan)."""
    return uniform(shape, math.sqrt(3.0) * he_std(shape, a, mode, nonlinearity, layout), rng, copies, dtype)


def orthogonal(shape, gain=1.0, rng=None, copies=None, sign_correction=True, dtype=np.float64):
    """A Haar-distributed (semi-)orthogonal matrix, as ``torch.nn.init.orthogonal_``.

    The trailing dimensions are flattened to ``(shape[0], prod(shape[1:]))``;
    the QR factorization of a Gaussian matrix gives Q, and the columns of Q
    are multiplied by the signs of diag(R) so that the result is uniformly
    (Haar) distributed. ``sign_correction=False`` skips that step, only to
    show the bias it removes.
    """
    shape = check_shape(shape)
    gain = _check_gain(gain)
    dtype = _float_dtype(dtype)
    if len(shape) < 2:
        raise ValueError(f"orthogonal needs at least 2 dimensions, got shape {shape}")
    rows, cols = shape[0], math.prod(shape[1:])
    gen = as_generator(rng)
    count = 1 if copies is None else _size(shape, copies)[0]
    a = gen.standard_normal(size=(count, rows, cols))
    if rows < cols:
        a = np.swapaxes(a, -1, -2)
    q, r = np.linalg.qr(a)
    if sign_correction:
        d = np.sign(np.diagonal(r, axis1=-2, axis2=-1))
        d[d == 0] = 1.0
        q = q * d[..., None, :]
    if rows < cols:
        q = np.swapaxes(q, -1, -2)
    q = (gain * q).reshape((count,) + shape).astype(dtype, copy=False)
    return q[0] if copies is None else q


def identity(shape, rng=None, copies=None, dtype=np.float64, gain=1.0):
    """The (rectangular) identity matrix times ``gain``, as ``torch.nn.init.eye_``.

    It follows the :class:`Initializer` contract: ``rng`` is accepted and unused (nothing is
    random), ``copies`` stacks that many identical matrices.
    """
    shape = check_shape(shape)
    gain = _check_gain(gain)
    dtype = _float_dtype(dtype)
    if len(shape) != 2:
        raise ValueError(f"identity needs a 2-D shape, got {shape}")
    eye = gain * np.eye(*shape, dtype=dtype)
    return eye if copies is None else np.broadcast_to(eye, _size(shape, copies)).copy()


def standard_uniform(shape, rng=None, copies=None, dtype=np.float64, layout="torch"):
    """The old heuristic U[-1/sqrt(fan_in), 1/sqrt(fan_in)] (Glorot & Bengio 2010, eq. 1), which is
    also PyTorch's ``nn.Linear`` default weight law."""
    fan_in, _ = fans(shape, layout)
    return uniform(shape, 1.0 / math.sqrt(fan_in), rng, copies, dtype)


def scaled(init, factor):
    """``init`` with every weight multiplied by ``factor`` (the bound and the standard deviation scale
    by it, the variance by ``factor**2``): the one way to scale an initializer."""
    if isinstance(factor, bool) or not isinstance(factor, Real) or not factor > 0:
        raise ValueError(f"factor must be a positive number, got {factor!r}")

    def draw(shape, rng=None, copies=None, dtype=np.float64):
        return (factor * init(shape, rng=rng, copies=copies, dtype=dtype)).astype(dtype, copy=False)

    draw.__name__ = f"{getattr(init, '__name__', 'init')}_x{factor:g}"
    return draw


# --- residual networks: fixed-std, zero and Fixup initializers -----------------------------------


def normal_std(std):
    """An initializer drawing i.i.d. N(0, std^2) whatever the shape: ``torch.nn.init.normal_(w, 0, std)``.

    Unlike :func:`scaled_normal`, the standard deviation does not depend on the fan: this is GPT-2's
    ``N(0, 0.02^2)`` for every linear layer and embedding (``normal_std(0.02)``), and its residual
    projections' ``normal_std(0.02 / math.sqrt(2 * n_layer))``. ``std`` must be a positive finite number
    (for all-zero weights use :func:`zeros`). The returned function follows the :class:`Initializer`
    contract, accepts any shape (1-D too: an embedding row, a bias) and is named after its law, for
    example ``normal_std(0.02)``.
    """
    if isinstance(std, bool) or not isinstance(std, Real) or not math.isfinite(std) or not std > 0:
        raise ValueError(f"std must be a positive finite number (the standard deviation of every weight), "
                         f"got {std!r}; for all-zero weights use ic.schemes.zeros")
    std = float(std)

    def init(shape, rng=None, copies=None, dtype=np.float64):
        return normal(shape, std, rng, copies, dtype)

    init.__name__ = init.__qualname__ = f"normal_std({std:g})"
    return init


def zeros(shape, rng=None, copies=None, dtype=np.float64):
    """All-zero weights, as ``torch.nn.init.zeros_`` (Keras ``Zeros``).

    It follows the :class:`Initializer` contract: ``rng`` is accepted and unused (nothing is random),
    ``copies`` stacks that many zero arrays. The last layer of a residual branch initialized so
    (Fixup, or a zero-initialized scale) makes the block the identity at initialization.
    """
    shape = check_shape(shape)
    dtype = _float_dtype(dtype)
    return np.zeros(_size(shape, copies), dtype=dtype)


def fixup_scale(blocks, m):
    """Fixup's factor ``blocks ** (-1 / (2 m - 2))`` for the weight layers inside a residual branch.

    ``blocks`` (L) is the number of residual branches, ``m >= 2`` the number of weight layers in each
    (Zhang, Dauphin and Ma 2019). With it, one SGD step changes the network's output by an amount
    independent of L: each branch moves by order ``scale ** (2 m - 2)``, and there are L branches.
    """
    if isinstance(blocks, (bool, np.bool_)) or not isinstance(blocks, (int, np.integer)) or blocks < 1:
        raise ValueError(f"blocks (the number of residual branches L) must be a positive integer, got {blocks!r}")
    if isinstance(m, (bool, np.bool_)) or not isinstance(m, (int, np.integer)) or m < 2:
        raise ValueError(f"m (weight layers per residual branch) must be an integer >= 2, got {m!r}: Fixup's "
                         "exponent -1/(2m-2) divides by 2m-2, and a one-layer branch has no inner layer to scale")
    return float(blocks) ** (-1.0 / (2 * int(m) - 2))


def fixup(blocks, m, base=None):
    """Fixup's initializers for the ``m`` layers of one residual branch (Zhang, Dauphin and Ma 2019).

    Returns a list of ``m`` initializers: the first ``m - 1`` are ``base`` (He normal by default)
    scaled by :func:`fixup_scale` ``(blocks, m)``, the last is :func:`zeros`, so every block starts
    as the identity. For a network of ``blocks`` branches, ``fixup(blocks, m) * blocks`` is the
    list of one initializer per layer that :func:`initcore.propagation.forward_backward` takes (with
    ``residual=1.0, branch=m``). Fixup's scalar multipliers (1) and biases (0) are not weights and
    change nothing at initialization.
    """
    scale = fixup_scale(blocks, m)
    if base is None:
        base = he_normal
    if not callable(base):
        raise ValueError(f"base must be an initializer f(shape, rng=, copies=, dtype=), got {base!r}")
    inner = scaled(base, scale)
    inner.__name__ = f"{getattr(base, '__name__', 'init')}_x{scale:.4g}"
    return [inner] * (int(m) - 1) + [zeros]
