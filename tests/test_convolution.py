"""initcore.convolution: the layer, its transpose and spectrum, delta-orthogonal kernels, the samplers.

The fans of kernels are compared with the rules as PyTorch's and Keras's documentation and source
state them; the convolution with a direct loop over taps and pixels; the spectrum with the singular
value decomposition of the dense matrix; the sampling helpers with the laws of the chapter.
"""
import math

import numpy as np
import pytest
from scipy import special

import initcore as ic
from initcore import convolution as conv, schemes, spectra


# --- fans: the documented rules ------------------------------------------------------------------

def torch_documented_fans(shape):
    """torch.nn.init._calculate_fan_in_and_fan_out: num_input_fmaps = tensor.size(1),
    num_output_fmaps = tensor.size(0), receptive_field_size = the product of the sizes after the
    first two; fan_in = num_input_fmaps * receptive_field_size, fan_out = num_output_fmaps *
    receptive_field_size."""
    receptive_field_size = math.prod(shape[2:])
    return shape[1] * receptive_field_size, shape[0] * receptive_field_size


def keras_documented_fans(shape):
    """keras initializers' compute_fans for a kernel (..., input_depth, depth): receptive_field_size =
    the product of shape[:-2]; fan_in = shape[-2] * receptive_field_size, fan_out = shape[-1] *
    receptive_field_size."""
    receptive_field_size = math.prod(shape[:-2])
    return shape[-2] * receptive_field_size, shape[-1] * receptive_field_size


@pytest.mark.parametrize("c_in, c_out, kernel", [(3, 64, (7, 7)), (64, 128, (3, 3)), (16, 8, (1, 1)),
                                                 (5, 7, (3, 5)), (4, 6, (3,)), (2, 3, (3, 3, 3))])
def test_fans_follow_pytorch_and_keras_in_both_layouts(c_in, c_out, kernel):
    torch_shape = (c_out, c_in) + kernel
    keras_shape = kernel + (c_in, c_out)
    expected = (c_in * math.prod(kernel), c_out * math.prod(kernel))
    assert ic.fans(torch_shape, "torch") == torch_documented_fans(torch_shape) == expected
    assert ic.fans(keras_shape, "keras") == keras_documented_fans(keras_shape) == expected


# --- the layer -----------------------------------------------------------------------------------

def direct_conv(x, w, padding):
    """The "same" cross-correlation by a loop over pixels, channels and taps (one image, one kernel)."""
    c_out, c_in, kh, kw = w.shape
    _, height, width = x.shape
    out = np.zeros((c_out, height, width))
    for o in range(c_out):
        for i in range(height):
            for j in range(width):
                for c in range(c_in):
                    for a in range(kh):
                        for b in range(kw):
                            ii, jj = i + a - (kh - 1) // 2, j + b - (kw - 1) // 2
                            if padding == "circular":
                                out[o, i, j] += w[o, c, a, b] * x[c, ii % height, jj % width]
                            elif 0 <= ii < height and 0 <= jj < width:
                                out[o, i, j] += w[o, c, a, b] * x[c, ii, jj]
    return out


@pytest.mark.parametrize("padding", conv.PADDINGS)
def test_conv2d_is_the_same_cross_correlation_batched(padding):
    gen = np.random.default_rng(0)
    x = gen.standard_normal((3, 2, 5, 6))            # copies, c_in, H, W
    w = gen.standard_normal((3, 4, 2, 3, 5))         # copies, c_out, c_in, kh, kw
    y = conv.conv2d(x, w, padding)
    assert y.shape == (3, 4, 5, 6)
    for n in range(3):
        assert np.allclose(y[n], direct_conv(x[n], w[n], padding))
    batch = gen.standard_normal((3, 7, 2, 5, 6))     # a batch of images per kernel: w[:, None]
    assert np.allclose(conv.conv2d(batch, w[:, None], padding)[:, 4], conv.conv2d(batch[:, 4], w, padding))


