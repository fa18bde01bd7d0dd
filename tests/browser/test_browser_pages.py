"""Every page of the book, read in headless Chromium from a local server, with no network.

For each document of the TOC the page must typeset all its math (MathJax served by the site
itself), load every image, request nothing from any host but 127.0.0.1 and log no JavaScript
error. A screenshot of each page is kept in ``_build/screenshots/``: the first screen, or the whole
page when the page has a problem or ``BOOK_SCREENSHOTS=full`` is set (a whole long page takes
about 1.5 s to capture, most of this test's time). ``docname`` runs over the documents of
``_toc.yml`` (``conftest.pytest_generate_tests``).
"""
import html.parser
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

#: Builds the book first when ``_build/html`` is stale (conftest.py schedules such modules first).
pytestmark = pytest.mark.builds_book

ROOT = Path(__file__).resolve().parents[2]

LOCAL_HOSTS = {"127.0.0.1"}
#: Capture every page whole, not only its first screen (pages with a problem always are).
FULL_PAGE_SCREENSHOTS = os.environ.get("BOOK_SCREENSHOTS", "").strip().lower() == "full"
#: URL schemes that never leave the page.
INLINE_SCHEMES = {"data", "blob", "about"}

#: Wait until MathJax has started and finished its first typesetting pass (on a page with math).
WAIT_FOR_MATH = """async () => {
    const math = document.querySelectorAll('.math').length;
    if (math === 0) return {math: 0, mathjax: !!(window.MathJax && window.MathJax.startup)};
    const start = Date.now();
    while (!(window.MathJax && window.MathJax.startup && window.MathJax.startup.promise)) {
        if (Date.now() - start > 20000) return {math, mathjax: false};
        await new Promise(r => setTimeout(r, 100));
    }
    await window.MathJax.startup.promise;
    return {math, mathjax: true};
}"""

#: The math elements that MathJax left untypeset, and the TeX errors it rendered.
MATH_REPORT = """() => ({
    containers: document.querySelectorAll('mjx-container').length,
    untypeset: [...document.querySelectorAll('.math')]
        .filter(e => !e.querySelector('mjx-container'))
        .map(e => e.textContent.trim().slice(0, 80)),
    errors: [...document.querySelectorAll('mjx-merror')]
        .map(e => (e.getAttribute('data-mjx-error') || e.textContent).slice(0, 120)),
})"""

#: TeX that reached the reader as text: delimiters or equation labels in prose (outside code and
#: typeset math), such as a "$$ ... $$ (label)" block written inside a paragraph.
TEX_LEFTOVERS = r"""() => {
    const skip = 'pre, code, script, style, textarea, mjx-container, .highlight, .math';
    const walker = document.createTreeWalker(document.querySelector('main') || document.body,
                                             NodeFilter.SHOW_TEXT);
    const found = [];
    const pattern = /\$\$|\\\(|\\\[|\\begin\{|\((eq|fig|ex)-[A-Za-z0-9_-]+\)/;
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const parent = node.parentElement;
        if (!parent || parent.closest(skip)) continue;
        const text = node.textContent;
        const isMath = n => n && n.nodeType === 1 && n.matches('.math');
        const beforeMath = isMath(node.nextSibling) && /\$\s*$/.test(text);
        const afterMath = isMath(node.previousSibling) && /^\s*\$/.test(text);
        if (pattern.test(text) || beforeMath || afterMath) found.push(text.trim().slice(0, 80));
    }
    return found;
}"""

#: Load every image (lazy ones too) and list those that did not load.
BROKEN_IMAGES = """async () => {
    const images = [...document.images];
    images.forEach(img => { img.loading = 'eager'; });
    await Promise.all(images.map(img => img.complete ? null : new Promise(done => {
        img.addEventListener('load', done);
        img.addEventListener('error', done);
        setTimeout(done, 15000);
    })));
    return {count: images.length,
            broken: images.filter(img => !(img.complete && img.naturalWidth > 0))
                          .map(img => img.getAttribute('src'))};
}"""


def is_local(url):
    parts = urlsplit(url)
    return parts.scheme in INLINE_SCHEMES or parts.hostname in LOCAL_HOSTS


def test_page_reads_offline(reader, site, site_url, screenshots, docname):
    page_file = site / f"{docname}.html"
    assert page_file.exists(), f"{docname} is in _toc.yml but {page_file} was not built"

    foreign, js_errors, failed = [], [], []
    page = reader.new_page()
    # Requests to other hosts are recorded here; Chromium cannot resolve those hosts, so none is sent.
    page.on("request", lambda r: foreign.append(f"{r.resource_type}: {r.url}")
            if not is_local(r.url) else None)
    page.on("console", lambda msg: js_errors.append(f"console.{msg.type}: {msg.text}")
            if msg.type == "error" else None)
    page.on("pageerror", lambda exc: js_errors.append(f"uncaught: {exc}"))
    page.on("response", lambda r: failed.append(f"HTTP {r.status}: {r.url}")
            if r.status >= 400 else None)
    page.on("requestfailed", lambda r: failed.append(f"{r.failure}: {r.url}")
            if is_local(r.url) else None)
    try:
        page.goto(site_url + f"{docname}.html", wait_until="load")
        math_state = page.evaluate(WAIT_FOR_MATH)
        math = page.evaluate(MATH_REPORT)
        leftovers = page.evaluate(TEX_LEFTOVERS)
        images = page.evaluate(BROKEN_IMAGES)
        page.evaluate("document.fonts.ready.then(() => true)")
        shot = screenshots / (docname.replace("/", "__") + ".png")
        seen = _problems(foreign, js_errors, failed, math_state, math, leftovers, images)
        page.screenshot(path=str(shot), full_page=bool(seen) or FULL_PAGE_SCREENSHOTS)
    finally:
        page.close()
    # again, with whatever the page requested or logged while the screenshot was taken
    problems = _problems(foreign, js_errors, failed, math_state, math, leftovers, images)
    assert not problems, f"{docname} (screenshot {shot}):\n  " + "\n  ".join(problems)


