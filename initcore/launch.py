"""The first cell of every chapter: install initcore where it is missing (Colab, a bare Binder).

The cell is tagged ``remove-cell`` so the HTML book does not show it; on a
machine where initcore is installed it does nothing.
"""
#: The repository the launch buttons point at (``_config.yml``, ``repository.url``).
REPOSITORY = "https://github.com/initbook/initbook"

INSTALL_CELL = f'''# Runs where initcore is missing (Colab, a fresh Binder): install it from the book's repository.
try:
    import initcore
except ImportError:
    %pip install --quiet "initcore @ git+{REPOSITORY}"
    import initcore'''

INSTALL_CELL_TAGS = ["remove-cell"]
