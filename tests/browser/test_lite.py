"""One chapter run in the book's own JupyterLite site, in headless Chromium, with no network.

The chapter page's "Run in the browser" button is followed into the Lite notebook app (Python on
Pyodide, loaded from the site), every cell is run with the app's own "Run All" command, and the
test asserts that the kernel started, every code cell ran without an error, the Monte Carlo checks
printed "pass", a figure was drawn, and no request left 127.0.0.1.

The browser starts with an empty cache (a reader's first visit). Its times (opening to the kernel
ready, to the first check printed, to the last cell) are written to ``_build/lite_timings.json``;
with ``LITE_WARM=1`` the chapter is opened and run once more in the same browser (a second visit:
the HTTP cache and JupyterLite's stored copy of the notebook), and those times are added.

``LITE_CHAPTERS=all`` runs every chapter of the book this way instead of the one (about half a
minute each; for authors, not run in CI), ``LITE_CHAPTERS=book/modern/attention,...`` the ones named;
``LITE_RUN_TIMEOUT_S`` sets how long one chapter may run (default 480 s).

Where the site has no Lite part (``npm ci`` or ``python -m tools.lite download`` not run before the
build) the test is skipped, except in CI (``CI=true``), where it fails.
"""
import json
import os
import re
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from tests.browser.conftest import CHROMIUM_ARGS, skip_or_fail
from tools.lite import SITE_DIR

#: Builds the book first when ``_build/html`` is stale (conftest.py schedules such modules first).
pytestmark = pytest.mark.builds_book

ROOT = Path(__file__).resolve().parents[2]
#: A short chapter with checks and a figure: its cells run in about 17 s once the kernel is up.
CHAPTER = "book/foundations/variance_of_a_neuron"


def _chapters():
    """The chapters to run: ``CHAPTER``, or those that ``LITE_CHAPTERS`` names ("all": every notebook)."""
    wanted = os.environ.get("LITE_CHAPTERS", "").strip()
    if not wanted:
        return [CHAPTER]
    from tests.browser.conftest import toc_docnames

    chapters = [d for d in toc_docnames() if (ROOT / f"{d}.ipynb").exists()]
    if wanted == "all":
        return chapters
    named = [name.strip().removesuffix(".ipynb") for name in wanted.split(",") if name.strip()]
    unknown = [name for name in named if name not in chapters]
    if unknown:
        raise ValueError(f"LITE_CHAPTERS names no chapter of _toc.yml: {unknown} (write e.g. {CHAPTER})")
    return named
TIMINGS = ROOT / "_build" / "lite_timings.json"
#: The kernel's start (Pyodide, then IPython), and the whole chapter, on a 2-core machine.
KERNEL_TIMEOUT_MS = 180_000
RUN_TIMEOUT_MS = int(float(os.environ.get("LITE_RUN_TIMEOUT_S", "480")) * 1000)

#: The notebook panel in view, and its kernel's state.
KERNEL_STATUS = """() => {
    const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const kernel = panel && panel.sessionContext && panel.sessionContext.session
        && panel.sessionContext.session.kernel;
    return kernel ? kernel.status : null;
}"""

#: Every code cell of the notebook in view: its execution count and its outputs (as saved).
CELLS = """() => {
    const cells = window.jupyterapp.shell.currentWidget.content.model.cells;
    const found = [];
    for (let i = 0; i < cells.length; i++) {
        const cell = cells.get(i);
        if (cell.type !== 'code') continue;
        const json = cell.toJSON();
        found.push({count: json.execution_count, outputs: json.outputs,
                    source: (Array.isArray(json.source) ? json.source.join('') : json.source).slice(0, 60)});
    }
    return found;
}"""

