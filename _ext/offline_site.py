"""A local Sphinx extension: the built book reads offline.

1. MathJax 3 is served by the site itself. ``npm ci`` installs the version pinned in
   ``package-lock.json`` into ``node_modules/mathjax``; every HTML build copies its ``es5``
   directory (and its licence) to ``_static/mathjax/``, which ``mathjax_path`` in ``_config.yml``
   points at. An HTML build without it stops with a message that says to run ``npm ci``.
2. A script that has only a body (no ``src``) is written once per page. Sphinx 7.4 writes such a
   script twice when an extension adds it after the builder started (sphinx-thebe's
   ``const THEBE_JS_URL = ...``), and the second copy is a JavaScript error in every page.

Enabled by ``sphinx: local_extensions: {offline_site: _ext}`` in ``_config.yml``.
"""
import shutil
from pathlib import Path

from sphinx.errors import ExtensionError

#: Where ``npm ci`` puts MathJax, relative to the book's root.
MATHJAX_SOURCE = Path("node_modules", "mathjax")
#: Where the site serves it, relative to the HTML output directory.
MATHJAX_TARGET = Path("_static", "mathjax")


def copy_mathjax(app):
    """Copy MathJax from node_modules into the site (HTML builders only)."""
    if app.builder.format != "html":
        return
    source = Path(app.srcdir, MATHJAX_SOURCE)
    if not (source / "es5" / "tex-chtml.js").is_file():
        raise ExtensionError(
            f"MathJax is missing from {source}: run `npm ci` in {app.srcdir} "
            "(the book serves MathJax itself so that math is typeset offline)")
    target = Path(app.outdir, MATHJAX_TARGET)
    shutil.copytree(source / "es5", target, dirs_exist_ok=True)
    shutil.copy2(source / "LICENSE", target / "LICENSE")


def _key(script):
    attributes = tuple(sorted((k, str(v)) for k, v in getattr(script, "attributes", {}).items()))
    filename = getattr(script, "filename", script) or ""
    return (filename, getattr(script, "priority", None), attributes)


def drop_duplicate_scripts(app, pagename, templatename, context, doctree):
    """Keep the first of equal scripts (same file or body, priority and attributes)."""
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen, unique = set(), []
    for script in scripts:
        key = _key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def setup(app):
    app.connect("builder-inited", copy_mathjax)
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
