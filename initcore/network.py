"""A plain numpy multilayer perceptron: forward, backward and a training loop.

Rows are examples: a batch ``x`` has shape ``(batch, n_in)`` and a layer
computes ``h = x @ W.T + b`` with ``W`` of torch shape ``(out, in)``. The last
layer is linear; the loss is the mean squared error ``mean(sum((y_hat - y)^2)) / 2``.

:class:`MLP` is one network. :func:`train_many` and :func:`loss_many` run the
same forward pass, back-propagation and gradient-descent loop on a *stack* of
independent networks at once: every weight array gains a leading network axis
(``(c, out, in)`` for ``c`` networks), over which numpy's ``matmul`` broadcasts.
Both go through the same private functions below, so a stack reproduces
:class:`MLP`, network by network, to rounding (``tests/test_network.py``).
"""
import numpy as np

from . import activations
from .schemes import positive_int
from .seeding import as_generator


def _forward(weights, biases, phi, x, keep=True, work=None):
    """The output and the cache ``[(input, pre-activation)]`` of every layer.

    ``weights[i]`` has shape ``(..., out, in)`` and ``biases[i]`` ``(..., out)``;
    ``x`` has shape ``(..., batch, in)`` (leading axes broadcast). With
    ``keep=False`` the cache stays empty (for the loss alone). ``work`` is a dict
    that a training loop keeps from step to step: the pre-activations and
    activations are then written into the same arrays at every step. (A cache
    allocated and freed anew, tens of megabytes for a large stack, is handed back
    to the system and faulted in again at every step, which can make a step half
    as slow again.)
    """
    cache = []
    last = len(weights) - 1
    for i, (w, b) in enumerate(zip(weights, biases)):
        w_t = np.swapaxes(w, -1, -2)
        if work is None:
            h = x @ w_t
        else:
            shape = (*np.broadcast_shapes(x.shape[:-2], w.shape[:-2]), x.shape[-2], w.shape[-2])
            h = np.matmul(x, w_t, out=_buffer(work, ("h", i), shape, np.result_type(x, w)))
        h += b if b.ndim == 1 else b[..., None, :]
        if keep:
            cache.append((x, h))
        if i == last:
            x = h
        else:
            x = phi.f(h)
            if work is not None:
                buf = _buffer(work, ("x", i), x.shape, x.dtype)
                buf[...] = x
                x = buf
    return x, cache


def _buffer(work, key, shape, dtype):
    """The array ``work[key]``, made anew if missing or of another shape or dtype."""
    buf = work.get(key)
    if buf is None or buf.shape != tuple(shape) or buf.dtype != dtype:
        buf = work[key] = np.empty(shape, dtype)
    return buf


def _half_mse(out, y):
    """Half the mean over the batch of the squared error summed over outputs (one per network)."""
    return 0.5 * np.mean(np.sum((out - y) ** 2, axis=-1), axis=-1)


def _gradients(weights, biases, phi, x, y, lr=None, work=None):
    """Loss and the gradients ``(dW, db)`` of every layer, by back-propagation.

    With ``lr``, each layer takes its gradient-descent step in place as soon as
    its gradient is known (after its error has been passed on with the old
    weights, so the step is the same as one taken after all gradients), and the
    gradient lists come back empty.
    """
    out, cache = _forward(weights, biases, phi, x, work=work)
    loss = _half_mse(out, y)
    delta = (out - y) / out.shape[-2]
    grads_w, grads_b = [], []
    for i in reversed(range(len(weights))):
        inp, h = cache[i]
        if i < len(weights) - 1:
            delta *= phi.df(h)
        grad_w = np.swapaxes(delta, -1, -2) @ inp
        grad_b = delta.sum(axis=-2)
        if i > 0:                                  # the input layer has no error to pass on
            delta = delta @ weights[i]
        if lr is None:
            grads_w.append(grad_w)
            grads_b.append(grad_b)
        else:
            grad_w *= lr
            weights[i] -= grad_w
            grad_b *= lr
            biases[i] -= grad_b
    return loss, grads_w[::-1], grads_b[::-1]


