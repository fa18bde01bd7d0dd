"""A local Sphinx extension: every chapter runs in the reader's browser, from the book's own site.

At the end of an HTML build it makes the book's JupyterLite site in ``<html>/lite/``
(``tools/lite.py`` does the work: the Pyodide runtime and packages, initcore's wheel built from this
repository, Lite copies of the chapters) and gives every page made from a notebook a "Run in the
browser" button in its header, which opens that chapter there.

The Lite site is built by this extension rather than by jupyterlite-sphinx: the book needs no
Lite directive in its pages, only the site and one button, and running ``jupyter lite build``
from here keeps every setting (apps, Pyodide, contents) in one file, ``tools/lite.py``, which can
also build the site alone (``python -m tools.lite build``) while iterating.

Where an input is missing (``npm ci`` or ``python -m tools.lite download`` not run) the book
builds without live code: the build prints why and no page shows the button. A file that fails
its hash stops the build.

Configuration (``sphinx: config:``): ``lite_repository``, the folder that holds ``tools/``,
``lite/``, ``node_modules/`` and initcore's sources (default: the book's source folder; the student
edition, built from a copy of the sources, points it at the repository).

Enabled by ``sphinx: local_extensions: {lite_site: _ext}`` in ``_config.yml``.
"""
import sys
from pathlib import Path

from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)


def _repository(app):
    return Path(app.config.lite_repository or app.srcdir).resolve()


def _tools(app):
    """``tools.lite`` of the repository (importable from the book's own folder)."""
    repository = str(_repository(app))
    if repository not in sys.path:
        sys.path.insert(0, repository)
    from tools import lite

    return lite


def check_inputs(app):
    """Decide, before any page is written, whether this build makes the Lite site."""
    app.lite_unavailable = None
    if app.builder.format != "html":
        app.lite_unavailable = "not an HTML build"
        return
    lite = _tools(app)
    try:
        lite.inputs(_repository(app))
    except lite.LiteUnavailable as why:
        app.lite_unavailable = str(why)
        logger.info(f"lite: the book builds WITHOUT live code (no 'Run in the browser' button): {why}")
    except lite.LiteError as error:
        raise ExtensionError(f"lite: {error}") from None


def add_button(app, pagename, templatename, context, doctree):
    """A "Run in the browser" button in the header of every page made from a notebook."""
    if getattr(app, "lite_unavailable", "not set up") is not None or doctree is None:
        return
    if not str(app.env.doc2path(pagename)).endswith(".ipynb"):
        return
    lite = _tools(app)
    url = lite.lite_url(pagename)
    path, _, query = url.partition("?")
    context.setdefault("header_buttons", []).insert(0, {
        "type": "link",
        "url": context["pathto"](path, 1) + "?" + query,
        "text": "Run in the browser",
        "tooltip": "Run this chapter in your browser (JupyterLite, Python on Pyodide): nothing to install",
        "icon": "fas fa-play",
        "label": "lite-launch",
    })


def build_site(app, exception):
    """Build the Lite site into ``<html>/lite/`` once the book is written."""
    if exception is not None or getattr(app, "lite_unavailable", "not set up") is not None:
        return
    lite = _tools(app)
    try:
        lite.build(app.srcdir, Path(app.outdir, lite.SITE_DIR), Path(app.outdir).parent / "lite-work",
                   repository=_repository(app), log=logger.info)
    except (lite.LiteUnavailable, lite.LiteError) as error:
        raise ExtensionError(f"lite: {error}") from None


def setup(app):
    app.add_config_value("lite_repository", "", "env")
    app.connect("builder-inited", check_inputs)
    # after sphinx-book-theme's header buttons (priority 501), which it starts anew on every page
    app.connect("html-page-context", add_button, priority=600)
    app.connect("build-finished", build_site)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
