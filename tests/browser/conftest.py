"""Fixtures for reading the built book in a real browser.

The book is read as people read it: the HTML in ``_build/html`` is served on 127.0.0.1 and opened
in headless Chromium (Debian's ``chromium`` package) through the ``playwright`` package, which
drives the browser that is installed and never downloads one of its own.

- The site: ``_build/html`` when it is newer than every source of the book (``.ci/run`` makes it
  with the strict build just before ``pytest``); otherwise ``jupyter-book build .`` makes it first.
  MathJax must be installed (``npm ci``): the build copies it into the site.
- The browser: ``/usr/bin/chromium`` (or ``$CHROMIUM``). Where it is missing the browser tests are
  skipped, except in CI (``CI=true``), where a missing browser is a failure.
"""
import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
MATHJAX = ROOT / "node_modules" / "mathjax" / "es5" / "tex-chtml.js"

#: Flags for a quiet headless Chromium that talks to no one but the pages it is given.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # No host but 127.0.0.1 resolves: a request to another host is never sent (the tests record
    # every such attempt), so they also hold on a machine with a network.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]


def in_ci():
    """True in CI (``CI=true``), where a test that cannot run must fail rather than skip."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def skip_or_fail(reason):
    """Skip on a developer's machine; fail in CI, where the browser test must run."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: the browser test must run in CI)", pytrace=False)
    pytest.skip(reason)


def toc_docnames():
    """The documents of the book in reading order (``tools.book.docnames``)."""
    from tools.book import docnames

    return docnames(ROOT)


def pytest_generate_tests(metafunc):
    """``docname``: every document of the book, from ``_toc.yml``, in reading order."""
    if "docname" in metafunc.fixturenames:
        metafunc.parametrize("docname", toc_docnames())


def _book_sources():
    """Files whose change makes a new build necessary."""
    yield from (ROOT / name for name in ("_config.yml", "_toc.yml", "references.bib", "package-lock.json",
                                         "_ext/offline_site.py", "_ext/lite_site.py", "tools/lite.py",
                                         "lite/requirements.txt"))
    for docname in toc_docnames():
        yield from (ROOT / f"{docname}{suffix}" for suffix in (".md", ".ipynb"))


def _site_is_current():
    pages = list(SITE.rglob("*.html"))
    if not (SITE / "index.html").exists() or not pages:
        return False
    newest_source = max((p.stat().st_mtime for p in _book_sources() if p.exists()), default=0)
    return max(p.stat().st_mtime for p in pages) >= newest_source


@pytest.fixture(scope="session")
def site():
    """The built book (``_build/html``), built first if it is missing or older than its sources."""
    if not MATHJAX.exists():
        pytest.fail(f"{MATHJAX.relative_to(ROOT)} is missing: run `npm ci` in {ROOT} first "
                    "(the book serves MathJax itself)", pytrace=False)
    if not _site_is_current():
        here = str(Path(sys.executable).parent)
        jupyter_book = shutil.which("jupyter-book", path=here) or "jupyter-book"
        done = subprocess.run([jupyter_book, "build", "."], cwd=ROOT, capture_output=True,
                              text=True)
        if done.returncode != 0 or not (SITE / "index.html").exists():
            pytest.fail("`jupyter-book build .` failed:\n" + (done.stdout + done.stderr)[-4000:],
                        pytrace=False)
    return SITE


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the signature of the base class
        pass


@pytest.fixture(scope="session")
def site_url(site):
    """The site served on 127.0.0.1 (a free port) by a thread of this process."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium from the system, driven by playwright."""
    executable = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).exists():
        skip_or_fail("Chromium is not installed (Debian: `apt-get install chromium`)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("the `playwright` package is not installed (pip install -r requirements.txt)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, headless=True,
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def reader(browser):
    """One browser context for every page, as one reader's browser: pages after the first come
    partly from its HTTP cache and reuse its compiled JavaScript (a third less time than a fresh
    context per page)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    yield context
    context.close()


@pytest.fixture(scope="session")
def screenshots():
    """Where each page's screenshot is kept (``_build/screenshots``)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
