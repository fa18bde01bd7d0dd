"""The student edition keeps every exercise and feedback check and shows no solution."""
import json
import pathlib
import re

import pytest

from initcore import feedback
from tools import student
from tools.book import notebooks

#: The student edition's HTML build is one of the suite's longest units (conftest.py schedules it first).
pytestmark = pytest.mark.builds_book

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTERS = notebooks()


SEALED_OUTPUT = {"output_type": "execute_result", "execution_count": 1, "metadata": {},
                 "data": {"text/plain": "Correct: 1.73205080756888.", feedback.SEALED_MIME: feedback.seal(3 ** 0.5)}}


def cell(kind, source, tags=None, outputs=None):
    c = {"cell_type": kind, "metadata": {"tags": tags or []}, "source": source, "id": "c"}
    if kind == "code":
        c.update(outputs=outputs or [], execution_count=1 if outputs else None)
    return c


def test_strip_removes_every_kind_of_solution_and_keeps_the_task():
    nb = {"metadata": {}, "cells": [
        cell("markdown", "```{exercise} E\n:label: ex-a\n\nDo it.\n```"),
        cell("markdown", "```{solution} ex-a\n:class: dropdown\n\nThe answer is 2.\n```"),
        cell("markdown", "```{exercise} F\n:label: ex-b\n\nCompute.\n```"),
        cell("markdown", "```{solution-start} ex-b\n:class: dropdown\n```"),
        cell("code", "# Assign the bound to `answer`.\nanswer = 3 ** 0.5", ["solution"], [{"output_type": "stream"}]),
        cell("markdown", "Because the variance is a^2/3.\n\n```{solution-end}\n```\n\nMore prose we keep."),
        cell("code", "ic.check_answer(answer, 3 ** 0.5)", ["feedback"], [SEALED_OUTPUT]),
        cell("code", "# Plot it yourself.\nplt.plot(x)", ["solution"]),
    ]}
    out = student.strip_solutions(nb)
    text = json.dumps(out)
    assert not student.solution_leaks(out)
    assert "answer is 2" not in text and "3 ** 0.5\"" not in text and "Because the variance" not in text
    assert student.count_exercises(out) == 2 and "More prose we keep." in text
    todo = [c for c in out["cells"] if "student-answer" in c["metadata"]["tags"]]
    assert ["".join(c["source"]) for c in todo] == [
        "# Assign the bound to `answer`.\n# Your work here.\nanswer = None", "# Plot it yourself.\n# Your work here."]
    feedback = [c for c in out["cells"] if "feedback" in c["metadata"]["tags"]][0]
    assert feedback["outputs"] == [] and "3 ** 0.5" not in feedback["source"]
    assert feedback["metadata"]["initcore"] == {"exercise": "ex-b"}


def test_a_feedback_cell_without_its_sealed_record_is_an_error():
    nb = {"metadata": {}, "cells": [
        cell("markdown", "```{solution} ex-a\n:class: dropdown\n\nIt is 2.\n```"),
        cell("code", "ic.check_answer(answer, 2)", ["feedback"], [{"output_type": "stream", "text": "Correct"}])]}
    with pytest.raises(ValueError, match="execute the notebook"):
        student.strip_solutions(nb)


def test_unclosed_gate_is_an_error():
    nb = {"metadata": {}, "cells": [cell("markdown", "```{solution-start} ex-a\n```")]}
    with pytest.raises(ValueError, match="solution-end"):
        student.strip_solutions(nb)


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    return student.make_student_edition(ROOT, tmp_path_factory.mktemp("student") / "edition")


def test_student_notebooks_keep_exercises_and_drop_solutions(edition):
    for chapter in CHAPTERS:
        original = json.loads(chapter.read_text())
        stripped = json.loads((edition / "notebooks" / chapter.relative_to(ROOT / "book")).read_text())
        assert student.solution_leaks(stripped) == [], chapter
        assert student.count_exercises(stripped) == student.count_exercises(original), chapter
        assert "feedback" in json.dumps(stripped) or "feedback" not in json.dumps(original)