def _gradient_descent(weights, biases, phi, x, y, lr, steps, batch, gen):
    """The training loop of :meth:`MLP.train` (one network) and :func:`train_many` (a stack).

    With a stack (weights of shape ``(c, out, in)``) each network draws its own
    minibatch, row ``k`` of ``gen.integers(0, n, size=(c, batch))``. A network
    whose loss is not finite has taken its last step: its losses from then on
    are NaN, and the stack goes on without it (its weights stay as that step left
    them). The loop ends early once no network is left.
    """
    stacked = weights[0].ndim == 3
    losses = np.full((weights[0].shape[0], steps) if stacked else steps, np.nan)
    live = np.arange(weights[0].shape[0]) if stacked else None
    ws, bs = weights, biases                       # the networks still training
    work = {}
    for t in range(steps):
        if batch is None:
            xb, yb = x, y
        else:
            idx = gen.integers(0, x.shape[0], size=(len(weights[0]), batch) if stacked else batch)
            if stacked and len(live) < len(idx):
                idx = idx[live]
            xb, yb = x[idx], y[idx]
        loss, _, _ = _gradients(ws, bs, phi, xb, yb, lr, work)
        finite = np.isfinite(loss)
        if not stacked:
            if not finite:
                break
            losses[t] = loss
            continue
        losses[live, t] = np.where(finite, loss, np.nan)
        if not finite.all():
            _put(weights, biases, ws, bs, live)
            live = live[finite]
            ws, bs = [w[live] for w in weights], [b[live] for b in biases]
            if not len(live):
                break
    _put(weights, biases, ws, bs, live)
    return losses


def _put(weights, biases, ws, bs, live):
    """Write the live networks ``ws, bs`` (copies, once some network has dropped out) back."""
    if ws is not weights:
        for full, part in zip(weights + biases, ws + bs):
            full[live] = part


def _check_targets(y, shape):
    y = np.asarray(y, dtype=float)
    if y.shape != tuple(shape):
        raise ValueError(f"targets of shape {y.shape} do not match the output shape {tuple(shape)} "
                         "(a 1-D target would broadcast to a batch x batch matrix)")
    return y


class MLP:
    """A fully connected network with one activation for all hidden layers."""

    def __init__(self, weights, biases=None, activation="relu"):
        self.weights = [np.array(w, dtype=float) for w in weights]
        if biases is None:
            biases = [np.zeros(w.shape[0]) for w in self.weights]
        self.biases = [np.array(b, dtype=float) for b in biases]
        if len(self.biases) != len(self.weights):
            raise ValueError("need one bias vector per weight matrix")
        for a, b in zip(self.weights, self.weights[1:]):
            if b.shape[1] != a.shape[0]:
                raise ValueError(f"weight shapes {a.shape} and {b.shape} do not chain")
        self.phi = activations.get(activation)

    @classmethod
    def initialized(cls, widths, init, activation="relu", rng=None):
        """A network with ``widths = [n_0, ..., n_L]`` and weights drawn by ``init(shape, rng=...)``."""
        gen = as_generator(rng)
        weights = [init((n_out, n_in), rng=gen) for n_in, n_out in zip(widths, widths[1:])]
        return cls(weights, activation=activation)

    @property
    def depth(self):
        return len(self.weights)

    def forward(self, x):
        """The output and the cache (inputs and pre-activations of every layer) for backward."""
        return _forward(self.weights, self.biases, self.phi, x)

    def __call__(self, x):
        return self.forward(x)[0]

    def _targets(self, y, x):
        """``y`` as floats, if it has the shape of the output for inputs ``x``."""
        return _check_targets(y, (*np.shape(x)[:-1], self.weights[-1].shape[0]))

    def loss(self, x, y):
        return _half_mse(self(x), self._targets(y, x))

    def gradients(self, x, y):
        """Loss and the gradients ``(dW, db)`` of every layer, by back-propagation."""
        return _gradients(self.weights, self.biases, self.phi, x, self._targets(y, x))

    def step(self, x, y, lr):
        """One gradient-descent step; returns the loss before it."""
        return _gradients(self.weights, self.biases, self.phi, x, self._targets(y, x), lr)[0]

    def train(self, x, y, lr=0.01, steps=100, batch=None, rng=None):
        """Plain (minibatch) gradient descent; returns the loss at every step.

        If the loss stops being finite, training ends there and the losses from
        that step on are NaN.
        """
        return _gradient_descent(self.weights, self.biases, self.phi, x, self._targets(y, x),
                                 lr, steps, batch, as_generator(rng))


