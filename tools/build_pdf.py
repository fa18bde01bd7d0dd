"""Build the PDF and fail if any reference or citation in it is unresolved.

    python tools/build_pdf.py          # jupyter-book build . --builder pdflatex, then the check

LaTeX only warns about an undefined reference (and prints "??" in the PDF), and Jupyter Book
reports success all the same; this command reads the final LaTeX run's log and exits 1, listing
each unresolved label, when there is any. Needs TeX Live (see the README).
"""
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOG = ROOT / "_build" / "latex" / "initbook.log"
_UNDEFINED = re.compile(r"(?:Reference|Citation|Hyper reference) `([^']+)' on page \d+ undefined")


def unresolved(log_text):
    """The labels that the final LaTeX run reports undefined (sorted, without repeats)."""
    text = log_text.replace("\n", "")  # TeX wraps long log lines at 79 characters
    return sorted(set(_UNDEFINED.findall(text)))


def main():
    build = subprocess.run(["jupyter-book", "build", str(ROOT), "--builder", "pdflatex"], cwd=ROOT)
    if build.returncode:
        return build.returncode
    missing = unresolved(LOG.read_text(encoding="utf-8", errors="replace"))
    if missing:
        print(f"{len(missing)} unresolved references in the PDF (they print as ??):", *missing, sep="\n  ")
        return 1
    print(f"PDF: {ROOT / '_build' / 'latex' / 'initbook.pdf'}, every reference resolved")
    return 0


if __name__ == "__main__":
    sys.exit(main())
