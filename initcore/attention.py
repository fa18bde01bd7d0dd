"""Attention and small transformer stacks for many independent networks at once.

The dense engine (:mod:`initcore.propagation`) treats every example on its own; attention mixes the
tokens of a sequence, so it lives here, with the same conventions: arrays have the network axis
first, then the tokens, then the units, ``(copies, T, d)``; weights have torch shape ``(out, in)``
and are applied as ``x @ W.T``; they are drawn by initializers of the book's contract
``init(shape, rng=..., copies=c, dtype=...)``; the gradient injected at the output is standard
normal (or given), independent of the weights.

One attention sublayer (single head, no biases) maps tokens ``u`` to

    q = u Wq^T,  k = u Wk^T,  v = u Wv^T,  P = softmax(scale * q k^T),  Attn(u) = (P v) Wo^T,

with the softmax over keys (a causal mask, if asked, lets token i see only tokens j <= i). The MLP
sublayer is ``W2 relu(W1 u)`` with a hidden width ``hidden`` (``d`` unless given). A block is

- ``placement="pre"``  (pre-LN):  x <- x + Attn(LN(x)), then x <- x + MLP(LN(x)); a final LN
  follows the last block;
- ``placement="post"`` (post-LN, the original transformer): x <- LN(x + Attn(x)), then
  x <- LN(x + MLP(x));
- ``placement=None``: no normalization, x <- x + Attn(x), then x <- x + MLP(x).

``skip=False`` drops the residual connections (x <- Attn(x) ...) and ``mlp=False`` the MLP
sublayers, so ``placement=None, skip=False, mlp=False`` is a stack of pure attention layers.
LayerNorm is :func:`initcore.propagation.normalize` (no learned gain and shift: 1 and 0 at
initialization), and its backward pass :func:`initcore.propagation.normalize_backward`.

:func:`transformer` returns a :class:`Transformer` with every block's stream, attention
probabilities and, with ``backward=True``, the exact gradients of a loss ``sum(output * g)``
with respect to every stream and every weight. :func:`simulate` turns a per-network statistic
of it into an :class:`~initcore.montecarlo.Estimate` over independent networks. The statistics
:func:`relative_residual` (rank collapse), :func:`mean_entropy`, :func:`last_norm_input` and
:func:`truncated_last_layer` (every depth of a stack at once) act on a :class:`Transformer`;
:func:`logits`, :func:`correlated_tokens` and :func:`cross_entropy` serve single attention logits
and the readout, and :func:`uniform_attention_stream` is the infinite-width prediction of a pre-LN
stream whose attention is uniform.
"""
from collections.abc import Mapping
from dataclasses import dataclass, field
from numbers import Real

import numpy as np

from .montecarlo import over_networks
from .propagation import normalize, normalize_backward
from .schemes import positive_int
from .seeding import as_generator

#: The weight matrices of one block, by role.
ATTENTION_ROLES = ("query", "key", "value", "output")
MLP_ROLES = ("w1", "w2")
ROLES = ATTENTION_ROLES + MLP_ROLES
PLACEMENTS = ("pre", "post", None)
#: Logit scales by name, ``"sqrt"`` for 1/sqrt(d) (Vaswani et al.) and ``"mup"`` for 1/d (muP).
SCALES = ("sqrt", "mup")


def logit_scale(rule, d):
    """The factor multiplying ``q . k``: ``"sqrt"`` gives 1/sqrt(d), ``"mup"`` 1/d, a number itself."""
    if isinstance(rule, str):
        if rule == "sqrt":
            return 1.0 / np.sqrt(d)
        if rule == "mup":
            return 1.0 / d
        raise ValueError(f"scale must be 'sqrt' (1/sqrt(d)), 'mup' (1/d) or a positive number, got {rule!r}")
    if isinstance(rule, bool) or not isinstance(rule, Real) or not rule > 0:
        raise ValueError(f"scale must be 'sqrt' (1/sqrt(d)), 'mup' (1/d) or a positive number, got {rule!r}")
    return float(rule)


def softmax(s, axis=-1):
    """softmax along ``axis`` (stable: the maximum is subtracted first; ``-inf`` entries get 0)."""
    s = s - np.max(s, axis=axis, keepdims=True)
    e = np.exp(s)
    return e / np.sum(e, axis=axis, keepdims=True)


