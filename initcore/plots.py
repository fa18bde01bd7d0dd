"""The book's figure style and the plots that several chapters share."""
import re
import warnings

import matplotlib
import matplotlib.pyplot as plt
import matplotlib.scale
import matplotlib.ticker
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


_SUPERSCRIPT = str.maketrans("-\u22120123456789", "\u207b\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079")
_MATHTEXT_POWER = re.compile(r"^\$\\mathdefault\{(?:([\d.]+)\\times\s*)?(\d+)\^\{([-\u2212]?\d+)\}\}\$$")


def plain_power(label):
    """Matplotlib's mathtext tick label of a power (``$\\mathdefault{2\\times10^{-3}}$``) as plain
    text with Unicode superscripts (``2\u00d710\u207b\u00b3``); any other label unchanged."""
    match = _MATHTEXT_POWER.match(label)
    if not match:
        return label
    coefficient, base, exponent = match.groups()
    return (f"{coefficient}\u00d7" if coefficient else "") + base + exponent.translate(_SUPERSCRIPT)


class PlainLogFormatter(matplotlib.ticker.LogFormatterSciNotation):
    """Matplotlib's log-axis tick labels (the same ticks, the same numbers) as plain text.

    Mathtext labels are parsed one by one when a figure is drawn, and on log axes that parsing was
    about a quarter of a figure's drawing time in the book: the notebook suite draws some forty.
    """

    def __call__(self, x, pos=None):
        return plain_power(super().__call__(x, pos))


class PlainLogScale(matplotlib.scale.LogScale):
    """The ``"log"`` scale with :class:`PlainLogFormatter` tick labels."""

    def set_default_locators_and_formatters(self, axis):
        super().set_default_locators_and_formatters(axis)
        axis.set_major_formatter(PlainLogFormatter(self.base))
        axis.set_minor_formatter(PlainLogFormatter(self.base, labelOnlyBase=(self.subs is not None)))


def _inline_figures_uncropped():
    """In a Jupyter kernel, show figures at their own size instead of cropped to their contents.

    Jupyter's inline backend crops each figure (``bbox_inches="tight"``), which draws it a second
    time to measure it; the book's figures use constrained layout, which already leaves no margin
    to crop, so the second drawing (about a sixth of the book's figure time) is skipped.
    """
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:
        return
    if get_ipython() is None or "inline" not in str(matplotlib.rcParams.get("backend", "")):
        return
    set_matplotlib_formats("png", bbox_inches=None)


def use_style():
    """Apply the book's style to every later figure.

    Besides the settings in :data:`STYLE`, log axes (``set_yscale("log")``, ``loglog``, ...) label
    their ticks as plain text (:class:`PlainLogScale`), and in a Jupyter kernel figures are shown at
    their own size, not cropped (constrained layout leaves nothing to crop).
    """
    matplotlib.rcParams.update(STYLE)
    _inline_figures_uncropped()
    with warnings.catch_warnings():
        # Matplotlib 3.11 pending-deprecates scales whose constructor takes the axis, as
        # LogScale's does (and must, in the matplotlib 3.8 of the browser edition).
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        matplotlib.scale.register_scale(PlainLogScale)


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
