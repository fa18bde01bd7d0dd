"""Run every chapter of the book under the library versions of the in-browser (JupyterLite) edition.

    python -m tools.pyodide_stack                      # create or reuse the environment, run every chapter
    python -m tools.pyodide_stack --recreate           # build the environment from scratch first
    python -m tools.pyodide_stack --env-only           # only create (or check) the environment
    python -m tools.pyodide_stack book/modern/attention.ipynb   # some chapters only
    python tools/pyodide_stack.py                      # the same, run as a script

The JupyterLite edition runs on Pyodide 0.27.7, whose numpy, scipy, sympy, mpmath and matplotlib are
older than the ones pinned in requirements.txt. A chapter that uses an API those older releases lack
would pass the usual test suite and break in the browser. This tool installs the browser's versions
(pinned in ``tools/pyodide-stack.txt``, the only place they are written down) into a virtual
environment of its own, ``.venv-pyodide-stack``, together with initcore from this repository
(editable and without its declared dependencies, so that nothing replaces a pinned version), and
runs the chapters there with nbval.

- The environment is reused while it matches: same pins file, same interpreter, same repository,
  and every pinned distribution installed at its pinned version (checked on each run, which costs
  a fraction of a second). Anything else rebuilds it.
- The interpreter is the CPython that runs this tool: the book's Python 3.11. Pyodide 0.27 is
  Python 3.12 compiled to WebAssembly, so Python itself is the one difference that stays (with what
  only the browser does differently: no threads or subprocesses, its own matplotlib backend, its
  own kernel). ``--python`` takes a 3.12 interpreter where the machine has one. The libraries' own
  code is the same as in the browser.
- Chapters are the notebooks of ``_toc.yml`` (``tools/book.py``). pytest runs from the repository
  root, so conftest.py and the pytest settings of pyproject.toml apply as in the usual suite
  (``INITCORE_STRICT=1``, one BLAS thread a kernel, the kernel-start retry), with ``--nbval-lax``
  added: any exception in a cell fails (a failing check, an ImportError, a missing function or
  keyword), while outputs are compared only in cells tagged ``nbval-check-output``. Printed numbers
  and figures may differ slightly between library versions; that is not what this run is for.
- It prints one summary line (after the failing cells, one line each) and exits 1 when a chapter
  fails or the environment cannot be built.

Needs the book's own environment to run (PyYAML, for the table of contents); the notebooks run in
the separate environment only.
"""
import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``tools`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ROOT = Path(__file__).resolve().parents[1]
PINS = ROOT / "tools" / "pyodide-stack.txt"
VENV = ROOT / ".venv-pyodide-stack"
STAMP = "pyodide-stack.stamp"  # inside the environment: what it was built from

# The browser's libraries, which the pins file must name (the summary line reports their versions),
# and what runs the notebooks here.
STACK = ("numpy", "scipy", "sympy", "mpmath", "matplotlib")
RUNNERS = ("nbval", "pytest", "pytest-xdist", "ipykernel")

_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
_VERSION = re.compile(r"^[0-9][0-9A-Za-z.+!-]*$")


def normalize(name):
    """A distribution name as pip compares it: lower case, runs of ``-``, ``_``, ``.`` as one ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_pins(text, source="pins"):
    """The pins of a requirements text, as ``{normalized name: version}`` in file order.

    Every requirement line must be ``name==version``; blank lines and ``#`` comments (whole-line or
    trailing) are skipped. Anything else (a range, an option such as ``-e``, a repeated name) and a
    missing library of ``STACK`` or ``RUNNERS`` raise ValueError naming ``source`` and the line.
    """
    pins = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = (part.strip() for part in line.partition("=="))
        if not sep or not _NAME.match(name) or not _VERSION.match(version):
            raise ValueError(f"{source}, line {number}: expected 'name==version' (an exact pin), got {raw.strip()!r}")
        key = normalize(name)
        if key in pins:
            raise ValueError(f"{source}, line {number}: {name} is pinned twice")
        pins[key] = version
    missing = [name for name in STACK + RUNNERS if name not in pins]
    if missing:
        raise ValueError(f"{source}: no pin for {', '.join(missing)} (each of {', '.join(STACK + RUNNERS)} is needed)")
    return pins


def read_pins(path=PINS):
    """``parse_pins`` of a file; ValueError when it does not exist."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"pins file not found: {path}")
    return parse_pins(path.read_text(encoding="utf-8"), source=str(path))


def stamp(pins_text, python_version, root=ROOT):
    """What an environment was built from: the pins, the interpreter's version, the repository's place."""
    digest = hashlib.sha256(pins_text.encode("utf-8")).hexdigest()
    return f"pins sha256 {digest}\npython {python_version}\nroot {Path(root).resolve()}\n"


def venv_python(venv):
    """The interpreter of a virtual environment (POSIX layout)."""
    return Path(venv) / "bin" / "python"


def install_commands(python, pins_path=PINS, root=ROOT):
    """The pip commands that fill a fresh environment: the pins, then initcore without its dependencies."""
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    return [pip + ["-r", str(pins_path)], pip + ["--no-deps", "-e", str(root)]]


def mismatches(pins, installed):
    """Pinned distributions missing or at another version: ``["numpy 2.4.6 (pinned 2.0.2)", ...]``."""
    found = []
    for name, version in pins.items():
        have = installed.get(name)
        if have != version:
            found.append(f"{name} {have or 'missing'} (pinned {version})")
    return found


def pytest_command(python, notebooks, workers=2, junit=None):
    """The nbval run of ``notebooks`` with the environment's pytest (addopts of pyproject.toml apply too)."""
    if not notebooks:
        raise ValueError("no notebooks to run")
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    command = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax", "-n", str(workers)]
    if junit:
        command.append(f"--junitxml={junit}")
    return command + [str(path) for path in notebooks]


def _installed_versions(python, names):
    code = ("import importlib.metadata as m, sys\n"
            "for name in sys.argv[1:]:\n"
            "    try: print(name, m.version(name))\n"
            "    except m.PackageNotFoundError: print(name, '')\n")
    out = subprocess.run([str(python), "-c", code, *names], check=True, capture_output=True, text=True).stdout
    return {line.split(" ")[0]: line.split(" ", 1)[1].strip() or None for line in out.splitlines() if line.strip()}


def _python_version(python):
    out = subprocess.run([str(python), "-c", "import platform; print(platform.python_version())"],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def ensure_env(venv=VENV, pins_path=PINS, python=sys.executable, recreate=False, root=ROOT, out=sys.stdout):
    """Create the environment, or reuse it when it still matches; return ``(created, seconds)``.

    Raises ValueError for bad pins, for a ``venv`` path that exists but is no virtual environment
    (it is never deleted), and when the installed versions do not come out as pinned.
    """
    started = time.perf_counter()
    venv, pins_path = Path(venv), Path(pins_path)
    pins = read_pins(pins_path)
    wanted = stamp(pins_path.read_text(encoding="utf-8"), _python_version(python), root)
    if venv.exists() and not (venv / "pyvenv.cfg").is_file():
        raise ValueError(f"{venv} exists and is not a virtual environment: not touching it")
    stamp_file = venv / STAMP
    if not recreate and stamp_file.is_file() and stamp_file.read_text(encoding="utf-8") == wanted:
        if not mismatches(pins, _installed_versions(venv_python(venv), list(pins))):
            return False, time.perf_counter() - started
        print(f"{venv.name}: installed versions differ from the pins; rebuilding", file=out, flush=True)
    if venv.exists():
        shutil.rmtree(venv)
    print(f"{venv.name}: creating with Python {_python_version(python)} and {pins_path.name}", file=out, flush=True)
    subprocess.run([str(python), "-m", "venv", str(venv)], check=True)
    for command in install_commands(venv_python(venv), pins_path, root):
        subprocess.run(command, check=True)
    wrong = mismatches(pins, _installed_versions(venv_python(venv), list(pins)))
    if wrong:
        raise ValueError(f"{venv.name}: installed versions differ from the pins: {'; '.join(wrong)}")
    stamp_file.write_text(wanted, encoding="utf-8")
    return True, time.perf_counter() - started


def run_notebooks(venv, notebooks, workers=2, root=ROOT):
    """Run the notebooks under the environment; return ``(pytest exit code, failures, seconds)``.

    Failures are dicts notebook/cell/message (from the junit report, as the seed sweep reads it).
    """
    from tools.seedsweep import parse_junit  # the same reading of nbval's junit report

    started = time.perf_counter()
    python = venv_python(venv)
    env = dict(os.environ, VIRTUAL_ENV=str(venv), PATH=f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    with tempfile.TemporaryDirectory(prefix="pyodide-stack-") as workdir:
        junit = Path(workdir) / "junit.xml"
        relative = [Path(path).resolve().relative_to(Path(root).resolve()) for path in notebooks]
        code = subprocess.run(pytest_command(python, relative, workers, junit), cwd=root, env=env).returncode
        failures = parse_junit(junit)[1] if junit.exists() else []
    return code, failures, time.perf_counter() - started


def summary(pins, python_version, count, code, failures, seconds, env_note):
    """The one line that ends a run."""
    stack = ", ".join(f"{name} {pins[name]}" for name in STACK)
    head = f"Pyodide stack ({stack}; CPython {python_version})"
    if code == 0:
        return f"{head}: all {count} notebooks passed in {seconds:.0f} s ({env_note})"
    broken = sorted({failure["notebook"] for failure in failures})
    which = f"{len(broken)} of {count} notebooks failed: {', '.join(broken)}" if broken else f"pytest exited with {code}"
    return f"{head}: FAILED, {which} ({seconds:.0f} s; {env_note})"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tools.pyodide_stack", description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to run (default: every notebook of _toc.yml)")
    parser.add_argument("--venv", type=Path, default=VENV, help=f"the environment (default {VENV.name})")
    parser.add_argument("--pins", type=Path, default=PINS, help="the pins file (default tools/pyodide-stack.txt)")
    parser.add_argument("--python", default=sys.executable, help="the interpreter that creates the environment "
                        "(default: the one running this tool)")
    parser.add_argument("--recreate", action="store_true", help="delete and rebuild the environment first")
    parser.add_argument("--env-only", action="store_true", help="create or check the environment, run nothing")
    parser.add_argument("-n", "--workers", type=int, default=2, help="pytest-xdist workers (default 2)")
    args = parser.parse_args(argv)
    try:
        pins = read_pins(args.pins)
        if args.workers < 1:
            raise ValueError(f"--workers must be at least 1, got {args.workers}")
        if args.notebooks:
            notebooks = [path.resolve() for path in args.notebooks]
            bad = [str(path) for path in notebooks if path.suffix != ".ipynb" or not path.is_file()]
            if bad:
                raise ValueError(f"not a notebook file: {', '.join(bad)}")
            outside = [str(path) for path in notebooks if not path.is_relative_to(ROOT)]
            if outside:
                raise ValueError(f"not inside the repository {ROOT}: {', '.join(outside)}")
        else:
            from tools.book import notebooks as toc_notebooks

            notebooks = toc_notebooks()
            if not notebooks:
                raise ValueError("_toc.yml lists no notebooks")
        created, env_seconds = ensure_env(args.venv, args.pins, args.python, args.recreate)
    except (ValueError, OSError, subprocess.CalledProcessError) as error:  # OSError: no such --python
        print(f"pyodide stack: {error}", file=sys.stderr)
        return 1
    env_note = f"environment {'created' if created else 'reused'} in {env_seconds:.0f} s"
    python_version = _python_version(venv_python(args.venv))
    if args.env_only:
        print(f"Pyodide stack: {args.venv.name} ready, CPython {python_version} ({env_note})")
        return 0
    code, failures, seconds = run_notebooks(args.venv.resolve(), notebooks, args.workers)
    for failure in failures:
        print(f"  {failure['notebook']} | {failure['cell']} | {failure['message']}")
    print(summary(pins, python_version, len(notebooks), code, failures, seconds, env_note))
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
