"""tools/mutate.py: the wrapper makes every initcore weight too wide, wherever initcore holds the function."""
import subprocess
import sys

import pytest

from tools.mutate import PRIMITIVES, mutation_cell

PROBE = """
import numpy as np
import initcore as ic
from initcore import schemes
draws = {
    "he_normal": ic.he_normal((400, 400), rng=0, copies=2, dtype=np.float32),
    "glorot_uniform": ic.glorot_uniform((400, 400), rng=0),
    "orthogonal": ic.orthogonal((50, 50), rng=0),
    "identity": ic.identity((3, 3)),
    "scaled_normal": ic.scaled_normal(2.0)((400, 400), rng=0),
    "variance_scaling": schemes.variance_scaling((400, 400), rng=0),
}
for name, w in draws.items():
    print(name, w.dtype, float(np.mean(w.astype(np.float64) ** 2)))
"""


def _probe(prelude):
    out = subprocess.run([sys.executable, "-c", prelude + PROBE], capture_output=True, text=True, check=True).stdout
    return {name: (dtype, float(value)) for name, dtype, value in (line.split() for line in out.splitlines())}


def test_every_initializer_is_drawn_too_wide_and_keeps_its_dtype():
    plain, mutated = _probe(""), _probe(mutation_cell(1.1))
    assert plain.keys() == mutated.keys()
    for name, (dtype, value) in plain.items():
        assert mutated[name][0] == dtype
        assert mutated[name][1] == pytest.approx(1.21 * value, rel=1e-5), name


def test_the_primitives_exist():
    from initcore import schemes
    assert all(callable(getattr(schemes, name)) for name in PRIMITIVES)
