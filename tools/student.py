"""Make the student edition: every exercise and feedback check kept, every solution removed.

Usage (from the repository root)::

    python -m tools.student OUTDIR [--no-html]

writes ``OUTDIR/notebooks/`` (the chapters, solutions replaced by placeholders that say what to
write), ``OUTDIR/html/`` (the book built from those notebooks, with sphinx-exercise's
``hide_solutions`` on as a second guard, and its "Run in the browser" site, ``html/lite/``, which
serves the student notebooks) and ``OUTDIR/answer_key.json`` (for the instructor, not for
students: the sealed record of every exercise, by notebook and exercise label, which
``tools/grade.py`` grades submissions against). Solutions are found by the conventions of
CONTRIBUTING.md: ``{solution}`` directives, ``{solution-start}`` ... ``{solution-end}`` gates, and
code cells tagged ``solution``. A cell tagged ``feedback`` is replaced by a call that holds only its
exercise's sealed record (fingerprints, no readable value: :mod:`initcore.feedback`), taken from the
cell's stored output, so the chapters must be executed first.
"""
import argparse
import contextlib
import copy
import json
import os
import pathlib
import re
import shutil

import yaml

from tools.book import notebooks



def _directive(name):
    """A whole fenced MyST directive ``name`` (backtick or colon fence), up to its closing fence."""
    return re.compile(r"^(?P<fence>`{3,}|:{3,})\{" + name + r"\}.*?^(?P=fence)[ \t]*$\n?", re.S | re.M)


SOLUTION_BLOCK = _directive("solution")
GATE_START = _directive("solution-start")
GATE_END = _directive("solution-end")
SOLUTION_MARKERS = ("{solution}", "{solution-start}", "{solution-end}")
ANSWER = re.compile(r"^answer\s*=", re.M)
SOLUTION_LABEL = re.compile(r"\{solution(?:-start)?\}\s*(?P<label>[\w-]+)")
SOURCES = ("_config.yml", "_toc.yml", "references.bib", "book", "_static", "_ext", "package.json",
           "package-lock.json")


def _tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def _placeholder(cell):
    """A code cell that keeps the solution's leading comments (the task) and no solution."""
    lines = "".join(cell["source"]).splitlines()
    task = []
    for line in lines:
        if not line.startswith("#"):
            break
        task.append(line)
    body = task + ["# Your work here."]
    if any(ANSWER.match(line) for line in lines):
        body.append("answer = None")
    return {"cell_type": "code", "execution_count": None, "id": cell.get("id", "placeholder") + "-todo",
            "metadata": {"tags": ["student-answer"]}, "outputs": [], "source": "\n".join(body)}


def _strip_markdown(text, gated):
    """Drop solution directives and gated text from one markdown cell; return (text, still gated)."""
    kept = []
    while text:
        gate = (GATE_END if gated else GATE_START).search(text)
        if gate is None:
            if not gated:
                kept.append(text)
            break
        if not gated:
            kept.append(text[:gate.start()])
        text, gated = text[gate.end():], not gated
    return SOLUTION_BLOCK.sub("", "".join(kept)), gated


def sealed_record(cell):
    """The sealed answer record in a feedback cell's stored output (``None`` if it has none)."""
    from initcore.feedback import SEALED_MIME

    for output in cell.get("outputs", []):
        record = output.get("data", {}).get(SEALED_MIME)
        if record is not None:
            return record
    return None


def _sealed_feedback(cell, label):
    """The student's feedback cell for exercise ``label``: the sealed record and nothing readable."""
    record = sealed_record(cell)
    if record is None:
        raise ValueError(f"the feedback cell of {label} has no sealed record in its stored output: "
                         "execute the notebook (jupyter nbconvert --execute --inplace) first")
    source = (f"# Feedback on your answer to {label}. The expected value is sealed (a fingerprint, not\n"
              "# readable); run this cell after assigning `answer`.\n"
              f"ic.check_answer(answer, ic.feedback.sealed({json.dumps(record)!r}))")
    return record, {"cell_type": "code", "execution_count": None, "id": cell.get("id", "feedback") + "-sealed",
                    "metadata": {"tags": ["feedback"], "initcore": {"exercise": label}}, "outputs": [],
                    "source": source}


