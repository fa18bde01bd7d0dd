"""The table of contents and the notebooks under book/ stay in step, and every chapter keeps the house conventions."""
import json
import re
import pathlib

import pytest

from initcore.launch import INSTALL_CELL_TAGS, install_cell
from tools.book import docnames, repository

ROOT = pathlib.Path(__file__).resolve().parents[1]


def resolve(entry):
    matches = [p for p in (ROOT / (entry + ext) for ext in (".ipynb", ".md")) if p.exists()]
    return matches[0] if len(matches) == 1 else None


NOTEBOOKS = sorted(p for p in (ROOT / "book").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
INSTALL_CELL = install_cell(repository())


def test_every_toc_entry_has_exactly_one_file():
    missing = [entry for entry in docnames() if resolve(entry) is None]
    assert not missing, f"_toc.yml lists entries with no (or two) .ipynb/.md file: {missing}"


def test_every_page_under_book_is_in_the_toc():
    listed = {resolve(entry) for entry in docnames()}
    pages = NOTEBOOKS + sorted((ROOT / "book").rglob("*.md"))
    orphans = [str(p.relative_to(ROOT)) for p in pages if p not in listed]
    assert not orphans, f"pages under book/ missing from _toc.yml (add them or delete them): {orphans}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_conventions(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, "a chapter without code cells"
    first = code[0]
    assert "".join(first["source"]) == INSTALL_CELL and first["metadata"].get("tags") == INSTALL_CELL_TAGS, \
        ("the first code cell must be initcore.launch.install_cell(<repository.url of _config.yml>) tagged "
         "remove-cell: run `python tools/set_repository.py URL` (or \"\")")
    assert nb["metadata"].get("kernelspec", {}).get("name") == "python3"
    unexecuted = [i for i, c in enumerate(code) if "".join(c["source"]).strip() and c.get("execution_count") is None]
    assert not unexecuted, f"code cells without stored outputs (execute the notebook before committing): {unexecuted}"
    for i, c in enumerate(code):
        if any("image/png" in o.get("data", {}) for o in c.get("outputs", [])):
            meta = c["metadata"].get("mystnb", {})
            figure, image = meta.get("figure", {}), meta.get("image", {})
            assert figure.get("caption") and figure.get("name") and image.get("alt"), \
                f"code cell {i} draws a figure without mystnb figure caption, name and image alt text"


CHAPTERS = [p for p in NOTEBOOKS if "appendix" not in p.parts]
EXERCISE = re.compile(r"\{exercise\}[^\n]*\n:label: (\S+)")
SOLUTION = re.compile(r"\{solution(?:-start)?\} (\S+)")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: str(p.relative_to(ROOT)))
def test_chapter_has_three_exercises_each_with_a_solution(path):
    text = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "markdown")
    exercises = EXERCISE.findall(text)
    assert len(exercises) >= 3, f"{len(exercises)} exercises; every chapter needs at least three"
    unsolved = set(exercises) - set(SOLUTION.findall(text))
    assert not unsolved, f"exercises without a solution: {sorted(unsolved)}"


def test_no_placeholder_address_anywhere():
    """The book installs code only from the address its publisher set, never from a made-up one."""
    url = repository()
    assert "initbook/initbook" not in url
    texts = [p.read_text(encoding="utf-8") for p in [*NOTEBOOKS, ROOT / "_config.yml", ROOT / "README.md"]]
    assert not any("github.com/initbook" in t for t in texts)


def test_install_cell_refuses_a_bad_address():
    with pytest.raises(ValueError, match="https URL"):
        install_cell("git@github.com:owner/name.git")
    assert "%pip" not in install_cell("") and "git+" not in install_cell("")
    assert "git+https://github.com/owner/name" in install_cell("https://github.com/owner/name")


def test_the_pdf_check_finds_unresolved_references():
    from tools.build_pdf import unresolved

    log = ("LaTeX Warning: Reference `book/foundations/why_initialization_matters:ex-why-half-l\n"
           "ife' on page 191 undefined on input line 14681.\n"
           "LaTeX Warning: Citation `glorot2010' on page 3 undefined on input line 12.\n"
           "LaTeX Warning: Hyper reference `book/appendix/api:app-api' on page 1 undefined on input line 1.\n")
    assert unresolved(log) == ["book/appendix/api:app-api", "book/foundations/why_initialization_matters:ex-why-half-life",
                               "glorot2010"]
    assert unresolved("Output written on initbook.pdf (200 pages).") == []