def entropy(p, axis=-1):
    """The entropy ``-sum p log p`` (natural log) of distributions along ``axis`` (0 log 0 = 0)."""
    p = np.asarray(p)
    safe = np.where(p > 0, p, 1.0)
    return -np.sum(p * np.log(safe), axis=axis)


def _matmul_t(x, w):
    """``x @ W^T`` for a stack of networks: ``x`` (c, T, n_in), ``w`` (c, n_out, n_in)."""
    return np.matmul(x, np.swapaxes(w, -1, -2))


def _weight_grad(g, x):
    """dL/dW for ``y = x @ W^T`` given ``g = dL/dy``: shape (c, n_out, n_in)."""
    return np.matmul(np.swapaxes(g, -1, -2), x)


def _mask(tokens):
    """Boolean (T, T): True where key j lies after query i (hidden by a causal mask)."""
    return np.triu(np.ones((tokens, tokens), dtype=bool), k=1)


def logits(x, w_query, w_key, scale="sqrt", causal=False):
    """Attention logits ``scale * (x Wq^T)(x Wk^T)^T``, shape (c, T, T) (masked entries ``-inf``)."""
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"tokens must have shape (copies, T, d), got {x.shape}")
    s = logit_scale(scale, w_query.shape[-2]) * np.matmul(_matmul_t(x, w_query), np.swapaxes(_matmul_t(x, w_key), -1, -2))
    if causal:
        s = np.where(_mask(x.shape[1]), -np.inf, s)
    return s


@dataclass
class AttentionCache:
    """What one attention sublayer computed (for its backward pass and for statistics)."""

    u: np.ndarray
    q: np.ndarray
    k: np.ndarray
    v: np.ndarray
    probs: np.ndarray
    mixed: np.ndarray
    scale: float
    weights: dict


def attention_forward(u, weights, scale, causal=False):
    """One attention sublayer on tokens ``u`` (c, T, d): ``(output, cache)``.

    ``weights`` maps ``query, key, value, output`` to arrays (c, d_out, d_in); ``scale`` is the
    number multiplying ``q . k`` (see :func:`logit_scale`).
    """
    q = _matmul_t(u, weights["query"])
    k = _matmul_t(u, weights["key"])
    v = _matmul_t(u, weights["value"])
    s = scale * np.matmul(q, np.swapaxes(k, -1, -2))
    if causal:
        s = np.where(_mask(u.shape[1]), -np.inf, s)
    p = softmax(s)
    mixed = np.matmul(p, v)
    out = _matmul_t(mixed, weights["output"])
    return out, AttentionCache(u, q, k, v, p, mixed, scale, weights)


def attention_backward(g, cache):
    """``(dL/du, {role: dL/dW})`` for one attention sublayer, from ``g = dL/d(output)``."""
    w = cache.weights
    grads = {"output": _weight_grad(g, cache.mixed)}
    g_mixed = np.matmul(g, w["output"])
    g_p = np.matmul(g_mixed, np.swapaxes(cache.v, -1, -2))
    g_v = np.matmul(np.swapaxes(cache.probs, -1, -2), g_mixed)
    g_s = cache.probs * (g_p - np.sum(g_p * cache.probs, axis=-1, keepdims=True))   # softmax Jacobian
    g_q = cache.scale * np.matmul(g_s, cache.k)
    g_k = cache.scale * np.matmul(np.swapaxes(g_s, -1, -2), cache.q)
    grads["query"] = _weight_grad(g_q, cache.u)
    grads["key"] = _weight_grad(g_k, cache.u)
    grads["value"] = _weight_grad(g_v, cache.u)
    g_u = np.matmul(g_q, w["query"]) + np.matmul(g_k, w["key"]) + np.matmul(g_v, w["value"])
    return g_u, grads


def mlp_forward(u, weights):
    """The MLP sublayer ``W2 relu(W1 u)`` on tokens ``u``: ``(output, (u, pre-activation))``."""
    z = _matmul_t(u, weights["w1"])
    return _matmul_t(np.maximum(z, 0), weights["w2"]), (u, z)


def mlp_backward(g, cache, weights):
    """``(dL/du, {"w1": ..., "w2": ...})`` for the MLP sublayer, from ``g = dL/d(output)``."""
    u, z = cache
    grads = {"w2": _weight_grad(g, np.maximum(z, 0))}
    g_z = np.matmul(g, weights["w2"]) * (z > 0)
    grads["w1"] = _weight_grad(g_z, u)
    return np.matmul(g_z, weights["w1"]), grads


