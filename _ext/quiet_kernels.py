"""Quiet notebook kernels during a build.

Every kernel that executes a chapter logs, at start, that it talks to the build over TCP without
encryption (on the loopback interface, which is how Jupyter kernels talk), once per chapter, into
the build's output. The build's kernels read ``_ext/ipython/profile_default/ipython_kernel_config.py``,
which raises ipykernel's log level to errors and switches off command history.
"""
import os
from pathlib import Path

PROFILE_DIR = Path(__file__).resolve().parent / "ipython"


def setup(app):
    os.environ["IPYTHONDIR"] = str(PROFILE_DIR)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
