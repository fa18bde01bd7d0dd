"""Data-dependent initialization: LSUV (Mishkin & Matas 2016), for many independent networks at once.

Layer-sequential unit-variance initialization starts from any weights (orthogonal in the paper),
pushes one batch of data through the network and, layer by layer from the first to the last,
divides the layer's weights by the square root of the variance measured at that layer, until
the variance is within ``tol`` of the target. What is measured decides how many rescalings a
layer needs:

- ``measure="pre"``: the layer's own output ``h = x W^T`` (the convolution or fully connected
  layer, before its activation; the authors' Caffe script stops the forward pass at that layer).
  With the layer's input ``x`` fixed, ``Var[s h] = s^2 Var[h]`` for every activation: one
  rescaling is exact.
- ``measure="post"``: the activation's output ``phi(h)``, as a framework layer that carries its
  activation returns it. One rescaling is exact only for positively homogeneous activations
  (ReLU, leaky ReLU, linear: ``phi(s h) = s phi(h)`` for ``s > 0``); for GELU, tanh, ... the
  variance is not quadratic in the scale and LSUV iterates.

With a bias (``bias``, one fixed value per unit that LSUV does not rescale) the measured variance
is ``s^2 A + B`` and iterations are needed either way.

The networks are those of :mod:`initcore.propagation` (``h_l = x_(l-1) W_l^T + b_l``,
``x_l = phi(h_l)``, ``W_l`` of torch shape ``(n_l, n_(l-1))``), stacked on a leading axis of
``copies`` independent networks, each with its own batch of data; the variance is taken per
network over the whole batch-by-units blob (``numpy.var``, as the authors' script does).
"""
from dataclasses import dataclass
from numbers import Real

import numpy as np

from . import activations
from .meanfield import gaussian_quadrature
from .propagation import _check_widths
from .schemes import int_at_least
from .seeding import as_generator

MEASURES = ("pre", "post")


@dataclass(frozen=True)
class LSUVResult:
    """What :func:`lsuv` did to ``copies`` networks with ``L`` layers.

    ``weights[l]``: the final ``W_(l+1)``, shape ``(c, n_(l+1), n_l)``; ``biases[l]``: the fixed
    bias, shape ``(c, 1, n_(l+1))``, or ``None``. ``scales``: ``(c, L)``, the factor by which each
    layer's initial weights were multiplied in total. ``iterations``: ``(c, L)`` integers, the
    number of rescalings. ``variances``: ``(c, L)``, the variance measured last. ``history[l]``:
    ``(max_iter + 1, c)``, the variance measured before each rescaling of layer ``l + 1`` and after
    the last one (``nan`` once a network has stopped). ``converged``: ``(c, L)`` booleans,
    ``|variance - target| <= tol``.
    """

    weights: list
    biases: list
    scales: np.ndarray
    iterations: np.ndarray
    variances: np.ndarray
    history: list
    converged: np.ndarray
    measure: str
    activation: activations.Activation

    @property
    def depth(self):
        return len(self.weights)

    def weight_scale(self):
        """``n_in * mean(W^2)`` per network and layer, shape ``(c, L)``: the book's sigma_w^2."""
        return np.stack([w.shape[-1] * np.mean(np.square(w), axis=(1, 2), dtype=np.float64)
                         for w in self.weights], axis=1)


def _positive(value, name):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def _data(data, copies, batch, width, gen, dtype):
    """The input batch of every network, shape ``(copies, batch, width)``."""
    if data is None:
        return gen.standard_normal((copies, batch, width), dtype=dtype)
    if callable(data):
        x = np.asarray(data(gen, copies, batch, width), dtype=dtype)
        if x.shape != (copies, batch, width):
            raise ValueError(f"data(rng, copies, batch, n_0) must return shape {(copies, batch, width)}, got {x.shape}")
        return x
    x = np.asarray(data, dtype=dtype)
    if x.ndim == 2 and x.shape[1] == width and x.shape[0] >= 2:
        return np.broadcast_to(x, (copies,) + x.shape)
    if x.ndim == 3 and x.shape[0] == copies and x.shape[2] == width and x.shape[1] >= 2:
        return x
    raise ValueError(f"data must be None, a function (rng, copies, batch, n_0), an array (batch, n_0) shared by "
                     f"every network or (copies, batch, n_0), with n_0 = {width} and batch >= 2; got shape {x.shape}")


def _blob_variance(values):
    """Per network: the variance of every value of the blob (batch and units), in double precision."""
    return np.var(values, axis=(1, 2), dtype=np.float64)


