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


def test_plain_power_turns_mathtext_powers_into_superscripts():
    assert ic.plots.plain_power(r"$\mathdefault{10^{-3}}$") == "10\u207b\u00b3"
    assert ic.plots.plain_power("$\\mathdefault{10^{\u221211}}$") == "10\u207b\u00b9\u00b9"
    assert ic.plots.plain_power(r"$\mathdefault{2\times10^{0}}$") == "2\u00d710\u2070"
    assert ic.plots.plain_power("0.5") == "0.5"
    assert ic.plots.plain_power(r"$\alpha$") == r"$\alpha$"


def test_log_axes_of_the_book_style_label_ticks_as_plain_text():
    fig, ax = ic.plots.new_figure()
    ax.plot([1, 2, 3], [1e-3, 1, 1e3])
    ax.set_yscale("log")
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    plt.close(fig)
    assert labels and not any("$" in label for label in labels)
    assert "10\u2070" in labels
