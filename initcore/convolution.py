"""Two-dimensional convolutional layers at initialization: the layer, its transpose, its spectrum.

Every function works on many independent layers at once: arrays carry leading axes (a ``copies``
axis of independent networks, a batch axis) that broadcast the numpy way. Kernels are in torch
layout ``(out_channels, in_channels, kh, kw)`` with odd ``kh, kw``; images are
``(channels, H, W)``. The convolution is what deep-learning frameworks compute (a
cross-correlation), with stride 1 and "same" output size, padded with zeros or circularly.

- :func:`conv2d` - the layer, as sliding windows (im2col) and one matrix product;
- :func:`conv2d_input_grad` - the back-propagated gradient dL/dx (the transposed layer);
- :func:`dense_matrix` - the layer as the dense matrix it is, for small images;
- :func:`frequency_blocks` - the c_out x c_in matrix that a circular layer applies at each spatial
  frequency (the layer's block-circulant matrix, diagonalized by the DFT);
- :func:`delta_orthogonal` - Xiao et al.'s (2018) delta-orthogonal kernels (an initializer);
- :func:`pixel_moments`, :func:`region_moments` - second moments of one layer's outputs and input
  gradients, pixel by pixel, over independent kernels and inputs;
- :func:`border_regions` - corner, edge and interior pixels of a zero-padded layer;
- :func:`circular_stack_statistics`, :func:`circular_singular_values` - the input-output Jacobian
  of a deep linear circular convolutional stack, frequency by frequency;
- :func:`complex_gaussian_log_det_mean` - E[(1/c) log|det G|^2] for a complex Gaussian c x c matrix.
"""
import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import special

from . import schemes
from .montecarlo import over_networks
from .schemes import int_at_least
from .seeding import as_generator

#: The paddings of a "same" convolution, zeros outside the image or the image repeated (a torus).
PADDINGS = ("zeros", "circular")


def _padding(padding):
    if padding not in PADDINGS:
        raise ValueError(f"unknown padding {padding!r}: use one of {PADDINGS}")
    return padding


def _kernel(w, name="w"):
    """``w`` as an array of shape (..., c_out, c_in, kh, kw) with odd kh, kw, or a ValueError."""
    w = np.asarray(w)
    if w.ndim < 4:
        raise ValueError(f"{name} must be a kernel of shape (..., out_channels, in_channels, kh, kw) in torch "
                         f"layout, got shape {w.shape}")
    kh, kw = w.shape[-2:]
    if kh % 2 == 0 or kw % 2 == 0:
        raise ValueError(f"kernel sizes must be odd (a centre tap for a 'same' convolution), got {kh} x {kw}")
    return w


def _image(image):
    """``image`` as (H, W): an int n for n x n, or a pair of positive ints."""
    if isinstance(image, (int, np.integer)) and not isinstance(image, bool):
        image = (int(image), int(image))
    try:
        image = tuple(image)
    except TypeError:
        raise ValueError(f"image must be a size n or a pair (H, W), got {image!r}") from None
    if len(image) != 2 or any(isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1 for n in image):
        raise ValueError(f"image must be a size n or a pair (H, W) of positive integers, got {image!r}")
    return int(image[0]), int(image[1])