#: True once some output of the notebook's model (not its page: cells out of view are not drawn)
#: reads "...: pass" or "...: rejected", that is once the first check has passed or the first wrong
#: answer has been rejected (some chapters only reject).
FIRST_PASS = r"""() => {
    const cells = window.jupyterapp.shell.currentWidget.content.model.cells;
    for (let i = 0; i < cells.length; i++) {
        const cell = cells.get(i);
        if (cell.type === 'code' && /the bound [0-9.]+: (pass|rejected)/.test(JSON.stringify(cell.toJSON().outputs)))
            return true;
    }
    return false;
}"""
#: True once every code cell has run and the kernel is idle.
ALL_RAN = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
    const cells = panel.content.model.cells;
    for (let i = 0; i < cells.length; i++) {
        const cell = cells.get(i);
        if (cell.type === 'code' && cell.toJSON().execution_count == null) return false;
    }
    return kernel && kernel.status === 'idle';
}"""


def _text(output):
    if output.get("output_type") == "stream":
        text = output.get("text", "")
    else:
        text = output.get("data", {}).get("text/plain", "")
    return "".join(text) if isinstance(text, list) else text


def _run_chapter(context, url):
    """Open ``url`` in a new page of ``context``, run every cell; return times and what ran."""
    foreign = []
    context.on("request", lambda r: foreign.append(r.url)
               if urlsplit(r.url).scheme not in {"data", "blob", "about"}
               and urlsplit(r.url).hostname != "127.0.0.1" else None)
    page = context.new_page()
    start = time.perf_counter()
    page.goto(url, wait_until="load")
    page.wait_for_function(f"() => ({KERNEL_STATUS})() === 'idle'", timeout=KERNEL_TIMEOUT_MS, polling=200)
    kernel_ready = time.perf_counter() - start
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(FIRST_PASS, timeout=RUN_TIMEOUT_MS, polling=200)
    first_pass = time.perf_counter() - start
    page.wait_for_function(ALL_RAN, timeout=RUN_TIMEOUT_MS, polling=500)
    whole = time.perf_counter() - start
    cells = page.evaluate(CELLS)
    times = {"kernel_ready_s": round(kernel_ready, 1), "first_pass_s": round(first_pass, 1),
             "whole_chapter_s": round(whole, 1)}
    return page, times, cells, foreign


@pytest.mark.parametrize("chapter", _chapters())
def test_chapter_runs_in_the_browser(chapter, site, site_url, browser, screenshots, record_property):
    if not (site / SITE_DIR / "notebooks" / "index.html").exists():
        skip_or_fail(f"the site has no Lite part ({site / SITE_DIR}): run `npm ci` and "
                     "`python -m tools.lite download`, then build the book")
    html = (site / f"{chapter}.html").read_text(encoding="utf-8")
    buttons = re.findall(r'<a href="([^"]+)"[^>]*class="[^"]*btn-lite-launch', html)
    assert buttons, f"{chapter}.html has no 'Run in the browser' button"
    url = urljoin(site_url + chapter + ".html", buttons[0].replace("&amp;", "&"))
    assert url.startswith(site_url + SITE_DIR + "/"), url

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page, times, cells, foreign = _run_chapter(context, url)
        page.screenshot(path=str(screenshots / f"lite__{chapter.rsplit('/', 1)[-1]}.png"))
        page.close()
        if os.environ.get("LITE_WARM", "").strip() in {"1", "true", "yes"}:
            warm_page, warm, _, more_foreign = _run_chapter(context, url)
            warm_page.close()
            times.update({f"warm_{key}": value for key, value in warm.items()})
            foreign += more_foreign
    finally:
        context.close()
    if chapter == CHAPTER:
        TIMINGS.write_text(json.dumps(dict(times, chapter=chapter), indent=1) + "\n")
    for key, value in times.items():
        record_property(key, value)

    assert not foreign, "requests to other hosts: " + "; ".join(sorted(set(foreign)))
    assert cells and all(cell["count"] is not None for cell in cells), \
        [cell["source"] for cell in cells if cell["count"] is None]
    errors = [f"{cell['source']!r}: {out.get('ename')}: {out.get('evalue')}"
              for cell in cells for out in cell["outputs"] if out.get("output_type") == "error"]
    assert not errors, "cells that raised: " + "; ".join(errors)
    text = "\n".join(_text(out) for cell in cells for out in cell["outputs"])
    # A check passes "within the bound"; a wrong answer shown rejected lies "beyond the bound".
    checks = re.findall(r"(within|beyond) the bound [0-9.]+: (\w+)", text)
    assert checks and all(result == {"within": "pass", "beyond": "rejected"}[side] for side, result in checks), checks
    figures = [out for cell in cells for out in cell["outputs"] if "image/png" in out.get("data", {})]
    stored = json.loads((ROOT / f"{chapter}.ipynb").read_text(encoding="utf-8"))
    if any("image/png" in out.get("data", {}) for cell in stored["cells"] for out in cell.get("outputs", [])):
        assert figures, "no figure was drawn (the chapter's stored outputs have figures)"
