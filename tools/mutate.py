"""Do the chapters notice a wrong initializer? Run them with every weight drawn too wide.

    python -m tools.mutate book/modern                 # every notebook under a folder
    python -m tools.mutate book/modern/residual_networks.ipynb --factor 0.9

Each notebook is executed (with the default seed) after a first cell that wraps initcore's
weight-drawing primitives (``schemes.normal``, ``uniform``, ``truncated_normal``, ``orthogonal``,
``identity``: every initializer of the package draws through one of them) so that every weight
comes out ``factor`` times too large (1.1 by default: a standard deviation 10% too wide, a variance
21% too large). A chapter whose checks test the weights' scale must then stop at a failing check:
the mutation is *caught*. The report says, per notebook, ``caught`` with the first failing cell's
error, or ``NOT caught``; the exit status is 1 when any notebook did not catch it.

Weights a chapter draws without initcore (a teacher network made with ``rng.normal``, say) are
left alone, as are inputs and biases.
"""
import argparse
import re
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

#: The primitives every initializer of initcore draws through.
PRIMITIVES = ("normal", "uniform", "truncated_normal", "orthogonal", "identity")


def mutation_cell(factor):
    """The source of a cell that makes every initcore weight ``factor`` times too large.

    The wrapper replaces each primitive wherever initcore holds it (``initcore.orthogonal`` is the
    same function object as ``initcore.schemes.orthogonal``), in every initcore module loaded.
    """
    return f"""\
import importlib, pkgutil, sys
import numpy as _np
import initcore as _ic
for _info in pkgutil.iter_modules(_ic.__path__):
    importlib.import_module("initcore." + _info.name)
_FACTOR = {float(factor)!r}


def _too_wide(draw):
    def mutated(*args, **kwargs):
        out = draw(*args, **kwargs)
        return (out * _np.asarray(_FACTOR, dtype=out.dtype)).astype(out.dtype, copy=False)
    mutated.__name__ = draw.__name__
    mutated.__wrapped__ = draw
    return mutated


for _name in {PRIMITIVES!r}:
    _original = getattr(_ic.schemes, _name)
    _wrapped = _too_wide(_original)
    for _module in [m for key, m in list(sys.modules.items()) if key == "initcore" or key.startswith("initcore.")]:
        for _attr, _value in list(vars(_module).items()):
            if _value is _original:
                setattr(_module, _attr, _wrapped)
"""


def run(path, factor=1.1, timeout=600):
    """``(caught, message)`` for one notebook executed with every initcore weight ``factor`` too large."""
    nb = nbformat.read(path, as_version=4)
    first_code = next(i for i, cell in enumerate(nb.cells) if cell.cell_type == "code")
    nb.cells.insert(first_code + 1, nbformat.v4.new_code_cell(mutation_cell(factor)))
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(Path(path).parent)}})
    try:
        client.execute()
    except CellExecutionError as error:
        lines = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in str(error).splitlines() if line.strip()]
        return True, lines[-1][:300] if lines else "a cell failed"
    return False, "every cell ran: no check noticed the wider weights"


def _paths(args):
    for arg in args:
        path = Path(arg)
        yield from (sorted(path.rglob("*.ipynb")) if path.is_dir() else [path])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", help="notebooks or folders of notebooks")
    parser.add_argument("--factor", type=float, default=1.1, help="every weight times this (default 1.1)")
    args = parser.parse_args(argv)
    missed = 0
    for path in _paths(args.paths):
        caught, message = run(path, args.factor)
        missed += not caught
        print(f"{'caught    ' if caught else 'NOT caught'}  {path}: {message}", flush=True)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