def conv2d(x, w, padding="zeros"):
    """The stride-1 "same" convolution of images ``x`` with kernels ``w`` (what frameworks compute).

    ``x`` has shape ``(..., c_in, H, W)`` and ``w`` shape ``(..., c_out, c_in, kh, kw)`` (torch
    layout, odd kernel sizes); their leading axes broadcast. Output pixel ``(o, i, j)`` is
    ``sum_{c, a, b} w[o, c, a, b] * x[c, i + a - ph, j + b - pw]`` with ``ph = (kh - 1) / 2``,
    ``pw = (kw - 1) / 2``: a cross-correlation, as in ``torch.nn.functional.conv2d``. Pixels
    outside the image are zero (``padding="zeros"``) or wrap around (``"circular"``). Returns
    ``(..., c_out, H, W)``. Works for object arrays too (SymPy symbols).
    """
    padding = _padding(padding)
    w = _kernel(w)
    x = np.asarray(x)
    if x.ndim < 3:
        raise ValueError(f"x must be images of shape (..., in_channels, H, W), got shape {x.shape}")
    c_out, c_in, kh, kw = w.shape[-4:]
    if x.shape[-3] != c_in:
        raise ValueError(f"x has {x.shape[-3]} channels but the kernel expects {c_in} (shape {w.shape}, torch "
                         "layout (out, in, kh, kw))")
    height, width = x.shape[-2:]
    ph, pw = (kh - 1) // 2, (kw - 1) // 2
    if padding == "circular" and (ph > height or pw > width):
        raise ValueError(f"a circular padding of {ph} x {pw} pixels needs an image at least that large, got "
                         f"{height} x {width}")
    pad = [(0, 0)] * (x.ndim - 2) + [(ph, ph), (pw, pw)]
    xp = np.pad(x, pad, mode="constant", constant_values=0) if padding == "zeros" else np.pad(x, pad, mode="wrap")
    windows = sliding_window_view(xp, (kh, kw), axis=(-2, -1))          # (..., c_in, H, W, kh, kw)
    patches = np.moveaxis(windows, -5, -3)                                # (..., H, W, c_in, kh, kw)
    patches = patches.reshape(patches.shape[:-5] + (height * width, c_in * kh * kw))
    matrix = np.swapaxes(w.reshape(w.shape[:-3] + (c_in * kh * kw,)), -1, -2)   # (..., c_in kh kw, c_out)
    out = np.matmul(patches, matrix)                                      # (..., H W, c_out)
    return np.swapaxes(out, -1, -2).reshape(out.shape[:-2] + (c_out, height, width))


def conv2d_input_grad(g, w, padding="zeros"):
    """dL/dx for ``y = conv2d(x, w, padding)`` and ``g = dL/dy``: the transposed layer.

    ``g`` has shape ``(..., c_out, H, W)``; the result ``(..., c_in, H, W)``. The transpose of a
    "same" correlation is the correlation with the kernel flipped in space and with its channel
    axes swapped, under the same padding.
    """
    w = _kernel(w)
    return conv2d(g, np.swapaxes(np.flip(w, axis=(-2, -1)), -4, -3), padding)


def dense_matrix(w, image, padding="zeros"):
    """The matrix T of the layer on images of size ``image``: ``conv2d(x).ravel() == T @ x.ravel()``.

    Shape ``(..., c_out H W, c_in H W)`` (rows and columns in the order channel, row, column).
    Built by applying :func:`conv2d` to every basis image, so use it for small images only.
    """
    w = _kernel(w)
    height, width = _image(image)
    c_out, c_in = w.shape[-4:-2]
    n_in = c_in * height * width
    basis = np.eye(n_in).astype(object) if w.dtype == object else np.eye(n_in)
    out = conv2d(basis.reshape(n_in, c_in, height, width), w[..., None, :, :, :, :], padding)
    return np.swapaxes(out.reshape(out.shape[:-3] + (c_out * height * width,)), -1, -2)