@dataclass
class Block:
    """One block's intermediate values: the two sublayers' caches and the LayerNorms' (u, scale)."""

    attention: AttentionCache
    mlp: tuple = None
    norms: dict = field(default_factory=dict)


@dataclass
class Transformer:
    """``copies`` independent transformer stacks after a forward pass (and a backward one, if asked).

    ``stream[l]`` is x_l, shape (c, T, d): ``stream[0]`` the input tokens, ``stream[l]`` the output
    of block ``l``. ``output`` is what the loss sees: the last stream, after the final LayerNorm
    for pre-LN. ``weights[l]`` maps each role of block ``l+1`` to its (c, out, in) array and
    ``probs[l]`` is that block's attention matrix (c, T, T), rows summing to one. With a backward
    pass, ``grads[l]`` is dL/dx_l (``grads[0]`` at the input, ``grads[L]`` at the last block's
    output, before any final LayerNorm), ``weight_grads[l]`` maps each role of block ``l+1`` to
    dL/dW, and ``grad_out`` is the gradient injected at ``output`` (L = sum(output * grad_out)).
    """

    placement: str
    inputs: np.ndarray
    stream: list
    output: np.ndarray
    weights: list
    probs: list
    blocks: list
    skip: bool = True
    mlp: bool = True
    final: tuple = None
    grads: list = None
    weight_grads: list = None
    grad_out: np.ndarray = None

    @property
    def depth(self):
        return len(self.weights)


def _initializers(init, roles):
    """One initializer per role: ``init`` itself, or a mapping with every role in ``roles``."""
    if callable(init):
        return {role: init for role in roles}
    if isinstance(init, Mapping):
        missing = [role for role in roles if role not in init]
        bad = [role for role in roles if role in init and not callable(init[role])]
        unknown = [role for role in init if role not in ROLES]
        if missing or bad or unknown:
            raise ValueError(f"init must be an initializer or a mapping from each of {roles} to one "
                             f"(missing: {missing}, not callable: {bad}, unknown roles: {unknown})")
        return {role: init[role] for role in roles}
    raise ValueError(f"init must be an initializer f(shape, rng=, copies=, dtype=) or a mapping from the roles "
                     f"{roles} to initializers, got {init!r}")


def _tokens(inputs, copies, tokens, d, gen, dtype):
    if inputs is None:
        return gen.standard_normal((copies, tokens, d), dtype=dtype) if np.dtype(dtype) == np.float32 \
            else gen.standard_normal((copies, tokens, d)).astype(dtype)
    if callable(inputs):
        x = np.asarray(inputs(gen, copies, tokens, d), dtype=dtype)
    else:
        x = np.asarray(inputs, dtype=dtype)
        if x.shape == (tokens, d):
            x = np.broadcast_to(x, (copies, tokens, d))
    if x.shape != (copies, tokens, d):
        raise ValueError(f"inputs must give shape (copies, T, d) = {(copies, tokens, d)} (or (T, d) shared by "
                         f"every network), got {x.shape}")
    return x