@pytest.mark.parametrize("padding", conv.PADDINGS)
def test_dense_matrix_and_the_transposed_layer(padding):
    gen = np.random.default_rng(1)
    w = gen.standard_normal((2, 3, 2, 3, 3))
    x = gen.standard_normal((2, 2, 4, 5))
    g = gen.standard_normal((2, 3, 4, 5))
    t = conv.dense_matrix(w, (4, 5), padding)
    assert t.shape == (2, 3 * 20, 2 * 20)
    assert np.allclose(np.einsum("nij,nj->ni", t, x.reshape(2, -1)), conv.conv2d(x, w, padding).reshape(2, -1))
    assert np.allclose(np.einsum("nij,ni->nj", t, g.reshape(2, -1)),
                       conv.conv2d_input_grad(g, w, padding).reshape(2, -1))


def test_frequency_blocks_diagonalize_the_circular_layer():
    gen = np.random.default_rng(2)
    w = gen.standard_normal((2, 4, 3, 3, 5))
    x = gen.standard_normal((2, 3, 6, 7))
    blocks = conv.frequency_blocks(w, (6, 7))
    assert blocks.shape == (2, 6, 7, 4, 3)
    y = conv.conv2d(x, w, "circular")
    assert np.allclose(np.einsum("nhwoc,nchw->nohw", blocks, np.fft.fft2(x)), np.fft.fft2(y))
    dense = np.linalg.svd(conv.dense_matrix(w, (6, 7), "circular"), compute_uv=False)
    per_block = np.linalg.svd(blocks, compute_uv=False).reshape(2, -1)
    assert np.allclose(np.sort(dense, axis=1), np.sort(per_block, axis=1))


def test_conv2d_runs_on_sympy_symbols():
    import sympy as sp

    x = np.array(sp.symbols("x0:9"), dtype=object).reshape(1, 3, 3)
    w = np.zeros((1, 1, 3, 3), dtype=object)
    w[0, 0, 1, 2] = sp.Symbol("a")
    y = conv.conv2d(x, w, "zeros")
    assert y[0, 0, 0] == sp.Symbol("a") * sp.Symbol("x1") and y[0, 0, 2] == 0


