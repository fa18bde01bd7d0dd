"""A pytest plugin for the notebook suite: a notebook kernel that does not start is started once more.

nbval then fails every cell of the notebook with "Kernel didn't respond in 60 seconds" or "Kernel
died before replying to kernel_info" (each seen about once in 100 kernel starts of a seed sweep
running four kernels at a time). The likely cause: jupyter_client
chooses a kernel's TCP ports before the kernel binds them, and a process starting at the same moment
can take one in between (jupyter/jupyter_client#487). A kernel that fails twice still fails.
"""
import warnings

import nbval.kernel

_start_new_kernel = nbval.kernel.start_new_kernel


def _start_new_kernel_twice(*args, **kwargs):
    try:
        return _start_new_kernel(*args, **kwargs)
    except RuntimeError as error:
        if "didn't respond" not in str(error) and "died before replying" not in str(error):
            raise
        warnings.warn(f"a notebook kernel did not start ({error}); starting another", stacklevel=2)
        return _start_new_kernel(*args, **kwargs)


def pytest_configure(config):
    nbval.kernel.start_new_kernel = _start_new_kernel_twice


def pytest_unconfigure(config):
    nbval.kernel.start_new_kernel = _start_new_kernel