def frequency_blocks(w, image):
    """The c_out x c_in matrix K(omega) that a circular layer applies at each spatial frequency.

    For ``padding="circular"`` the layer is block-circulant: with X(omega) the 2-D discrete
    Fourier transform of the input (``numpy.fft.fft2`` over the pixels) the output's is
    ``Y(omega) = K(omega) X(omega)``, where ``K(omega) = sum_u w_u exp(i omega . u)`` sums the
    kernel's taps ``w_u`` at offsets ``u`` from the centre, ``omega = 2 pi (m / H, n / W)``.
    Returns a complex array ``(..., H, W, c_out, c_in)`` (frequency index ``(m, n)`` as numpy's FFT
    orders them). The singular values of the layer's matrix (:func:`dense_matrix`) are those of
    all the blocks together. The image must be at least as large as the kernel.
    """
    w = _kernel(w)
    height, width = _image(image)
    kh, kw = w.shape[-2:]
    if kh > height or kw > width:
        raise ValueError(f"the image ({height} x {width}) must be at least as large as the kernel ({kh} x {kw})")
    m, n = np.meshgrid(np.arange(height) / height, np.arange(width) / width, indexing="ij")
    a, b = np.meshgrid(np.arange(kh) - (kh - 1) // 2, np.arange(kw) - (kw - 1) // 2, indexing="ij")
    angle = 2 * np.pi * (m.reshape(-1, 1) * a.reshape(1, -1) + n.reshape(-1, 1) * b.reshape(1, -1))   # (H W, kh kw)
    taps = w.reshape(w.shape[:-2] + (kh * kw,))
    blocks = np.matmul(taps, np.cos(angle).T) + 1j * np.matmul(taps, np.sin(angle).T)   # (..., c_out, c_in, H W)
    blocks = np.moveaxis(blocks, -1, -3).reshape(w.shape[:-4] + (height, width) + w.shape[-4:-2])
    return np.ascontiguousarray(blocks)


def delta_orthogonal(shape, rng=None, copies=None, dtype=np.float64, gain=1.0):
    """Delta-orthogonal kernels (Xiao et al. 2018, Algorithm 2): an initializer.

    ``shape`` is ``(out, in, *kernel)`` in torch layout with one to three odd kernel sizes and
    ``out >= in``. Every tap is zero except the spatial centre, which holds ``gain`` times a
    Haar-random ``out x in`` matrix with orthonormal columns (drawn by
    :func:`initcore.schemes.orthogonal`). A "same" layer with this kernel applies that matrix to
    the channels of every pixel, so it multiplies the norm of every input by exactly ``gain``.
    Follows the :class:`~initcore.schemes.Initializer` contract (``copies``, ``dtype``).
    """
    shape = schemes.check_shape(shape)
    if not 3 <= len(shape) <= 5:
        raise ValueError(f"delta_orthogonal needs a kernel shape (out, in, *kernel) with 1 to 3 spatial "
                         f"dimensions (torch layout), got {shape}")
    out_channels, in_channels, kernel = shape[0], shape[1], shape[2:]
    if any(k % 2 == 0 for k in kernel):
        raise ValueError(f"delta_orthogonal needs odd kernel sizes (a centre tap), got {kernel}")
    if out_channels < in_channels:
        raise ValueError(f"delta_orthogonal needs out_channels >= in_channels: only then has an out x in "
                         f"matrix orthonormal columns, got out={out_channels}, in={in_channels} (shape {shape})")
    centre = schemes.orthogonal((out_channels, in_channels), gain=gain, rng=rng, copies=copies, dtype=dtype)
    kernels = np.zeros(centre.shape + kernel, dtype=centre.dtype)
    kernels[(Ellipsis,) + tuple(k // 2 for k in kernel)] = centre
    return kernels


def _layer_maps(init, in_channels, out_channels, kernel, image, padding, batch, backward, dtype):
    """A sampler ``draw(rng, c)`` of per-network maps (c, 1 or 2, H, W) of mean-square outputs (and gradients)."""
    in_channels = int_at_least(in_channels, "in_channels")
    out_channels = int_at_least(out_channels, "out_channels")
    kernel = int_at_least(kernel, "kernel")
    batch = int_at_least(batch, "batch")
    if kernel % 2 == 0:
        raise ValueError(f"kernel must be odd (a centre tap for a 'same' convolution), got {kernel}")
    height, width = _image(image)
    padding = _padding(padding)
    shape = (out_channels, in_channels, kernel, kernel)

    def draw(gen, c):
        w = np.asarray(init(shape, rng=gen, copies=c, dtype=dtype), dtype=dtype)
        if w.shape != (c,) + shape:
            raise ValueError(f"init returned shape {w.shape}, expected {(c,) + shape}")
        x = gen.standard_normal((c, batch, in_channels, height, width), dtype=dtype)
        y = conv2d(x, w[:, None], padding)
        maps = [np.mean(np.square(y), axis=(1, 2), dtype=np.float64)]
        if backward:
            g = gen.standard_normal((c, batch, out_channels, height, width), dtype=dtype)
            maps.append(np.mean(np.square(conv2d_input_grad(g, w[:, None], padding)), axis=(1, 2), dtype=np.float64))
        return np.stack(maps, axis=1)

    return draw


def pixel_moments(init, in_channels, out_channels, kernel, image, padding="zeros", *, networks=200, batch=1,
                  backward=False, chunk=32, rng=None, dtype=np.float64):
    """Second moments of one convolutional layer, pixel by pixel, over ``networks`` independent layers.

    Each network draws a kernel ``init((out_channels, in_channels, kernel, kernel), rng=, copies=,
    dtype=)`` and ``batch`` standard normal input images of size ``image``; the value per pixel is
    the mean of ``y**2`` over output channels and inputs. With ``backward=True`` a standard normal
    gradient ``g = dL/dy`` is drawn too and the mean of ``(dL/dx)**2`` over input channels is
    returned as well. Returns an :class:`~initcore.montecarlo.Estimate` of shape ``(H, W)``, or
    ``(2, H, W)`` (forward, backward) with ``backward``; the standard errors come from the spread
    across networks.
    """
    draw = _layer_maps(init, in_channels, out_channels, kernel, image, padding, batch, backward, dtype)
    est = over_networks(lambda gen, c: draw(gen, c).reshape(c, -1), networks, chunk=chunk, rng=rng)
    shape = (2 if backward else 1,) + _image(image)
    value, se = np.reshape(est.value, shape), np.reshape(est.se, shape)
    if not backward:
        value, se = value[0], se[0]
    return type(est)(value, se, est.n)


def border_regions(image, kernel):
    """Boolean masks of the pixels of an ``image`` that a zero-padded ``kernel`` x ``kernel`` layer treats alike.

    ``"corner"``: the four corner pixels; ``"edge"``: pixels on the border whose other coordinate
    is at least ``(kernel - 1) / 2`` from both borders; ``"interior"``: pixels at least that far
    from every border. Other pixels (near a border but not on it, for kernels of 5 and more) are
    in no mask. The image must be at least ``kernel`` pixels in each direction.
    """
    height, width = _image(image)
    kernel = int_at_least(kernel, "kernel")
    r = (kernel - 1) // 2
    if min(height, width) <= 2 * r or kernel % 2 == 0:
        raise ValueError(f"border_regions needs an odd kernel and an image at least as large as the kernel "
                         f"each way (so that edge and interior pixels exist), got kernel {kernel} and image "
                         f"{height} x {width}")
    i, j = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    di = np.minimum(i, height - 1 - i)            # distance to the nearest top/bottom border
    dj = np.minimum(j, width - 1 - j)
    return {"corner": (di == 0) & (dj == 0),
            "edge": ((di == 0) & (dj >= r)) | ((dj == 0) & (di >= r)),
            "interior": (di >= r) & (dj >= r)}


def region_moments(init, in_channels, out_channels, kernel, image, regions, padding="zeros", *, networks=200,
                   batch=1, backward=False, chunk=32, rng=None, dtype=np.float64):
    """Like :func:`pixel_moments`, but per network the mean over the pixels of each region.

    ``regions`` is a list of boolean masks of shape ``(H, W)`` (e.g. the values of
    :func:`border_regions`). Returns an :class:`~initcore.montecarlo.Estimate` of shape ``(R,)``,
    or ``(2, R)`` (forward, backward) with ``backward``.
    """
    masks = np.asarray([np.asarray(m, dtype=bool) for m in regions])
    if masks.ndim != 3 or masks.shape[1:] != _image(image):
        raise ValueError(f"regions must be boolean masks of the image's shape {_image(image)}, got shape "
                         f"{masks.shape[1:] if masks.ndim == 3 else masks.shape}")
    if not masks.reshape(len(masks), -1).any(axis=1).all():
        raise ValueError("every region must contain at least one pixel")
    weights = masks.reshape(len(masks), -1) / masks.reshape(len(masks), -1).sum(axis=1, keepdims=True)
    draw = _layer_maps(init, in_channels, out_channels, kernel, image, padding, batch, backward, dtype)

    def statistic(gen, c):
        maps = draw(gen, c)
        return (maps.reshape(c, maps.shape[1], -1) @ weights.T).reshape(c, -1)

    est = over_networks(statistic, networks, chunk=chunk, rng=rng)
    if backward:
        return type(est)(np.reshape(est.value, (2, -1)), np.reshape(est.se, (2, -1)), est.n)
    return est


def _stack_blocks(init, channels, kernel, image, depth, copies, rng):
    channels = int_at_least(channels, "channels")
    kernel = int_at_least(kernel, "kernel")
    depth = int_at_least(depth, "depth")
    copies = int_at_least(copies, "copies")
    gen = as_generator(rng)
    shape = (channels, channels, kernel, kernel)
    kernels = np.stack([np.asarray(init(shape, rng=gen, copies=copies), dtype=np.float64) for _ in range(depth)],
                       axis=1)                                            # (copies, depth, c, c, k, k)
    return frequency_blocks(kernels, image)                              # (copies, depth, H, W, c, c)


def circular_stack_statistics(init, channels, kernel, image, depth, copies=1, rng=None):
    """Per network: the mean of s^2 and of log s^2 over the singular values s of the input-output
    Jacobian of a deep linear stack of circular convolutions, after each layer.

    ``depth`` layers of ``channels`` channels, ``kernel`` x ``kernel`` kernels drawn by ``init``,
    images of size ``image``. The Jacobian J_l = T_l ... T_1 is block-circulant; at frequency
    omega its block is K_l(omega) ... K_1(omega) (:func:`frequency_blocks`). The mean of s^2 is
    ``||J_l||_F^2 / (c H W)``; the mean of log s^2 is ``sum_(m <= l) (1 / (c H W)) sum_omega
    log |det K_m(omega)|^2``, from determinants, so no singular value is computed. (A tanh
    network at the zero input has the same Jacobian: tanh'(0) = 1.) Returns ``(copies, 2, depth)``.
    """
    blocks = _stack_blocks(init, channels, kernel, image, depth, copies, rng)
    _, logdet = np.linalg.slogdet(blocks)                                # log |det|, (copies, depth, H, W)
    mean_log = np.cumsum(2.0 * np.mean(logdet, axis=(-2, -1)), axis=1) / channels
    mean_sq = np.empty_like(mean_log)
    jac = blocks[:, 0]
    for layer in range(depth):
        if layer:
            jac = np.matmul(blocks[:, layer], jac)
        mean_sq[:, layer] = np.mean(np.sum(np.abs(jac) ** 2, axis=(-2, -1)), axis=(-2, -1)) / channels
    return np.stack([mean_sq, mean_log], axis=1)


def circular_singular_values(init, channels, kernel, image, depth, copies=1, rng=None, at=None):
    """The singular values of the Jacobian of a deep linear circular stack (see
    :func:`circular_stack_statistics`), frequency block by frequency block.

    Returns an array ``(copies, len(at), H * W * channels)``: for each network, the singular values
    of J_l for each depth l in ``at`` (default: every depth 1..``depth``). Singular values below
    about 1e-15 times the largest are rounding noise.
    """
    blocks = _stack_blocks(init, channels, kernel, image, depth, copies, rng)
    at = list(range(1, depth + 1)) if at is None else [int_at_least(a, "a depth in at") for a in at]
    if any(a > depth for a in at):
        raise ValueError(f"every depth in at must be between 1 and depth={depth}, got {at}")
    out = []
    jac = blocks[:, 0]
    for layer in range(1, depth + 1):
        if layer > 1:
            jac = np.matmul(blocks[:, layer - 1], jac)
        if layer in at:
            out.append(np.linalg.svd(jac, compute_uv=False).reshape(copies, -1))
    order = sorted(set(at))
    return np.stack([out[order.index(a)] for a in at], axis=1)


def complex_gaussian_log_det_mean(channels):
    """``E[(1/c) log |det G|^2]`` for a c x c matrix G of i.i.d. circular complex Gaussian entries with
    ``E|G_ij|^2 = 1/c``: ``mean_j psi(j) - log c`` (the complex Bartlett decomposition,
    ``|R_jj|^2 ~ Gamma(j)``).
    The real counterpart is :func:`initcore.spectra.gaussian_log_det_mean`."""
    c = int_at_least(channels, "channels")
    return float(np.mean(special.digamma(np.arange(1, c + 1))) - math.log(c))


__all__ = ["PADDINGS", "border_regions", "circular_singular_values", "circular_stack_statistics",
           "complex_gaussian_log_det_mean", "conv2d", "conv2d_input_grad", "delta_orthogonal", "dense_matrix",
           "frequency_blocks", "pixel_moments", "region_moments"]
