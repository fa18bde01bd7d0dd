"""Quiet notebook kernels during a build.

Every kernel that executes a chapter logs, at start, that it talks to the build over TCP without
encryption (on the loopback interface, which is how Jupyter kernels talk), once per chapter, into
the build's output. The build's kernels read ``_ext/ipython/profile_default/ipython_kernel_config.py``,
which raises ipykernel's log level to errors and switches off command history.
"""
import os
from pathlib import Path

PROFILE_DIR = Path(__file__).resolve().parent / "ipython"


def _restore(previous):
    def restore(app, exception):
        if previous is None:
            os.environ.pop("IPYTHONDIR", None)
        else:
            os.environ["IPYTHONDIR"] = previous

    return restore


def setup(app):
    # For the kernels of this build only: a build run inside another process (the student edition's,
    # in the test suite) hands the process its own setting back when it finishes.
    app.connect("build-finished", _restore(os.environ.get("IPYTHONDIR")))
    os.environ["IPYTHONDIR"] = str(PROFILE_DIR)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
