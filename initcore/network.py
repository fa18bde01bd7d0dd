"""A plain numpy multilayer perceptron: forward, backward and a training loop.

Rows are examples: a batch ``x`` has shape ``(batch, n_in)`` and a layer
computes ``h = x @ W.T + b`` with ``W`` of torch shape ``(out, in)``. The last
layer is linear; the loss is the mean squared error ``mean(sum((y_hat - y)^2)) / 2``.
"""
import numpy as np

from . import activations
from .seeding import as_generator


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
        cache = []
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = x @ w.T + b
            cache.append((x, h))
            x = h if i == self.depth - 1 else self.phi.f(h)
        return x, cache

    def __call__(self, x):
        return self.forward(x)[0]

    @staticmethod
    def _targets(y, out):
        y = np.asarray(y, dtype=float)
        if y.shape != out.shape:
            raise ValueError(f"targets of shape {y.shape} do not match the output shape {out.shape} "
                             "(a 1-D target would broadcast to a batch x batch matrix)")
        return y

    def loss(self, x, y):
        out = self(x)
        y = self._targets(y, out)
        return 0.5 * np.mean(np.sum((out - y) ** 2, axis=1))

    def gradients(self, x, y):
        """Loss and the gradients ``(dW, db)`` of every layer, by back-propagation."""
        out, cache = self.forward(x)
        y = self._targets(y, out)
        loss = 0.5 * np.mean(np.sum((out - y) ** 2, axis=1))
        delta = (out - y) / x.shape[0]
        grads_w, grads_b = [], []
        for i in reversed(range(self.depth)):
            inp, h = cache[i]
            if i < self.depth - 1:
                delta = delta * self.phi.df(h)
            grads_w.append(delta.T @ inp)
            grads_b.append(delta.sum(axis=0))
            delta = delta @ self.weights[i]
        return loss, grads_w[::-1], grads_b[::-1]

    def step(self, x, y, lr):
        """One gradient-descent step; returns the loss before it."""
        loss, gw, gb = self.gradients(x, y)
        for w, b, dw, db in zip(self.weights, self.biases, gw, gb):
            w -= lr * dw
            b -= lr * db
        return loss

    def train(self, x, y, lr=0.01, steps=100, batch=None, rng=None):
        """Plain (minibatch) gradient descent; returns the loss at every step."""
        gen = as_generator(rng)
        losses = np.empty(steps)
        for t in range(steps):
            if batch is None:
                xb, yb = x, y
            else:
                idx = gen.integers(0, x.shape[0], size=batch)
                xb, yb = x[idx], y[idx]
            losses[t] = self.step(xb, yb, lr)
            if not np.isfinite(losses[t]):
                losses[t:] = np.nan
                break
        return losses