def _problems(foreign, js_errors, failed, math_state, math, leftovers, images):
    """What a reader of the page would miss, one line per kind of problem."""
    problems = []
    if foreign:
        problems.append("requests to other hosts: " + "; ".join(foreign))
    if js_errors:
        problems.append("JavaScript errors: " + "; ".join(js_errors))
    if failed:
        problems.append("failed requests: " + "; ".join(failed))
    if math_state["math"] and not math_state["mathjax"]:
        problems.append(f"{math_state['math']} math elements but MathJax never started")
    if math_state["math"] and math["containers"] == 0:
        problems.append("the page has math but no MathJax output (mjx-container)")
    if math["untypeset"]:
        problems.append(f"{len(math['untypeset'])} math elements left untypeset, e.g. "
                        + " | ".join(math["untypeset"][:3]))
    if math["errors"]:
        problems.append("TeX errors: " + " | ".join(math["errors"][:5]))
    if leftovers:
        problems.append("TeX shown as text (a display equation inside a paragraph?): "
                        + " | ".join(leftovers[:5]))
    if images["broken"]:
        problems.append("images that did not load: " + ", ".join(images["broken"]))
    return problems


class _AssetLinks(html.parser.HTMLParser):
    """The URLs a page loads by itself: scripts, stylesheets, fonts, icons, images, frames."""

    LOADS = {"script": "src", "img": "src", "iframe": "src", "source": "src", "video": "src",
             "audio": "src", "embed": "src", "object": "data"}
    LINK_RELS = {"stylesheet", "preload", "modulepreload", "icon", "shortcut", "apple-touch-icon",
                 "manifest", "prefetch", "preconnect", "dns-prefetch"}

    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.LOADS and attrs.get(self.LOADS[tag]):
            self.urls.append(attrs[self.LOADS[tag]])
        if tag == "link" and set((attrs.get("rel") or "").lower().split()) & self.LINK_RELS:
            self.urls.append(attrs.get("href") or "")


CSS_URL = re.compile(r"""@import\s+(?:url\()?\s*['"]?([^'")\s;]+)|url\(\s*['"]?([^'")]+)""")


def _external(url):
    url = url.strip()
    return url.startswith("//") or bool(re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*://", url))


def test_no_asset_from_another_host(site):
    """No built page or stylesheet (the theme's included) names a script, style, font or image
    on another host. Links to other sites (the repository, Binder) are fine: they load nothing."""
    offending = []
    for page in sorted(site.rglob("*.html")):
        if "mathjax" in page.relative_to(site).parts:
            continue
        parser = _AssetLinks()
        parser.feed(page.read_text(encoding="utf-8", errors="replace"))
        offending += [f"{page.relative_to(site)}: {url}" for url in parser.urls if _external(url)]
    for sheet in sorted(site.rglob("*.css")):
        for match in CSS_URL.finditer(sheet.read_text(encoding="utf-8", errors="replace")):
            url = match.group(1) or match.group(2)
            if _external(url) and not url.startswith("data:"):
                offending.append(f"{sheet.relative_to(site)}: {url}")
    assert not offending, "assets from other hosts:\n  " + "\n  ".join(offending)


def test_mathjax_is_served_by_the_site(site):
    """MathJax is part of the site (copied from node_modules by _ext/offline_site.py), and every
    page with math loads that copy."""
    assert (site / "_static" / "mathjax" / "tex-chtml.js").exists()
    pages_with_math = 0
    for page in sorted(site.rglob("*.html")):
        text = page.read_text(encoding="utf-8", errors="replace")
        if 'class="math' not in text:
            continue
        pages_with_math += 1
        depth = len(page.relative_to(site).parts) - 1
        local = "../" * depth + "_static/mathjax/tex-chtml.js"
        sources = re.findall(r'<script[^>]*src="([^"?]*tex-chtml\.js)[^"]*"', text)
        assert sources == [local], f"{page.relative_to(site)} loads MathJax from {sources}"
    assert pages_with_math, "no page of the book has math: was MathJax switched off?"


def test_chapter_pages_have_launch_buttons(site):
    """With a published address, every notebook page offers Binder and Colab, pointing at its own
    notebook in the book's repository (the one the hidden install cell installs initcore from);
    without one, no page sends a reader anywhere."""
    from tools.book import notebooks, repository

    url = repository()
    repo = url.removeprefix("https://github.com/")
    assert notebooks()
    for notebook in notebooks():
        relative = notebook.relative_to(ROOT)
        html = (site / relative.with_suffix(".html")).read_text(encoding="utf-8")
        if url:
            assert f"https://colab.research.google.com/github/{repo}/blob/main/{relative}" in html, relative
        else:
            assert "colab.research.google.com" not in html and "mybinder.org/v2" not in html, relative