"""``glue``: hand a value computed in a notebook to the book's prose (MyST's ``glue:text`` role).

It writes the same output as ``myst_nb.glue`` (MyST-NB's "scrapbook" display data, which the
book build pastes into the text), without importing MyST-NB into the kernel: that import pulls in
nbformat and its JSON-schema validators, a second's start-up in every chapter, and readers who run
a chapter in Colab or a bare Jupyter have initcore but not MyST-NB. ``tests/test_gluing.py`` checks
that the two write identical outputs.
"""

#: The MIME-type prefix of glued values that are stored but not shown (MyST-NB's ``GLUE_PREFIX``).
GLUE_PREFIX = "application/papermill.record/"


def glue(name, variable, display=True):
    """Store ``variable``'s display data under ``name`` in this cell's outputs.

    ``display=False`` stores it without showing it in the notebook; the book shows it wherever the
    prose names it in a ``glue:text`` role (or ``glue:math``, ``glue:figure``, ...).
    """
    from IPython.core.formatters import format_display_data
    from IPython.display import display as ipy_display

    if hasattr(variable, "item") and getattr(variable, "shape", None) == ():  # a numpy scalar
        variable = variable.item()  # shown as 0.5, not np.float64(0.5), which the book cannot format

    mimebundle, metadata = format_display_data(variable)
    mime_prefix = "" if display else GLUE_PREFIX
    metadata["scrapbook"] = dict(name=name, mime_prefix=mime_prefix)
    ipy_display({mime_prefix + k: v for k, v in mimebundle.items()}, raw=True, metadata=metadata)