def transformer(init, d, tokens, blocks, *, copies, rng=None, placement="pre", scale="sqrt", causal=False,
                mlp=True, skip=True, hidden=None, inputs=None, backward=False, grad_out=None,
                dtype=np.float64):
    """``copies`` independent stacks of ``blocks`` transformer blocks on ``tokens`` tokens of width ``d``.

    ``init``: an initializer for every weight, or a mapping from the roles ``query, key, value,
    output`` (and ``w1, w2`` with ``mlp=True``) to initializers (:func:`initcore.schemes.zeros` for muP's zero
    query). ``placement``: ``"pre"``, ``"post"`` or ``None`` (see the module docstring).
    ``scale``: the logit scale, ``"sqrt"`` (1/sqrt(d)), ``"mup"`` (1/d) or a number. ``hidden``:
    the MLP's hidden width (``d`` if ``None``). ``inputs``: ``None`` (standard normal tokens), an
    array (T, d) shared by every network or (copies, T, d), or ``inputs(rng, c, T, d)``.
    ``grad_out``: the gradient at the output (standard normal if ``None``). Returns a
    :class:`Transformer`.
    """
    d, tokens, blocks = (positive_int(d, "d (the width)"), positive_int(tokens, "tokens (T)"),
                         positive_int(blocks, "blocks (the depth)"))
    copies = positive_int(copies, "copies")
    hidden = d if hidden is None else positive_int(hidden, "hidden (the MLP width)")
    if placement not in PLACEMENTS:
        raise ValueError(f"placement must be 'pre' (pre-LN), 'post' (post-LN) or None (no LayerNorm), "
                         f"got {placement!r}")
    factor = logit_scale(scale, d)
    roles = ROLES if mlp else ATTENTION_ROLES
    inits = _initializers(init, roles)
    shapes = {"query": (d, d), "key": (d, d), "value": (d, d), "output": (d, d), "w1": (hidden, d),
              "w2": (d, hidden)}
    gen = as_generator(rng)
    x = _tokens(inputs, copies, tokens, d, gen, dtype)
    net = Transformer(placement, x, [x], None, [], [], [], skip=skip, mlp=mlp)
    norm = "layer" if placement is not None else None

    def sublayer(x, forward, weights, name, block):
        """x -> x + F(N(x)) (pre), N(x + F(x)) (post) or x + F(x); without skip the x + drops out."""
        if placement == "pre":
            u, s = normalize(x, norm)
            block.norms[name] = (u, s)
            out, cache = forward(u, weights)
            return (x + out if skip else out), cache
        out, cache = forward(x, weights)
        y = x + out if skip else out
        if placement == "post":
            y, s = normalize(y, norm)
            block.norms[name] = (y, s)
        return y, cache

    for _ in range(blocks):
        weights = {role: np.asarray(inits[role](shapes[role], rng=gen, copies=copies, dtype=dtype), dtype=dtype)
                   for role in roles}
        block = Block(None)
        x, block.attention = sublayer(x, lambda u, w: attention_forward(u, w, factor, causal), weights,
                                      "attention", block)
        if mlp:
            x, block.mlp = sublayer(x, mlp_forward, weights, "mlp", block)
        net.weights.append(weights)
        net.probs.append(block.attention.probs)
        net.blocks.append(block)
        net.stream.append(x)
    if placement == "pre":
        net.final = normalize(x, norm)
        net.output = net.final[0]
    else:
        net.output = x
    if backward:
        if grad_out is None:
            g = gen.standard_normal(net.output.shape).astype(dtype)
        else:
            try:
                g = np.broadcast_to(np.asarray(grad_out, dtype=dtype), net.output.shape)
            except ValueError:
                raise ValueError(f"grad_out must have the output's shape (copies, T, d) = {net.output.shape} or "
                                 f"broadcast to it, got {np.shape(grad_out)}") from None
        net.grad_out = g
        _backward(net, g)
    return net


def _backward(net, g):
    """Fill ``net.grads`` and ``net.weight_grads`` from ``g = dL/d(output)``."""
    if net.placement == "pre":
        g = normalize_backward(g, *net.final, "layer")
    grads = [None] * (net.depth + 1)
    weight_grads = [None] * net.depth
    grads[net.depth] = g

    def through(g, name, block, backward_fn):
        """dL/dx from g = dL/dy for one sublayer (see ``sublayer`` in :func:`transformer`)."""
        if net.placement == "pre":
            g_u, wg = backward_fn(g)
            g_branch = normalize_backward(g_u, *block.norms[name], "layer")
            return (g + g_branch if net.skip else g_branch), wg
        if net.placement == "post":
            g = normalize_backward(g, *block.norms[name], "layer")
        g_in, wg = backward_fn(g)
        return (g + g_in if net.skip else g_in), wg

    for index in reversed(range(net.depth)):
        block, weights = net.blocks[index], net.weights[index]
        wgrads = {}
        if net.mlp:
            g, wg = through(g, "mlp", block, lambda g: mlp_backward(g, block.mlp, weights))
            wgrads.update(wg)
        g, wg = through(g, "attention", block, lambda g: attention_backward(g, block.attention))
        wgrads.update(wg)
        weight_grads[index] = wgrads
        grads[index] = g
    net.grads = grads
    net.weight_grads = weight_grads


