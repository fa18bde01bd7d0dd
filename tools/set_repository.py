"""Set (or clear) the address the book is published at, everywhere it is used.

    python tools/set_repository.py https://github.com/OWNER/NAME    # publish
    python tools/set_repository.py ""                               # no address: install from nowhere

Writes ``repository.url`` in ``_config.yml`` (the source the launch buttons and the repository
button read; both, and the Binder and Colab services, are switched on only with an address) and rewrites the hidden first cell of every
chapter (``initcore.launch.install_cell``), which installs initcore from that address in Colab or
Binder, or, without one, says how to install it.
"""
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from initcore.launch import INSTALL_CELL_TAGS, install_cell  # noqa: E402
from tools.book import notebooks  # noqa: E402


#: The launch services the buttons open, switched on with an address and off without one.
LAUNCH_SERVICES = {"binderhub_url": "https://mybinder.org", "colab_url": "https://colab.research.google.com"}


def main(url):
    cell = install_cell(url)  # validates the address
    config = ROOT / "_config.yml"
    text = config.read_text(encoding="utf-8")
    text, count = re.subn(r"(?m)^(repository:\n  url: ).*$", lambda m: m.group(1) + (url or '""'), text)
    if count != 1:
        raise SystemExit("_config.yml: no 'repository:' block with 'url:' on its next line")
    on = "true" if url else "false"
    text = re.sub(r"(?m)^(  use_(?:repository|issues)_button: ).*$", lambda m: m.group(1) + on, text)
    # Launch buttons need an address to point at (the theme fails on a page without one).
    for key, service in LAUNCH_SERVICES.items():
        text = re.sub(rf"(?m)^(  {key}: ).*$", lambda m: m.group(1) + (service if url else '""'), text)
    config.write_text(text, encoding="utf-8")
    for path in notebooks():
        nb = json.loads(path.read_text(encoding="utf-8"))
        first = next(c for c in nb["cells"] if c["cell_type"] == "code")
        first["source"] = cell.splitlines(keepends=True)
        first["outputs"] = []
        first.setdefault("metadata", {})["tags"] = list(INSTALL_CELL_TAGS)
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"repository: {url or '(none)'}; _config.yml and the first cell of every chapter updated")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(sys.argv[1].strip())
