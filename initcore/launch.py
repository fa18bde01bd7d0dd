"""The first cell of every chapter: what happens where initcore is missing (Colab, a bare Binder).

The cell is tagged ``remove-cell`` so the HTML book does not show it; on a machine where initcore
is installed it does nothing. Where it is missing, the cell installs it from the book's published
repository, the one address in ``_config.yml`` (``repository.url``). A copy of the book that names
no repository installs nothing from anywhere: the cell says how to install initcore instead.
Whoever publishes the book sets the address once, for the configuration and every chapter:
``python tools/set_repository.py URL``.
"""
import re

INSTALL_CELL_TAGS = ["remove-cell"]

_INSTALL = '''# Runs where initcore is missing (Colab, a fresh Binder): install it from the book's repository.
try:
    import initcore
except ImportError:
    %pip install --quiet "initcore @ git+{repository}"
    import initcore'''

_UNSET = '''# Runs where initcore is missing. This copy of the book names no repository to install it from
# (its publisher sets one with `python tools/set_repository.py URL`), so it installs nothing.
try:
    import initcore
except ImportError:
    raise ImportError("initcore is not installed: in a clone of the book's repository run "
                      "`pip install -r requirements.txt`, then restart the kernel") from None'''

_URL = re.compile(r"https://[\w.-]+(?:/[\w.-]+)+")


def install_cell(repository=""):
    """The first cell of every chapter for the book published at ``repository`` ("" if unpublished)."""
    repository = (repository or "").strip()
    if not repository:
        return _UNSET
    if not _URL.fullmatch(repository):
        raise ValueError(f"the repository address must be an https URL like https://github.com/OWNER/NAME, "
                         f"got {repository!r}")
    return _INSTALL.format(repository=repository)

