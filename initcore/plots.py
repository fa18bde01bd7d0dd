"""The book's figure style and the plots that several chapters share."""
import matplotlib
import matplotlib.pyplot as plt
import numpy as np

#: One style for every figure in the book.
STYLE = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    "lines.markersize": 5,
    "axes.prop_cycle": matplotlib.cycler(color=["#1b6ca8", "#d1495b", "#2e933c", "#edae49",
                                                "#6c4f9c", "#00798c", "#8d6346", "#555555"]),
}


def use_style():
    """Apply the book's style to every later figure."""
    matplotlib.rcParams.update(STYLE)


def new_figure(ncols=1, nrows=1, width=None, height=None, **kwargs):
    """A figure in the book's style: ``fig, axes`` as from ``matplotlib.pyplot.subplots``."""
    use_style()
    w, h = STYLE["figure.figsize"]
    size = (width or w * (1 if ncols == 1 else 0.75 * ncols), height or h * (1 if nrows == 1 else 0.8 * nrows))
    return plt.subplots(nrows, ncols, figsize=size, constrained_layout=True, **kwargs)


def plot_estimates(ax, x, estimate, label=None, k=2.0, **kwargs):
    """Plot an array :class:`~initcore.montecarlo.Estimate` against ``x`` with +-k standard-error bars."""
    return ax.errorbar(x, estimate.value, yerr=k * np.asarray(estimate.se), label=label, marker="o",
                       capsize=2, **kwargs)


def depth_axes(ax, ylabel, log=True, xlabel="layer $l$"):
    """Label an axis for a quantity against depth, on a log scale by default; layers are whole numbers."""
    from matplotlib.ticker import MaxNLocator

    if log:
        ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel + (" (log scale)" if log else ""))
    return ax


def layer_histograms(ax, arrays, labels, bins=60, range=None, xlabel="value"):
    """Overlaid normalized histograms, one per layer (Glorot & Bengio's Figures 6 and 7)."""
    for values, label in zip(arrays, labels):
        ax.hist(np.ravel(values), bins=bins, range=range, density=True, histtype="step", label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    ax.legend()
    return ax
