"""Grade students' notebooks against the instructor's answer key, exercise by exercise.

    python tools/grade.py OUTDIR/answer_key.json SUBMISSION.ipynb [...]  [--timeout 600]

The key is the one the student edition wrote (``python -m tools.student OUTDIR``). Each
submission is executed in a fresh kernel with every one of its feedback cells replaced by the
instructor's check of ``answer`` against the key (the student's own check cells never run), and
errors in the student's cells do not stop it. The report names each exercise by its label:

    submission.ipynb  ex-relu-fan-out-forward  correct
    submission.ipynb  ex-relu-one-sided        wrong: off by a factor 2: ...

Exit status 0 when every answer in every submission is correct, 1 otherwise.
"""
import argparse
import json
import sys
from pathlib import Path

MARK = "INITCORE-GRADE "

_GRADER = '''import json as _json
from initcore import feedback as _feedback
try:
    _answer = answer
except NameError:
    _answer = None
_result = _feedback.sealed({record!r}).feedback(_answer)
print({mark!r} + _json.dumps({{"exercise": {label!r}, "correct": _result.correct, "message": _result.message}}))'''


def _exercise(cell):
    return cell.get("metadata", {}).get("initcore", {}).get("exercise")


def grading_notebook(nb, key):
    """A copy of the submission whose feedback cells run the instructor's checks."""
    import nbformat

    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    for cell in nb.cells:
        label = _exercise(cell)
        if cell.cell_type == "code" and label is not None:
            record = key.get(label)
            cell.source = (_GRADER.format(record=json.dumps(record), mark=MARK, label=label) if record else
                           f"print({MARK!r} + {json.dumps(json.dumps({'exercise': label, 'correct': False, 'message': 'not in the answer key'}))})")
            cell.outputs = []
    return nb


def grade(path, key, timeout=600):
    """``[(exercise label, correct, message)]`` for one submission, in the key's order."""
    import nbformat
    from nbclient import NotebookClient

    nb = grading_notebook(nbformat.read(path, as_version=4), key)
    NotebookClient(nb, timeout=timeout, allow_errors=True, kernel_name="python3",
                   resources={"metadata": {"path": str(Path(path).parent)}}).execute()
    found = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            for line in output.get("text", "").splitlines():
                if line.startswith(MARK):
                    result = json.loads(line[len(MARK):])
                    found[result["exercise"]] = (result["correct"], result["message"])
    return [(label, *found.get(label, (False, "no feedback cell for this exercise in the submission: "
                                             "it was deleted or its cell metadata was changed")))
            for label in key]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("key", type=Path, help="answer_key.json written by the student edition")
    parser.add_argument("submissions", type=Path, nargs="+", help="students' notebooks")
    parser.add_argument("--timeout", type=int, default=600, help="seconds a cell may run")
    args = parser.parse_args(argv)
    keys = json.loads(args.key.read_text())
    all_correct = True
    for path in args.submissions:
        nb = json.loads(path.read_text())
        labels = [_exercise(c) for c in nb["cells"] if _exercise(c)]
        chapter = next((name for name, key in keys.items() if set(labels) & set(key)), None)
        if chapter is None:
            print(f"{path}  -  no exercise of the answer key found (is this a chapter of the student edition?)")
            all_correct = False
            continue
        for label, correct, message in grade(path, keys[chapter], args.timeout):
            all_correct &= correct
            print(f"{path}  {label}  {'correct' if correct else 'wrong: ' + message}")
    return 0 if all_correct else 1


if __name__ == "__main__":
    sys.exit(main())