def simulate(statistic, init, d, tokens, blocks, *, networks=200, chunk=32, rng=None, **options):
    """The mean of a per-network ``statistic(net)`` over ``networks`` independent stacks.

    ``statistic`` receives a :class:`Transformer` of ``c`` networks and returns ``c`` values (an
    array with first axis ``c``; more axes give a vector estimate); the stacks are drawn ``chunk``
    at a time by :func:`transformer`, which takes the other arguments. The standard error comes
    from the spread across networks (:func:`initcore.montecarlo.over_networks`).
    """
    def draw(gen, c):
        return statistic(transformer(init, d, tokens, blocks, copies=c, rng=gen, **options))

    return over_networks(draw, networks, chunk=chunk, rng=rng)


# --- statistics of one stack of networks --------------------------------------------------------

def relative_residual(x):
    """Per network: ||X - 1 xbar^T||_F / ||X||_F, the distance of the tokens X (c, T, d) from the
    nearest matrix with identical rows (their mean row), relative to X. It is 0 exactly when all
    tokens are equal (rank collapse)."""
    x = np.asarray(x, dtype=np.float64)
    residual = x - np.mean(x, axis=1, keepdims=True)
    return np.sqrt(np.sum(residual**2, axis=(1, 2)) / np.sum(x**2, axis=(1, 2)))


def mean_entropy(probs):
    """Per network: the entropy of each query's attention distribution, averaged over the queries."""
    return np.mean(entropy(np.asarray(probs, dtype=np.float64)), axis=-1)


def frobenius_squared(w):
    """Per network: the squared Frobenius norm of a stack of matrices (c, m, n), in double precision."""
    return np.sum(np.square(np.asarray(w, dtype=np.float64)), axis=(-2, -1))


def correlated_tokens(rho):
    """``inputs`` for :func:`transformer`: T tokens of squared norm exactly d, every pair with cosine ``rho``.

    x_j = sqrt(d) (sqrt(rho) e_0 + sqrt(1 - rho) e_j) for orthonormal e_0, ..., e_T drawn at random
    (a fresh rotation per network); needs T + 1 <= d and 0 <= rho <= 1.
    """
    if isinstance(rho, bool) or not isinstance(rho, Real) or not 0.0 <= rho <= 1.0:
        raise ValueError(f"rho (the cosine between tokens) must lie in [0, 1], got {rho!r}")

    def inputs(rng, c, tokens, d):
        if tokens + 1 > d:
            raise ValueError(f"correlated_tokens needs T + 1 <= d orthonormal directions, got T = {tokens}, d = {d}")
        basis, _ = np.linalg.qr(rng.standard_normal((c, d, tokens + 1)))
        e = np.swapaxes(basis, -1, -2)                    # (c, T + 1, d), orthonormal rows
        return np.sqrt(d) * (np.sqrt(rho) * e[:, :1] + np.sqrt(1.0 - rho) * e[:, 1:])

    return inputs


def last_norm_input(net):
    """Per network: the mean over tokens of s^2, the mean square (variance + eps) of the stream entering
    the last LayerNorm (the final one of a pre-LN stack, the last block's second one of a post-LN stack)."""
    if net.placement == "pre":
        scale = net.final[1]
    elif net.placement == "post":
        scale = net.blocks[-1].norms["mlp" if net.mlp else "attention"][1]
    else:
        raise ValueError("a stack without LayerNorm (placement=None) has no last LayerNorm")
    return np.mean(np.square(np.asarray(scale, dtype=np.float64))[..., 0], axis=-1)


def truncated_last_layer(net, rng=None):
    """Per network and depth: what the last block of the stack cut after ``l`` blocks sees, l = 1..L.

    The first ``l`` blocks of a stack are an ``l``-block stack with the same law, so one deep stack
    gives every depth at once (the depths share networks, so their estimates are correlated). For
    each ``l`` this returns, as arrays of shape (c, L):

    - ``"s2"``: the mean over tokens of s^2 entering the last LayerNorm of the cut stack (the final
      LayerNorm applied to x_l for pre-LN, block ``l``'s second LayerNorm for post-LN);
    - ``"grad_w2"``: the squared Frobenius norm of dL/dW2 of block ``l``, for the loss
      L = sum(output * g) of the cut stack with a fresh standard normal g (drawn from ``rng``).

    For the full depth this is :func:`transformer`'s own backward pass (``tests/test_attention.py``
    checks it with the same g); the MLP sublayers must be there.
    """
    if not net.mlp or net.placement not in ("pre", "post"):
        raise ValueError("truncated_last_layer needs a pre-LN or post-LN stack with MLP sublayers")
    gen = as_generator(rng)
    s2, grads = [], []
    for index, block in enumerate(net.blocks):
        if net.placement == "pre":
            u, scale = normalize(net.stream[index + 1], "layer")
        else:
            u, scale = block.norms["mlp"]
        g = gen.standard_normal(u.shape).astype(u.dtype, copy=False)
        delta = normalize_backward(g, u, scale, "layer")           # dL/d(MLP output) of block index + 1
        grads.append(frobenius_squared(_weight_grad(delta, np.maximum(block.mlp[1], 0))))
        s2.append(np.mean(np.square(np.asarray(scale, dtype=np.float64))[..., 0], axis=-1))
    return {"s2": np.stack(s2, axis=1), "grad_w2": np.stack(grads, axis=1)}


