"""The student edition keeps every exercise and feedback check and shows no solution."""
import json
import pathlib
import re

import pytest

from initcore import student

#: The student edition's HTML build is one of the suite's longest units (conftest.py schedules it first).
pytestmark = pytest.mark.builds_book

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTERS = sorted(p for p in (ROOT / "book").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


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
        cell("code", "ic.check_answer(answer, 3 ** 0.5)", ["feedback"], [{"output_type": "stream"}]),
        cell("code", "# Plot it yourself.\nplt.plot(x)", ["solution"]),
    ]}
    out = student.strip_solutions(nb)
    text = json.dumps(out)
    assert not student.solution_leaks(out)
    assert "answer is 2" not in text and "3 ** 0.5\"" not in text and "a^2/3" not in text
    assert student.count_exercises(out) == 2 and "More prose we keep." in text
    todo = [c for c in out["cells"] if "student-answer" in c["metadata"]["tags"]]
    assert ["".join(c["source"]) for c in todo] == [
        "# Assign the bound to `answer`.\n# Your work here.\nanswer = None", "# Plot it yourself.\n# Your work here."]
    feedback = [c for c in out["cells"] if "feedback" in c["metadata"]["tags"]][0]
    assert feedback["outputs"] == [] and feedback["source"] == "ic.check_answer(answer, 3 ** 0.5)"


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
