"""No number in a chapter's prose that no cell made (tools/prose_numbers.py says what counts)."""
from pathlib import Path

import pytest

from tools import prose_numbers

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("path", prose_numbers.book_notebooks(), ids=lambda p: str(p.relative_to(ROOT / "book")))
def test_no_typed_number_in_prose(path):
    found = prose_numbers.typed_numbers(path)
    assert not found, (
        f"{path.relative_to(ROOT)}: numbers typed into prose (glue them from the cell that computes them, "
        "or list an input in tests/prose_numbers_allowlist.txt with its reason):\n"
        + "\n".join(f"  cell {cell}: {literal}" for cell, literal in found))


def test_the_scanner_finds_what_it_should():
    text = ("The layer multiplies the signal by 3/2 and {glue:text}`fwd` backward, see {cite:t}`glorot2010` "
            "(Glorot and Bengio 2010). Math $\\sqrt{6/(n+m)}$ is symbolic, $0.8796$ is not, nor $a = 100$.\n"
            "`code 42` is code.\n```{exercise}\nTake width 64.\n```\n```{solution}\nIt gives 7.\n```\n")
    assert prose_numbers.numbers_in(text) == ["3/2", "0.8796", "100", "7"]


def test_allowlist_entries_are_complete_and_used():
    allowed = prose_numbers.load_allowlist()
    found = {}
    for path in prose_numbers.book_notebooks():
        key = path.relative_to(ROOT).as_posix()
        nb_numbers = set()
        import json
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "markdown":
                nb_numbers |= set(prose_numbers.numbers_in("".join(cell["source"])))
        found[key] = nb_numbers
    unused = [f"{nb} {lit}" for nb, lits in allowed.items() for lit in lits
              if (nb == "*" and not any(lit in v for v in found.values())) or (nb != "*" and lit not in found.get(nb, ()))]
    assert not unused, "allowlist entries that no chapter needs any more:\n" + "\n".join(unused)
