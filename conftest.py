"""pytest runs two notebook kernels at once (``-n 2``, pyproject.toml) on a two-core machine, and
OpenBLAS threads that outnumber the cores stall each other: give every kernel one BLAS thread.
Kernels inherit this environment; an explicit setting by the caller wins."""
import os

for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")
