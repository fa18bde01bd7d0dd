"""Numbers typed into a chapter's prose: find every numeric literal that no cell made.

A number in the book's text must come from a cell (a ``{glue:text}`` role), be part of
symbolic mathematics (integers and fractions inside ``$...$``), stand in an exercise
statement, or be listed in ``tests/prose_numbers_allowlist.txt`` with its reason (an input
such as a width or a depth, a paper's equation number). Everything else is reported.

What counts as prose: the markdown cells of a notebook, less code (fenced blocks and inline
``code``), roles and directives' own syntax (``{cite}``, ``{ref}``, labels, directive options),
links' targets, HTML comments, and the bodies of ``{exercise}`` directives. Inside math, a
decimal point or an exponent marks a typed number (``0.8796``), and so does a bare integer of
two or more digits that is not an exponent or index (``100``); single digits and fractions of
them (``1/2``, ``3``) are symbolic. Years next to a citation (``(2010)``, ``al. 2015``) are not
numbers of the book.

    python tools/prose_numbers.py [NOTEBOOK ...]     # list the numbers, by notebook and cell
"""
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: python tools/prose_numbers.py
    sys.path.insert(0, str(ROOT))
from tools.book import notebooks  # noqa: E402

ALLOWLIST = ROOT / "tests" / "prose_numbers_allowlist.txt"

_NUMBER = re.compile(r"(?<![\w.\\^_{-])(?:\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)(?:\s*/\s*\d+(?:\.\d+)?)?(?![\w])")
_YEAR = re.compile(r"(\(|al\.\s*|[A-Z][\w-]+,?\s+|,\s*)(?:19|20)\d\d[a-z]?(?=\W|$)")


def _strip_blocks(text):
    """Drop fenced code and exercise statements; keep the text of other directives."""
    out, stack = [], []
    for line in text.splitlines():
        m = re.match(r"^\s*(```+|~~~+|:::+)\s*(\{([\w:-]+)\})?", line)
        if m:
            fence, directive = m.group(1), m.group(3)
            if stack and stack[-1][0] == fence and m.group(2) is None and line.strip() == fence:
                stack.pop()
                continue
            if m.group(2) is not None or not stack or stack[-1][1] not in ("code", "exercise"):
                kind = ("exercise" if directive in ("exercise", "exercise-start")
                        else "prose" if directive else "code")
                if directive in ("code-cell", "code", "code-block"):
                    kind = "code"
                stack.append((fence, kind))
                continue
        if any(kind in ("code", "exercise") for _, kind in stack):
            continue
        if stack and re.match(r"^\s*:[\w-]+:", line):  # a directive option
            continue
        out.append(line)
    return "\n".join(out)


def prose_of(markdown):
    """The prose of one markdown cell: what a reader reads as text, with math kept as $...$."""
    text = re.sub(r"<!--.*?-->", " ", markdown, flags=re.S)
    text = _strip_blocks(text)
    text = re.sub(r"^\(([\w-]+)\)=\s*$", " ", text, flags=re.M)                    # labels
    text = re.sub(r"\{[\w:-]+\}`[^`]*`", " ", text)                               # roles: glue, cite, ref, eq
    text = re.sub(r"`[^`]*`", " ", text)                                           # inline code
    text = re.sub(r"\]\([^)]*\)", "] ", text)                                      # link targets
    text = re.sub(r"https?://\S+", " ", text)
    return text


def _math_spans(text):
    """Split text into (is_math, piece) parts on $$...$$ and $...$."""
    parts, pos = [], 0
    for m in re.finditer(r"\$\$.*?\$\$|\$[^$]*\$", text, flags=re.S):
        parts.append((False, text[pos:m.start()]))
        parts.append((True, m.group(0)))
        pos = m.end()
    parts.append((False, text[pos:]))
    return parts


def numbers_in(markdown):
    """The typed numeric literals of one markdown cell's prose, in order."""
    found = []
    for is_math, piece in _math_spans(prose_of(markdown)):
        if is_math:
            piece = re.sub(r"\\[A-Za-z]+", " ", piece)                       # TeX commands
            piece = re.sub(r"[\^_]\s*(\{[^{}]*\}|\S)", " ", piece)           # exponents, indices
            for m in re.finditer(r"(?<![\w.])\d+(?:\.\d+)?(?:[eE][-+]?\d+)?", piece):
                token = m.group(0)
                if "." in token or "e" in token.lower() or len(token) >= 2:
                    found.append(token)
        else:
            piece = _YEAR.sub(lambda m: m.group(1) + " ", piece)
            piece = re.sub(r"^\s*#+\s.*$", " ", piece, flags=re.M)          # headings
            piece = re.sub(r"^\s*\d+\.\s", " ", piece, flags=re.M)          # list numbering
            found += [re.sub(r"\s+", "", m.group(0)) for m in _NUMBER.finditer(piece)]
    return found


def load_allowlist(path=ALLOWLIST):
    """``{notebook (relative path): {literal: reason}}`` from the allowlist file.

    One entry a line: ``book/part/chapter.ipynb  LITERAL  reason``; ``*`` as the notebook allows a
    literal everywhere. ``#`` starts a comment line.
    """
    allowed = {}
    for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else []:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.split(None, 2)
        if len(fields) < 3:
            raise ValueError(f"{path.name}: every entry needs a notebook, a literal and a reason: {line!r}")
        allowed.setdefault(fields[0], {})[fields[1]] = fields[2]
    return allowed


def typed_numbers(path, allowlist=None):
    """``[(cell index, literal)]`` for every number of a notebook's prose that nothing accounts for."""
    path = Path(path).resolve()
    allowlist = load_allowlist() if allowlist is None else allowlist
    key = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name
    allowed = {**allowlist.get("*", {}), **allowlist.get(key, {})}
    nb = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        out += [(index, n) for n in numbers_in(source) if n not in allowed]
    return out


def book_notebooks():
    return notebooks()


def main(argv):
    paths = [Path(a) for a in argv] or book_notebooks()
    total = 0
    for path in paths:
        for index, literal in typed_numbers(path):
            print(f"{path}: cell {index}: {literal}")
            total += 1
    print(f"{total} typed numbers")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
