"""The book's table of contents, read in one place: its documents, its notebooks, its address."""
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def docnames(root=ROOT):
    """Every document of the book in reading order, from ``_toc.yml``: the root, then each ``file:``."""
    data = yaml.safe_load((Path(root) / "_toc.yml").read_text(encoding="utf-8"))
    names = [data["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                names.append(node["file"])
            for key in ("parts", "chapters", "sections"):
                walk(node.get(key) or [])
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(data)
    return [str(Path(name).with_suffix("")) if Path(name).suffix in {".md", ".ipynb"} else name for name in names]


def notebooks(root=ROOT):
    """The notebooks of the book, in reading order (the documents of ``_toc.yml`` that are notebooks)."""
    root = Path(root)
    return [root / f"{name}.ipynb" for name in docnames(root) if (root / f"{name}.ipynb").exists()]


def repository(root=ROOT):
    """The address the book is published at (``repository.url`` of ``_config.yml``; "" when unset)."""
    config = yaml.safe_load((Path(root) / "_config.yml").read_text(encoding="utf-8")) or {}
    return ((config.get("repository") or {}).get("url") or "").strip()
