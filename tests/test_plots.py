"""The book's figure helpers (initcore.plots)."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import initcore as ic  # noqa: E402
from initcore import plots  # noqa: E402


def test_depth_axes_label_a_log_scale_and_whole_layers():
    fig, ax = plots.new_figure()
    ax.plot(np.arange(1, 11), 2.0 ** -np.arange(10))
    plots.depth_axes(ax, "second moment")
    fig.canvas.draw()
    assert ax.get_yscale() == "log" and ax.get_ylabel() == "second moment (log scale)"
    assert all(float(t).is_integer() for t in ax.get_xticks())
    plt.close(fig)


def test_estimates_with_error_bars_and_histograms():
    fig, (left, right) = plots.new_figure(ncols=2)
    est = ic.Estimate(np.array([1.0, 2.0]), np.array([0.1, 0.2]), 10)
    bars = plots.plot_estimates(left, [1, 2], est, label="x")
    assert np.allclose(bars.lines[0].get_ydata(), [1.0, 2.0])
    plots.layer_histograms(right, [np.zeros(5), np.ones(5)], ["a", "b"])
    assert right.get_ylabel() == "density" and len(right.get_legend().get_texts()) == 2
    plt.close(fig)