def lsuv(init, widths, activation="relu", data=None, *, measure="pre", tol=0.02, max_iter=20, target=1.0,
         copies=1, batch=64, bias=None, rng=None, dtype=np.float64):
    """Layer-sequential unit-variance initialization of ``copies`` independent networks.

    ``init`` draws the starting weights (an initializer ``init(shape, rng=, copies=, dtype=)``,
    :func:`initcore.schemes.orthogonal` in the paper, or a list of one per layer); ``widths = [n_0, ...,
    n_L]``; ``activation`` a name or an :class:`~initcore.activations.Activation`. ``data``: the
    batch LSUV measures on, ``None`` (standard normal, ``batch`` rows per network), an array of
    shape ``(batch, n_0)`` shared by all networks or ``(copies, batch, n_0)``, or a function
    ``data(rng, copies, batch, n_0)``. For each layer in turn, while ``|Var - target| > tol`` and
    fewer than ``max_iter`` rescalings were made, ``W <- W * sqrt(target / Var)``, with ``Var``
    the variance of the layer's pre-activations (``measure="pre"``) or of its activations
    (``"post"``) over the batch and the units. ``bias``: ``None`` or the standard deviation of a
    fixed per-unit bias ``N(0, bias^2)`` that LSUV leaves alone. Returns an :class:`LSUVResult`.
    """
    phi = activations.get(activation)
    widths = _check_widths(widths)
    depth = len(widths) - 1
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {MEASURES} ('pre': before the activation, 'post': after it), "
                         f"got {measure!r}")
    tol = _positive(tol, "tol (the tolerance on |Var - target|)")
    target = _positive(target, "target (the variance to reach)")
    max_iter = int_at_least(max_iter, "max_iter (the most rescalings per layer)")
    copies = int_at_least(copies, "copies (the number of independent networks)")
    batch = int_at_least(batch, "batch (the rows of data per network)", least=2)
    if bias is not None and (isinstance(bias, bool) or not isinstance(bias, Real) or not bias >= 0):
        raise ValueError(f"bias must be None or a standard deviation >= 0, got {bias!r}")
    if callable(init):
        inits = [init] * depth
    elif isinstance(init, (list, tuple)) and len(init) == depth and all(callable(i) for i in init):
        inits = list(init)
    else:
        raise ValueError(f"init must be an initializer f(shape, rng=, copies=, dtype=) or a list of {depth} of them")
    gen = as_generator(rng)
    x = _data(data, copies, batch, widths[0], gen, dtype)

    weights, biases, scales, iterations, variances, history, converged = [], [], [], [], [], [], []
    for layer in range(depth):
        w = np.array(inits[layer]((widths[layer + 1], widths[layer]), rng=gen, copies=copies, dtype=dtype),
                     dtype=dtype)
        if w.shape != (copies, widths[layer + 1], widths[layer]):
            raise ValueError(f"init returned shape {w.shape} for layer {layer + 1}, expected "
                             f"{(copies, widths[layer + 1], widths[layer])}")
        b = None if bias is None else (bias * gen.standard_normal((copies, 1, widths[layer + 1]))).astype(dtype)
        raw = np.matmul(x, np.swapaxes(w, -1, -2))          # x W^T without the bias, for this layer's input
        scale = np.ones(copies)

        def measured(s):
            h = raw * s.astype(dtype)[:, None, None]
            if b is not None:
                h = h + b
            return h, _blob_variance(h if measure == "pre" else phi.f(h))

        h, v = measured(scale)
        trace = np.full((max_iter + 1, copies), np.nan)
        trace[0] = v
        count = np.zeros(copies, dtype=int)
        for step in range(max_iter):
            active = (np.abs(v - target) > tol) & np.isfinite(v) & (v > 0)
            if not active.any():
                break
            scale = np.where(active, scale * np.sqrt(target / np.where(active, v, 1.0)), scale)
            count += active
            h, v_new = measured(scale)
            v = np.where(active, v_new, v)
            trace[step + 1] = np.where(active, v, np.nan)
        weights.append(w * scale.astype(dtype)[:, None, None])
        biases.append(b)
        scales.append(scale)
        iterations.append(count)
        variances.append(v)
        history.append(trace)
        converged.append(np.abs(v - target) <= tol)
        x = phi.f(h)
    return LSUVResult(weights, biases, np.stack(scales, axis=1), np.stack(iterations, axis=1),
                      np.stack(variances, axis=1), history, np.stack(converged, axis=1), measure, phi)


def predicted_variances(activation, steps, q=1.0, measure="post", target=1.0):
    """The variances LSUV measures on a layer whose pre-activations are i.i.d. ``N(0, q)`` at the start.

    ``v_0`` is the variance of ``phi(h)`` (``measure="post"``) or of ``h`` (``"pre"``) at the
    starting weights; each rescaling multiplies the weights by ``s_(k+1) / s_k = sqrt(target / v_k)``
    and ``v_(k+1)`` is the variance at the new scale: ``Var[phi(s_(k+1) sqrt(q) Z)]``, Z standard
    normal, by quadrature (``s_(k+1)^2 q`` before the activation, so that ``v_1 = target``
    exactly). This is what :func:`lsuv` does to the first layer of a network fed standard normal
    data through orthogonal weights, in the limit of a large blob. Returns ``[v_0, ..., v_steps]``.
    """
    phi = activations.get(activation)
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {MEASURES}, got {measure!r}")
    steps = int_at_least(steps, "steps", least=0)
    q = _positive(q, "q (the second moment of the pre-activations)")
    target = _positive(target, "target (the variance to reach)")

    def variance(scale):
        second = scale**2 * q
        if measure == "pre":
            return second
        return gaussian_quadrature(lambda x: phi.f(x) ** 2, second) - gaussian_quadrature(phi.f, second) ** 2

    scale, out = 1.0, []
    for _ in range(steps + 1):
        v = variance(scale)
        out.append(v)
        if not v > 0:
            break
        scale *= np.sqrt(target / v)
    return np.array(out + [np.nan] * (steps + 1 - len(out)))


__all__ = ["LSUVResult", "MEASURES", "lsuv", "predicted_variances"]
