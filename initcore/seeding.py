"""One source for every random draw in the book.

With ``rng=None`` every function of ``initcore`` draws from a single
default generator. It is seeded with :data:`DEFAULT_SEED` unless the
environment variable ``INITCORE_SEED`` names another integer, so the whole
book can be re-run under other seeds (``INITCORE_SEED=7 pytest``).
"""
import os

import numpy as np

#: The seed used when ``INITCORE_SEED`` is not set.
DEFAULT_SEED = 2010

_default = None


def current_seed():
    """Return the seed in force: ``INITCORE_SEED`` if set, else :data:`DEFAULT_SEED`."""
    text = os.environ.get("INITCORE_SEED", "").strip()
    if not text:
        return DEFAULT_SEED
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"INITCORE_SEED must be an integer, got {text!r}") from None


def reset(seed=None):
    """Restart the default generator (from ``seed``, or from :func:`current_seed`)."""
    global _default
    _default = np.random.default_rng(current_seed() if seed is None else seed)
    return _default


def as_generator(rng=None):
    """Turn ``rng`` into a ``numpy.random.Generator``.

    ``None`` gives the shared default generator, an ``int`` a fresh generator
    seeded with it, and a ``Generator`` is returned as it is.
    """
    if rng is None:
        return _default if _default is not None else reset()
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise ValueError(f"rng must be None, an int seed or a numpy.random.Generator, got {type(rng).__name__}")