def _stack(weights, biases, x, y):
    weights = list(weights)
    if biases is None:
        biases = [np.zeros(w.shape[:-1], dtype=w.dtype) for w in weights]
    biases = list(biases)
    if len(biases) != len(weights):
        raise ValueError("need one bias array per weight array")
    for w, b in zip(weights, biases):
        if not (isinstance(w, np.ndarray) and isinstance(b, np.ndarray)
                and np.issubdtype(w.dtype, np.floating) and np.issubdtype(b.dtype, np.floating)):
            raise ValueError("weights and biases must be floating-point numpy arrays (they are updated in place)")
        if w.ndim != 3 or b.shape != w.shape[:-1]:
            raise ValueError(f"a stacked layer needs weights of shape (c, out, in) and biases (c, out); "
                             f"got {w.shape} and {b.shape}")
    for a, b in zip(weights, weights[1:]):
        if b.shape[:-2] != a.shape[:-2] or b.shape[-1] != a.shape[-2]:
            raise ValueError(f"stacked weight shapes {a.shape} and {b.shape} do not chain")
    x = np.asarray(x, dtype=weights[0].dtype)
    if x.ndim != 2 or x.shape[1] != weights[0].shape[-1]:
        raise ValueError(f"inputs of shape {x.shape} do not fit weights of shape {weights[0].shape}: "
                         "pass the shared data as (n_examples, n_in)")
    y = _check_targets(y, (x.shape[0], weights[-1].shape[-2])).astype(x.dtype, copy=False)
    return weights, biases, x, y


def teacher_task(n_in, n_data, teacher_width, rng=None):
    """A regression task to train on: inputs and the standardized outputs of a random teacher.

    ``x`` holds ``n_data`` standard normal inputs of ``n_in`` features; the teacher is a tanh
    network with one hidden layer of ``teacher_width`` units and LeCun-scaled Gaussian weights
    (variance 1 / fan_in), and ``y`` its outputs shifted and scaled to mean 0 and variance 1, shape
    ``(n_data, 1)``. The best constant prediction then has loss 1/2 under :func:`loss_many`.
    Returns ``(x, y)``.
    """
    for name, value in (("n_in", n_in), ("n_data", n_data), ("teacher_width", teacher_width)):
        positive_int(value, name)
    if n_data < 2:
        raise ValueError(f"n_data must be at least 2 (the targets are standardized), got {n_data}")
    gen = as_generator(rng)
    x = gen.standard_normal((n_data, n_in))
    teacher = MLP([gen.normal(0, 1 / np.sqrt(n_in), size=(teacher_width, n_in)),
                   gen.normal(0, 1 / np.sqrt(teacher_width), size=(1, teacher_width))], activation="tanh")
    y = teacher(x)
    return x, (y - y.mean()) / y.std()


def loss_many(weights, biases, x, y, activation="relu"):
    """The loss of every network of a stack on the data ``(x, y)``: an array of shape ``(c,)``.

    Arguments as for :func:`train_many`.
    """
    weights, biases, x, y = _stack(weights, biases, x, y)
    out, _ = _forward(weights, biases, activations.get(activation), x, keep=False)
    return _half_mse(out, y)


def train_many(weights, biases, x, y, lr=0.01, steps=100, batch=None, activation="relu", rng=None):
    """Train ``c`` independent networks at once by plain (minibatch) gradient descent.

    The loop of :meth:`MLP.train` on a stack of networks: ``weights[i]`` has shape
    ``(c, out, in)`` and ``biases[i]`` ``(c, out)`` (network ``k`` is
    ``[w[k] for w in weights]``), and both are updated in place; ``biases=None``
    starts from zero biases (which are then not returned). ``x`` of shape
    ``(n_examples, n_in)`` and ``y`` of shape ``(n_examples, n_out)`` are the data
    every network trains on; with ``batch`` each network draws its own minibatch
    of that many examples at every step, from ``rng``. The arithmetic is done in
    the dtype of the weights (float32 is faster than float64).

    Returns the minibatch loss before every step, shape ``(c, steps)``. As
    :meth:`MLP.train` stops, a network whose loss is not finite takes no further
    step: its losses from then on are NaN, and the rest of the stack trains
    without it; the loop ends early once every network has diverged. A stack of
    one network reproduces :meth:`MLP.train` with the same ``rng``
    (``tests/test_network.py``).
    """
    weights, biases, x, y = _stack(weights, biases, x, y)
    return _gradient_descent(weights, biases, activations.get(activation), x, y,
                             lr, steps, batch, as_generator(rng))