@pytest.mark.parametrize("call, message", [
    (lambda: conv.conv2d(np.ones((2, 4, 4)), np.ones((1, 3, 3, 3))), "channels"),
    (lambda: conv.conv2d(np.ones((2, 4, 4)), np.ones((1, 2, 2, 3))), "odd"),
    (lambda: conv.conv2d(np.ones((2, 4, 4)), np.ones((1, 2, 3))), "torch"),
    (lambda: conv.conv2d(np.ones((2, 4, 4)), np.ones((1, 2, 3, 3)), "reflect"), "unknown padding"),
    (lambda: conv.conv2d(np.ones(4), np.ones((1, 2, 3, 3))), "images"),
    (lambda: conv.frequency_blocks(np.ones((1, 1, 5, 5)), 3), "at least as large"),
    (lambda: conv.dense_matrix(np.ones((1, 1, 3, 3)), (0, 3)), "positive integers"),
    (lambda: conv.border_regions(4, 5), "at least as large"),
    (lambda: conv.pixel_moments(ic.he_normal, 2, 2, 4, 6), "odd"),
    (lambda: conv.pixel_moments(ic.he_normal, 0, 2, 3, 6), "in_channels"),
    (lambda: conv.region_moments(ic.he_normal, 2, 2, 3, 6, [np.ones((5, 5), bool)]), "shape"),
    (lambda: conv.region_moments(ic.he_normal, 2, 2, 3, 6, [np.zeros((6, 6), bool)]), "at least one pixel"),
    (lambda: conv.circular_singular_values(ic.he_normal, 2, 3, 6, 2, at=[3]), "between 1 and depth"),
])
def test_bad_input_gets_a_clear_message(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- delta-orthogonal kernels --------------------------------------------------------------------

def test_delta_orthogonal_follows_the_initializer_contract():
    one = conv.delta_orthogonal((6, 4, 3, 3), rng=0)
    assert one.shape == (6, 4, 3, 3) and one.dtype == np.float64
    many = conv.delta_orthogonal((6, 4, 3, 5), rng=0, copies=5, dtype=np.float32)
    assert many.shape == (5, 6, 4, 3, 5) and many.dtype == np.float32
    assert not np.array_equal(many[0], many[1])
    assert np.array_equal(conv.delta_orthogonal((6, 4, 3, 3), rng=7), conv.delta_orthogonal((6, 4, 3, 3), rng=7))
    assert conv.delta_orthogonal((4, 4, 5)).shape == (4, 4, 5)             # 1-D kernels
    assert conv.delta_orthogonal((4, 2, 3, 3, 3), copies=2).shape == (2, 4, 2, 3, 3, 3)   # 3-D kernels


@pytest.mark.parametrize("shape", [(6, 4, 3, 3), (5, 5, 5, 3), (8, 3, 1, 1), (4, 2, 3, 3, 3), (3, 3, 7)])
def test_delta_orthogonal_centre_is_orthonormal_and_the_rest_zero(shape):
    w = conv.delta_orthogonal(shape, gain=2.5, copies=3, rng=1)
    centre_index = (slice(None), slice(None), slice(None)) + tuple(k // 2 for k in shape[2:])
    centre = w[centre_index]
    assert np.allclose(np.swapaxes(centre, -1, -2) @ centre, 2.5**2 * np.eye(shape[1]))
    rest = w.copy()
    rest[centre_index] = 0
    assert np.all(rest == 0)


@pytest.mark.parametrize("padding", conv.PADDINGS)
def test_delta_orthogonal_preserves_every_norm_times_the_gain(padding):
    gen = np.random.default_rng(3)
    w = conv.delta_orthogonal((12, 5, 3, 5), rng=gen, copies=4, gain=0.7)
    x = gen.standard_normal((4, 3, 5, 9, 8))
    y = conv.conv2d(x, w[:, None], padding)
    ratio = np.linalg.norm(y.reshape(4, 3, -1), axis=-1) / np.linalg.norm(x.reshape(4, 3, -1), axis=-1)
    assert np.allclose(ratio, 0.7, atol=1e-12)
    singular = np.linalg.svd(conv.dense_matrix(w[0], (4, 5), padding), compute_uv=False)
    assert np.allclose(singular[:5 * 20], 0.7) and np.allclose(singular[5 * 20:], 0)


@pytest.mark.parametrize("shape, message", [
    ((4, 6, 3, 3), "out_channels >= in_channels"),
    ((4, 4, 2, 3), "odd kernel"),
    ((4, 4), "1 to 3 spatial"),
    ((4, 4, 3, 3, 3, 3), "1 to 3 spatial"),
    ((4, 0, 3, 3), "zero or negative"),
])
def test_delta_orthogonal_refuses_bad_shapes(shape, message):
    with pytest.raises(ValueError, match=message):
        conv.delta_orthogonal(shape)


@pytest.mark.parametrize("kwargs, message", [
    ({"gain": 0.0}, "gain"), ({"gain": "relu"}, "gain"), ({"copies": 0}, "copies"), ({"dtype": np.int32}, "dtype"),
])
def test_delta_orthogonal_refuses_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        conv.delta_orthogonal((4, 4, 3, 3), **kwargs)


def test_delta_orthogonal_draws_through_schemes_orthogonal(monkeypatch):
    """A tool that patches initcore.schemes.orthogonal (say, to make it 10% too wide) reaches it."""
    original = schemes.orthogonal
    monkeypatch.setattr(schemes, "orthogonal", lambda *args, **kw: 1.1 * original(*args, **kw))
    w = conv.delta_orthogonal((4, 4, 3, 3), rng=0)
    assert np.allclose(w[:, :, 1, 1].T @ w[:, :, 1, 1], 1.21 * np.eye(4))


# --- the samplers --------------------------------------------------------------------------------

def test_pixel_and_region_moments_follow_the_fan_laws():
    gen = np.random.default_rng(ic.current_seed())
    init = ic.scaled_normal(1.0)                     # Var[W] = 1 / n_in: forward 1, backward n_out / n_in = 2
    regions = conv.border_regions(8, 3)
    est = conv.region_moments(init, 4, 8, 3, 8, [regions[k] for k in ("corner", "edge", "interior")],
                              networks=400, backward=True, rng=gen)
    assert np.shape(est.value) == (2, 3)
    ic.check(est[0], [4 / 9, 2 / 3, 1.0], wrong=[1.0, 1.0, 4 / 9], name="zero padding, forward", family="ratio")
    ic.check(est[1], [8 / 9, 4 / 3, 2.0], wrong=[2.0, 2.0, 1.0], name="zero padding, backward", family="ratio")
    maps = conv.pixel_moments(init, 4, 8, 3, (6, 7), padding="circular", networks=64, backward=True, rng=gen)
    assert np.shape(maps.value) == (2, 6, 7) and np.shape(maps.se) == (2, 6, 7)
    assert np.shape(conv.pixel_moments(init, 4, 8, 3, 5, networks=8, rng=gen).value) == (5, 5)


def test_border_regions_partition_the_pixels_they_name():
    regions = conv.border_regions(8, 3)
    assert [int(regions[k].sum()) for k in ("corner", "edge", "interior")] == [4, 24, 36]
    wide = conv.border_regions((9, 11), 5)
    assert int(wide["corner"].sum()) == 4 and not (wide["corner"] & wide["edge"]).any()
    assert int(wide["interior"].sum()) == 5 * 7


def test_circular_stack_statistics_agree_with_the_dense_jacobian():
    gen = np.random.default_rng(5)
    depth, channels, image = 3, 3, 6
    stats = conv.circular_stack_statistics(ic.scaled_normal(1.0), channels, 3, image, depth, copies=2, rng=gen)
    assert stats.shape == (2, 2, depth)
    gen = np.random.default_rng(5)                   # the same kernels again, drawn the same way
    kernels = [ic.scaled_normal(1.0)((channels, channels, 3, 3), rng=gen, copies=2) for _ in range(depth)]
    jac = np.broadcast_to(np.eye(channels * image**2), (2, channels * image**2, channels * image**2))
    for layer, w in enumerate(kernels):
        jac = conv.dense_matrix(w, image, "circular") @ jac
        s = np.linalg.svd(jac, compute_uv=False)
        assert np.allclose(stats[:, 0, layer], np.mean(s**2, axis=1))
        assert np.allclose(stats[:, 1, layer], np.mean(np.log(s**2), axis=1))
    values = conv.circular_singular_values(ic.scaled_normal(1.0), channels, 3, image, depth, copies=2, rng=5,
                                           at=[depth, 1])
    assert values.shape == (2, 2, channels * image**2)
    assert np.allclose(np.sort(values[:, 0], axis=1), np.sort(s, axis=1))


def test_delta_orthogonal_stacks_are_isometries():
    stats = conv.circular_stack_statistics(conv.delta_orthogonal, 5, 3, 6, 20, copies=2, rng=6)
    assert np.allclose(stats[:, 0], 1) and np.allclose(stats[:, 1], 0, atol=1e-12)
    assert np.allclose(conv.circular_singular_values(conv.delta_orthogonal, 5, 3, 6, 20, rng=6), 1)


def test_complex_gaussian_log_det_mean():
    assert conv.complex_gaussian_log_det_mean(1) == pytest.approx(-np.euler_gamma)   # E log Exp(1)
    c = 6
    gen = np.random.default_rng(ic.current_seed())
    g = (gen.standard_normal((20000, c, c)) + 1j * gen.standard_normal((20000, c, c))) / np.sqrt(2 * c)
    draws = 2 * np.linalg.slogdet(g)[1] / c
    ic.check(ic.Estimate.from_samples(draws), conv.complex_gaussian_log_det_mean(c),
             wrong=spectra.gaussian_log_det_mean(c), name="complex Bartlett", family="log")
    assert conv.complex_gaussian_log_det_mean(c) == pytest.approx(np.mean(special.digamma(np.arange(1, c + 1)))
                                                                  - math.log(c))
