"""Settings for the whole test run.

- pytest runs two notebook kernels at once (``-n 2``, pyproject.toml) on a two-core machine, and
  OpenBLAS threads that outnumber the cores stall each other: every kernel gets one BLAS thread.
  Kernels inherit this environment; an explicit setting by the caller wins.
- Under ``--dist loadscope`` each module and each notebook is one unit of work, handed out in
  collection order. The longest units go first (modules marked ``builds_book``, then notebooks,
  longest first by their times in the last benchmark, ``benchmarks/notebook_seconds.json``, a
  notebook missing there by its number of cells; then the many short unit-test modules), so that no worker ends the run alone on a long unit while the other waits
  (``--no-loadscope-reorder`` keeps this order).
- ``INITCORE_STRICT=1``: under the test suite (and so the seed sweep and grading, which run it) an
  underpowered check fails; in a reader's own session it only warns (``initcore.montecarlo.strict``).
- A notebook kernel that does not start is started once more (the plugin
  ``tests/plugins/kernel_retry.py``).
"""
import json
import os

for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")
os.environ["INITCORE_STRICT"] = "1"

pytest_plugins = ["tests.plugins.kernel_retry"]


def _scope(item):
    return item.nodeid.rsplit("::", 1)[0]


#: Each notebook's seconds inside the suite, as ``benchmarks/run.py`` last measured them.
NOTEBOOK_SECONDS = os.path.join(os.path.dirname(__file__), "benchmarks", "notebook_seconds.json")


def _measured_seconds():
    """``{notebook path: seconds}`` from the last benchmark ({} where there is none)."""
    try:
        with open(NOTEBOOK_SECONDS, encoding="utf-8") as f:
            return {str(k): float(v) for k, v in json.load(f).items()}
    except (OSError, ValueError, AttributeError):
        return {}


def pytest_collection_modifyitems(items):
    sizes = {}
    for item in items:
        sizes[_scope(item)] = sizes.get(_scope(item), 0) + 1
    measured = _measured_seconds()
    seconds = {_scope(item): measured.get(_scope(item), 0.0) for item in items if ".ipynb" in item.nodeid}

    def rank(item):
        if item.get_closest_marker("builds_book"):
            group = 0
        elif ".ipynb" in item.nodeid:
            group = 1
        else:
            group = 2
        return group, -seconds.get(_scope(item), 0.0), -sizes[_scope(item)]

    items.sort(key=rank)  # stable: the items of a scope keep their order
