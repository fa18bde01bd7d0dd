# The kernels that execute the book during a build (_ext/quiet_kernels.py points IPYTHONDIR here).
c = get_config()  # noqa: F821 - IPython's config loader provides it
# Kernels talk to the build over the loopback interface; ipykernel warns about that at every start.
c.IPKernelApp.log_level = "ERROR"
# A build needs no command history (and writes nothing into the repository).
c.HistoryManager.enabled = False