def strip_solutions(nb, key=None):
    """Return a copy of notebook ``nb`` (a dict) with every solution removed.

    Feedback cells are sealed; ``key``, a dict, receives ``{exercise label: sealed record}``.
    """
    nb = copy.deepcopy(nb)
    cells, gated, label = [], False, None
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            found = SOLUTION_LABEL.findall("".join(cell["source"]))
            label = found[-1] if found else label
            text, gated = _strip_markdown("".join(cell["source"]), gated)
            if text.strip():
                cell["source"] = text
                cells.append(cell)
            continue
        if cell["cell_type"] == "code" and (gated or "solution" in _tags(cell)):
            cells.append(_placeholder(cell))
            continue
        if gated:
            continue
        if "feedback" in _tags(cell):
            if label is None:
                raise ValueError("a feedback cell with no solution before it: which exercise does it check?")
            record, cell = _sealed_feedback(cell, label)
            if key is not None:
                key[label] = record
        cells.append(cell)
    if gated:
        raise ValueError("a {solution-start} gate has no {solution-end}")
    nb["cells"] = cells
    return nb


def solution_leaks(nb):
    """Describe every trace of a solution left in notebook ``nb`` (empty when there is none)."""
    leaks = []
    for i, cell in enumerate(nb["cells"]):
        text = "".join(cell["source"])
        if any(marker in text for marker in SOLUTION_MARKERS):
            leaks.append(f"cell {i}: solution directive")
        if "solution" in _tags(cell):
            leaks.append(f"cell {i}: code cell tagged solution")
    return leaks


def count_exercises(nb):
    return sum("".join(c["source"]).count("{exercise}") for c in nb["cells"] if c["cell_type"] == "markdown")


def _copy_sources(root, dest):
    ignore = shutil.ignore_patterns("_build", ".ipynb_checkpoints", "__pycache__")
    for name in SOURCES:
        src = root / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=ignore)
        elif src.exists():
            shutil.copy2(src, dest / name)
    if (root / "node_modules").exists():
        (dest / "node_modules").symlink_to((root / "node_modules").resolve())


def _student_config(path, root):
    config = yaml.safe_load(path.read_text())
    config.setdefault("execute", {})["execute_notebooks"] = "off"
    config["title"] = config.get("title", "") + " (student edition)"
    sphinx_config = config.setdefault("sphinx", {}).setdefault("config", {})
    sphinx_config["hide_solutions"] = True
    # "Run in the browser" (_ext/lite_site.py): the Lite site holds these sources' notebooks, the
    # student ones; its tools, downloads, Pyodide and initcore come from the repository itself.
    sphinx_config["lite_repository"] = str(root)
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def _build_html(source):
    """``jupyter-book build source``, in this process: a new interpreter would import Sphinx,
    MyST-NB and jsonschema again, about a third of the build's time. Warnings still go to stderr."""
    from jupyter_book.cli.main import main as jupyter_book

    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        try:
            jupyter_book(["build", str(source), "--keep-going"], standalone_mode=False)
        except SystemExit as stop:
            if stop.code:
                raise RuntimeError(f"the student edition's HTML build failed (exit code {stop.code}); "
                                   "its warnings are above") from None


def make_student_edition(root, outdir, html=True):
    """Write the student notebooks (and, with ``html``, the student HTML book) under ``outdir``."""
    root, outdir = pathlib.Path(root).resolve(), pathlib.Path(outdir).resolve()
    if not (root / "_toc.yml").exists():
        raise SystemExit(f"{root} has no _toc.yml: run from the repository root or pass --root")
    if outdir.exists():
        shutil.rmtree(outdir)
    source = outdir / "source"
    source.mkdir(parents=True)
    _copy_sources(root, source)
    answer_key = {}
    for path in notebooks(source):
        key = {}
        nb = strip_solutions(json.loads(path.read_text()), key)
        if key:
            answer_key[path.relative_to(source / "book").as_posix()] = key
        text = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
        path.write_text(text)
        target = outdir / "notebooks" / path.relative_to(source / "book")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    (outdir / "answer_key.json").write_text(json.dumps(answer_key, indent=1) + "\n")
    if html:
        _student_config(source / "_config.yml", root)
        _build_html(source)
        shutil.move(str(source / "_build" / "html"), str(outdir / "html"))
    shutil.rmtree(source)
    return outdir


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tools.student", description=__doc__.splitlines()[0])
    parser.add_argument("outdir", help="where to write notebooks/ and html/ (replaced if it exists)")
    parser.add_argument("--root", default=".", help="the repository root (default: the current directory)")
    parser.add_argument("--no-html", action="store_true", help="only the notebooks, no HTML build")
    args = parser.parse_args(argv)
    out = make_student_edition(args.root, args.outdir, html=not args.no_html)
    print(f"student notebooks: {out / 'notebooks'}")
    if not args.no_html:
        print(f"student HTML book: {out / 'html' / 'index.html'}")


if __name__ == "__main__":
    main()