def uniform_attention_stream(blocks, tokens, *, q0=1.0, k0=0.0, activation="relu"):
    """The infinite-width second moments of a pre-LN stream whose attention is uniform (a zero query).

    Every weight has n Var[W] = 1 (Xavier for the square matrices), the MLP's hidden width is d.
    ``q`` is the mean square of a token's units, ``k`` the mean product of the same unit in two
    distinct tokens, ``c = k / q`` their correlation, which LayerNorm keeps. Per block, attention
    adds the same vector Wo Wv ubar (ubar the mean normalized token) to every token, so ``q`` and
    ``k`` both grow by A = (1 + (T - 1) c) / T; then the MLP adds E[phi(Z)^2] to ``q`` and
    E[phi(Z_1) phi(Z_2)] (Z_1, Z_2 standard normal with correlation c) to ``k``. Cross terms
    vanish in expectation, since each branch ends in a fresh centred matrix. Returns ``(q, c)``,
    arrays of length ``blocks + 1`` (index 0: the input, i.i.d. tokens by default).
    """
    from . import activations, meanfield

    blocks, tokens = positive_int(blocks, "blocks (the depth)"), positive_int(tokens, "tokens (T)")
    if not (q0 > 0 and 0 <= k0 <= q0):
        raise ValueError(f"need q0 > 0 and 0 <= k0 <= q0 (a correlation in [0, 1]), got q0={q0!r}, k0={k0!r}")
    phi = activations.get(activation)
    second = meanfield.second_moment(phi)
    q, k = [float(q0)], [float(k0)]
    for _ in range(blocks):
        qq, kk = q[-1], k[-1]
        mix = (1.0 + (tokens - 1) * kk / qq) / tokens
        qq, kk = qq + mix, kk + mix
        c = min(1.0, kk / qq)
        q.append(qq + second)
        k.append(kk + meanfield.bivariate_expectation(phi.f, q=1.0, c=c))
    q, k = np.array(q), np.array(k)
    return q, k / q


def cross_entropy(h, readout, targets):
    """Per network: the mean cross-entropy loss of logits ``h @ readout^T`` against ``targets``.

    ``h`` (c, T, d) the final representations, ``readout`` (c, V, d), ``targets`` integer class
    labels of shape (c, T) or (T,). Loss per token: logsumexp(z) - z[target].
    """
    h = np.asarray(h, dtype=np.float64)
    z = _matmul_t(h, np.asarray(readout, dtype=np.float64))
    targets = np.broadcast_to(np.asarray(targets), z.shape[:2])
    if not np.issubdtype(targets.dtype, np.integer) or np.any(targets < 0) or np.any(targets >= z.shape[-1]):
        raise ValueError(f"targets must be integer labels in [0, V) with V = {z.shape[-1]}")
    top = np.max(z, axis=-1, keepdims=True)
    lse = top[..., 0] + np.log(np.sum(np.exp(z - top), axis=-1))
    picked = np.take_along_axis(z, targets[..., None], axis=-1)[..., 0]
    return np.mean(lse - picked, axis=-1)


__all__ = ["ATTENTION_ROLES", "AttentionCache", "Block", "MLP_ROLES", "PLACEMENTS", "ROLES", "SCALES",
           "Transformer", "attention_backward", "attention_forward", "correlated_tokens", "cross_entropy",
           "entropy", "frobenius_squared", "last_norm_input", "logit_scale", "logits", "mean_entropy", "mlp_backward", "mlp_forward",
           "relative_residual", "simulate", "softmax", "transformer", "truncated_last_layer", "uniform_attention_stream"]