def test_student_html_shows_exercises_but_no_solution(edition):
    pages = {p.relative_to(edition / "html"): p.read_text() for p in (edition / "html").rglob("*.html")}
    for chapter in CHAPTERS:
        if not student.count_exercises(json.loads(chapter.read_text())):
            continue
        html = pages[chapter.relative_to(ROOT).with_suffix(".html")]
        assert 'class="exercise' in html, chapter
        assert not re.search(r'class="[^"]*\bsolution\b', html), f"{chapter}: a solution is visible"
        assert "tag_solution" not in html, chapter


def test_student_feedback_cells_hold_no_readable_answer(edition):
    """Every feedback cell of the student edition is the sealed template, and no expected value of
    the instructor's notebooks (as SymPy prints it) appears in it."""
    key = json.loads((edition / "answer_key.json").read_text())
    for chapter in CHAPTERS:
        original = json.loads(chapter.read_text())
        stripped = json.loads((edition / "notebooks" / chapter.relative_to(ROOT / "book")).read_text())
        cells = [c for c in stripped["cells"] if "feedback" in c["metadata"].get("tags", [])]
        assert len(cells) == sum("feedback" in c["metadata"].get("tags", []) for c in original["cells"])
        for c in cells:
            text = "".join(c["source"])
            label = c["metadata"]["initcore"]["exercise"]
            code = [line for line in text.splitlines() if not line.startswith("#")]
            assert len(code) == 1 and code[0].startswith("ic.check_answer(answer, ic.feedback.sealed("), text
            record = key[chapter.relative_to(ROOT / "book").as_posix()][label]
            assert set(record) == {"version", "expected", "symbols", "mistakes"}
        for c in original["cells"]:
            if "feedback" in c["metadata"].get("tags", []):
                shown = "".join("".join(o.get("data", {}).get("text/plain", "")) for o in c["outputs"])
                value = shown.removeprefix("Correct: ").rstrip(".")
                sealed_text = json.dumps(cells)
                for record in key[chapter.relative_to(ROOT / "book").as_posix()].values():
                    for _, hint in record["mistakes"]:  # hints may name numbers; the answer may not
                        sealed_text = sealed_text.replace(json.dumps(json.dumps(hint))[3:-3], "")
                if len(value) > 2:
                    assert value not in sealed_text, (chapter.name, value)


def test_grading_uses_the_key_not_the_students_cells(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("grade", ROOT / "tools" / "grade.py")
    grade = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(grade)
    key = {"ex-one": feedback.seal(4), "ex-two": feedback.seal("a**2/6"), "ex-three": feedback.seal(1)}

    def code(source, label=None):
        meta = {"tags": ["feedback"], "initcore": {"exercise": label}} if label else {}
        return {"cell_type": "code", "metadata": meta, "source": source, "outputs": [], "execution_count": None}

    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
          "cells": [code("answer = 2 * 2"), code("print('the student edited this check')", "ex-one"),
                    code("import sympy as sp\nanswer = sp.Symbol('a')**2 / 3"), code("pass", "ex-two"),
                    code("raise RuntimeError('a broken cell does not stop grading')"),
                    code("answer = 1"), code("", "ex-three")]}
    for c, i in zip(nb["cells"], range(len(nb["cells"]))):
        c["id"] = f"c{i}"
    path = tmp_path / "submission.ipynb"
    path.write_text(json.dumps(nb))
    report = grade.grade(path, key, timeout=60)
    assert [(label, ok) for label, ok, _ in report] == [("ex-one", True), ("ex-two", False), ("ex-three", True)]
    assert "factor 2" in report[1][2]


def test_student_lite_site_serves_the_student_notebooks(edition):
    """The student edition's "Run in the browser" site (html/lite/) opens the student notebooks:
    every exercise, no solution, on the Pyodide kernel. Skipped where the site has no Lite part
    (its inputs not installed: `python -m tools.lite status` says which)."""
    from tools import lite

    files = edition / "html" / lite.SITE_DIR / "files"
    if not files.is_dir():
        pytest.skip("the student edition was built without live code (python -m tools.lite status)")
    for chapter in CHAPTERS:
        relative = chapter.relative_to(ROOT / lite.CONTENTS_DIR)
        served = json.loads((files / relative).read_text())
        student_copy = json.loads((edition / "notebooks" / relative).read_text())
        assert student.solution_leaks(served) == [], chapter
        assert student.count_exercises(served) == student.count_exercises(student_copy), chapter
        assert served["metadata"]["kernelspec"]["name"] == "python", chapter
