"""Benchmarks for the book's speed targets, measured on the machine that runs them.

    python benchmarks/run.py                 # everything (a few minutes on 2 cores)
    python benchmarks/run.py --skip-suite    # only the Monte Carlo engine and memory (~1 min)
    python benchmarks/run.py --quick         # smaller workloads, one (suite, floor) pair

Prints a table, then one ``name: value`` line per figure:

- ``mc_overhead_ratio_float64`` / ``mc_overhead_ratio_float32``: time of
  ``initcore.layer_moments`` through a deep ReLU network (width 512, depth 20, He normal weights,
  many independent networks) divided by a bare numpy loop doing the same draws, matrix products,
  activations and second moments, in the same run (best of interleaved repeats; target <= 1.10);
- ``memory_growth_100x``: peak traced memory (tracemalloc, in a fresh subprocess) with 100x more
  samples divided by the peak at 1x, the worse of ``sample_mean`` and ``layer_moments``
  (the engine streams in chunks; target <= 1.2);
- ``notebook_suite_over_floor`` (the speed target, <= 2.5): the notebook suite, ``pytest -n 2
  book/``, against as many notebooks that only import numpy, sympy, matplotlib and initcore, run
  the same way (``--workers`` to change the worker count for both), as the median over interleaved
  (suite, floor) pairs (``--repeats``, default 3; ``_min`` and ``_max`` give the range);
  ``notebook_seconds[<path>]``: each notebook's time inside the suite (the median run);
- ``browser_over_floor``: the browser test (``pytest tests/browser``, the site already built)
  against headless Chromium loading as many bare local pages;
- ``student_over_floor``: the student edition (notebooks and HTML) against the public book's HTML
  build without execution.

The machine may be shared: the Monte Carlo figures compare CPU time (best of interleaved
repeats, BLAS on one thread, ``--blas-threads`` to change), which other processes barely disturb;
the wall-clock ratio is shown beside it. Suite timings are wall-clock, one run each.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tools.book import notebooks  # noqa: E402

#: Each notebook's seconds in the suite's median run, written by every run of the whole suite;
#: conftest.py hands the longest notebooks out first.
NOTEBOOK_SECONDS = ROOT / "benchmarks" / "notebook_seconds.json"


def _parse():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="smaller workloads, fewer repeats")
    p.add_argument("--skip-mc", action="store_true", help="skip the Monte Carlo overhead ratio")
    p.add_argument("--skip-memory", action="store_true", help="skip the memory growth measurement")
    p.add_argument("--skip-suite", action="store_true", help="skip the notebook suite timings")
    p.add_argument("--skip-floor", action="store_true", help="skip the floor run of import-only notebooks")
    p.add_argument("--skip-browser", action="store_true", help="skip the browser test and its floor")
    p.add_argument("--skip-student", action="store_true", help="skip the student edition's build and its floor")
    p.add_argument("--repeats", type=int, default=3,
                   help="interleaved (suite, floor) pairs; the ratio reported is their median (default 3)")
    p.add_argument("--workers", type=int, default=2, help="pytest-xdist workers for the suite and its floor (default 2)")
    p.add_argument("--blas-threads", default="1",
                   help="BLAS threads in the Monte Carlo comparison (default 1; 'auto' leaves it alone)")
    p.add_argument("--suite-path", action="append", default=[],
                   help="run the notebook suite on these paths only (repeatable; default: book/)")
    p.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = p.parse_args()
    if args.repeats < 1:
        p.error(f"--repeats must be a positive integer, got {args.repeats}")
    return args


# -- Monte Carlo overhead ------------------------------------------------------------------------

def bare_loop(np, gen, dtype, width, depth, networks, batch, chunk):
    """The same work as layer_moments(he_normal, relu), written directly in numpy."""
    std = dtype(np.sqrt(2.0 / width))
    total = np.zeros((2, depth))
    for start in range(0, networks, chunk):
        c = min(chunk, networks - start)
        x = gen.standard_normal((c, batch, width), dtype=dtype)
        for layer in range(depth):
            w = gen.standard_normal((c, width, width), dtype=dtype)
            w *= std
            h = np.matmul(x, np.swapaxes(w, -1, -2))
            x = np.maximum(h, 0)
            total[0, layer] += np.mean(h * h, axis=(1, 2)).sum()
            total[1, layer] += np.mean(x * x, axis=(1, 2)).sum()
    return total / networks


def mc_overhead(args, rows, figures):
    import numpy as np

    import initcore as ic

    width, depth, batch, chunk = 512, 20, 16, 16
    networks = 8 if args.quick else 16
    repeats = 2 if args.quick else 3
    times = {}
    for dtype in (np.float64, np.float32):
        name = np.dtype(dtype).name
        # warm up both paths (BLAS initialization, page faults)
        bare_loop(np, np.random.default_rng(0), dtype, width, 2, 2, batch, chunk)
        ic.layer_moments(ic.he_normal, [width] * 3, "relu", networks=2, batch=batch, chunk=chunk,
                         dtype=dtype, rng=0)
        for rep in range(repeats):
            for side in ("bare", "initcore"):
                t0, c0 = time.perf_counter(), time.process_time()
                if side == "bare":
                    bare_loop(np, np.random.default_rng(rep), dtype, width, depth, networks, batch, chunk)
                else:
                    ic.layer_moments(ic.he_normal, [width] * (depth + 1), "relu", networks=networks,
                                     batch=batch, chunk=chunk, dtype=dtype, rng=rep)
                times.setdefault((name, side), []).append(time.process_time() - c0)
                times.setdefault((name, side, "wall"), []).append(time.perf_counter() - t0)
        best_bare, best_ic = min(times[(name, "bare")]), min(times[(name, "initcore")])
        wall_ratio = min(times[(name, "initcore", "wall")]) / min(times[(name, "bare", "wall")])
        figures[f"mc_overhead_ratio_{name}"] = best_ic / best_bare
        rows.append((f"layer_moments {name}, width {width}, depth {depth}, {networks} networks",
                     f"{best_ic:.2f} s", f"bare numpy {best_bare:.2f} s CPU, ratio {best_ic / best_bare:.3f} "
                     f"(wall-clock ratio {wall_ratio:.3f})"))
    t64, t32 = min(times[("float64", "initcore")]), min(times[("float32", "initcore")])
    figures["float32_speedup_layer_moments"] = t64 / t32
    rows.append(("float32 speedup of layer_moments (same config)", f"{t64 / t32:.2f}x",
                 "Gaussian weight draws dominate at batch 16"))
    # where float32 pays: the matrix products dominate (large batch per network)
    for label, kw in [("batch 512, width 256, depth 10", dict(widths=[256] * 11, batch=512, networks=8))]:
        best = {}
        for dtype in (np.float64, np.float32):
            ts = []
            for rep in range(repeats):
                c0 = time.process_time()
                ic.layer_moments(ic.he_normal, kw["widths"], "relu", networks=kw["networks"],
                                 batch=kw["batch"], chunk=8, dtype=dtype, rng=rep)
                ts.append(time.process_time() - c0)
            best[dtype] = min(ts)
        figures["float32_speedup_large_batch"] = best[np.float64] / best[np.float32]
        rows.append((f"float32 speedup, {label}", f"{best[np.float64] / best[np.float32]:.2f}x",
                     f"float64 {best[np.float64]:.2f} s, float32 {best[np.float32]:.2f} s"))


# -- memory ----------------------------------------------------------------------------------------

_MEMORY_PROBE = textwrap.dedent("""
    import json, resource, sys, tracemalloc
    import numpy as np
    import initcore as ic
    kind, scale = sys.argv[1], int(sys.argv[2])
    tracemalloc.start()
    t0 = __import__("time").perf_counter()
    if kind == "sample_mean":
        est = ic.sample_mean(lambda g, m: g.standard_normal(m) ** 2, scale * 2**19, rng=1)
    else:
        est = ic.layer_moments(ic.he_normal, [32] * 9, "relu", networks=scale * 32, batch=16,
                               backward=True, rng=1)
    seconds = __import__("time").perf_counter() - t0
    current, peak = tracemalloc.get_traced_memory()
    print(json.dumps({"peak": peak, "seconds": seconds,
                      "maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
""")


def memory_growth(args, rows, figures):
    worst = 0.0
    big = 10 if args.quick else 100
    for kind in ("sample_mean", "layer_moments"):
        result = {}
        for scale in (1, big):
            out = subprocess.run([sys.executable, "-c", _MEMORY_PROBE, kind, str(scale)], check=True,
                                 capture_output=True, text=True, cwd=ROOT).stdout
            result[scale] = json.loads(out.strip().splitlines()[-1])
        ratio = result[big]["peak"] / result[1]["peak"]
        worst = max(worst, ratio)
        rows.append((f"{kind}: peak memory at {big}x / 1x samples", f"{ratio:.3f}",
                     f"{result[1]['peak'] / 2**20:.1f} -> {result[big]['peak'] / 2**20:.1f} MiB traced, "
                     f"time {result[1]['seconds']:.2f} -> {result[big]['seconds']:.1f} s, maxrss "
                     f"{result[1]['maxrss'] / 2**20:.0f} -> {result[big]['maxrss'] / 2**20:.0f} MiB"))
    figures[f"memory_growth_{big}x"] = worst


# -- the notebook suite ----------------------------------------------------------------------------

def run_pytest(cmd, cwd, env=None):
    """Run pytest: wall seconds, CPU seconds (pytest, its kernels and workers), per-file seconds
    from its junit report, the ids of failed items, and the finished process."""
    import resource

    with tempfile.TemporaryDirectory() as tmp:
        junit = Path(tmp) / "junit.xml"
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd + [f"--junitxml={junit}", "-q", "-p", "no:cacheprovider"], cwd=cwd,
                              env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        per_file, failed, cells = {}, [], []
        if junit.exists():
            for case in ET.parse(junit).getroot().iter("testcase"):
                cls = case.get("classname", "")
                key = cls.replace(".", "/").replace("/ipynb", ".ipynb") if ".ipynb" in cls else cls
                per_file[key] = per_file.get(key, 0.0) + float(case.get("time", 0))
                cells.append((float(case.get("time", 0)), f"{key}::{case.get('name')}"))
                if case.find("failure") is not None or case.find("error") is not None:
                    failed.append(f"{key}::{case.get('name')}")
    per_file["__slowest__"] = sorted(cells, reverse=True)[:8]
    return wall, cpu, per_file, failed, proc


FLOOR_IMPORTS = "import numpy as np\nimport sympy as sp\nimport matplotlib.pyplot as plt\nimport initcore as ic"


def floor_suite(count):
    """A directory of ``count`` notebooks that only run the install cell and the imports."""
    import nbformat

    from initcore.launch import install_cell

    tmp = Path(tempfile.mkdtemp(prefix="initcore-floor-"))
    (tmp / "pytest.ini").write_text("[pytest]\naddopts = --nbval --nbval-current-env\n")
    for i in range(count):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(install_cell()), nbformat.v4.new_code_cell(FLOOR_IMPORTS)]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, tmp / f"floor_{i:02d}.ipynb")
    return tmp


def _bare_notebooks_floor(pytest, count, workers):
    """Wall and CPU seconds of ``count`` import-only notebooks under nbval with ``workers`` workers."""
    tmp = floor_suite(count)
    try:
        wall, cpu, _, _, proc = run_pytest(
            pytest + ["-c", str(tmp / "pytest.ini"), "--rootdir", str(tmp), "-n", str(workers), "--dist", "loadscope",
                      str(tmp)], tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return wall, cpu, proc.returncode


def suite(args, rows, figures):
    """The decided target: the notebook suite (``pytest book/``) against the same number of
    import-only notebooks, at the same worker count (2, the default of pyproject.toml).

    The machine's speed drifts by tens of percent over minutes, so the suite and its floor are run
    in interleaved pairs (``--repeats``, default 3): each pair gives a ratio, and the figure is the
    median ratio (the range is printed beside it)."""
    pytest = [sys.executable, "-m", "pytest"]
    paths = args.suite_path or ["book"]
    workers = args.workers
    repeats = 1 if args.quick or args.skip_floor else args.repeats
    runs, ratios, cpu_ratios = [], [], []
    for rep in range(repeats):
        wall, cpu, per_file, failed, proc = run_pytest(
            pytest + ["-n", str(workers), "--dist", "loadscope"] + paths, ROOT)
        runs.append((wall, cpu, per_file))
        nbs = [p for p in notebooks() if str(p.relative_to(ROOT)) in per_file]
        rows.append((f"pytest -n {workers} {' '.join(paths)}: {len(nbs)} notebooks (run {rep + 1})", f"{wall:.1f} s",
                     f"CPU {cpu:.1f} s, exit code {proc.returncode}" + (f", failed: {' '.join(failed)}" if failed else "")))
        if not args.skip_floor and nbs:
            floor, floor_cpu, code = _bare_notebooks_floor(pytest, len(nbs), workers)
            ratios.append(wall / floor)
            cpu_ratios.append(cpu / floor_cpu)
            rows.append((f"floor: {len(nbs)} import-only notebooks, -n {workers} (run {rep + 1})", f"{floor:.1f} s",
                         f"CPU {floor_cpu:.1f} s; suite / floor = {wall / floor:.2f}, {cpu / floor_cpu:.2f} in CPU"
                         + ("" if code == 0 else " (floor run failed)")))
    # The per-notebook figures come from the run with the median wall time.
    wall, cpu, per_file = sorted(runs, key=lambda run: run[0])[len(runs) // 2]
    slowest = per_file.pop("__slowest__")
    nbs = [p for p in notebooks() if str(p.relative_to(ROOT)) in per_file]
    figures["notebook_suite_seconds"] = wall
    figures["notebook_suite_cpu_seconds"] = cpu
    for path in nbs:
        key = str(path.relative_to(ROOT))
        figures[f"notebook_seconds[{key}]"] = per_file[key]
        rows.append((f"  {key}", f"{per_file[key]:.1f} s", "kernel start included, on one worker"))
    for seconds, item in slowest[:4]:
        rows.append((f"  slow cell: {item}", f"{seconds:.1f} s", ""))
    if not args.suite_path:  # the whole suite: the order in which conftest.py hands notebooks out
        NOTEBOOK_SECONDS.write_text(json.dumps({str(p.relative_to(ROOT)): round(per_file[str(p.relative_to(ROOT))], 2)
                                                for p in nbs}, indent=1) + "\n")
    if ratios:
        median = sorted(ratios)[len(ratios) // 2]
        figures["notebook_suite_over_floor"] = median
        figures["notebook_suite_over_floor_min"] = min(ratios)
        figures["notebook_suite_over_floor_max"] = max(ratios)
        figures["notebook_suite_over_floor_cpu"] = sorted(cpu_ratios)[len(cpu_ratios) // 2]
        rows.append((f"notebook suite / floor, median of {len(ratios)} interleaved pairs", f"{median:.2f}",
                     f"range {min(ratios):.2f}-{max(ratios):.2f} (target <= 2.5)"))


def browser(args, rows, figures):
    """The browser test against its own floor: Chromium loading the same number of bare pages."""
    from tools.book import docnames

    pytest = [sys.executable, "-m", "pytest"]
    wall, cpu, _, failed, proc = run_pytest(pytest + ["-n", "0", "tests/browser"], ROOT)
    pages = len(docnames())
    floor = _bare_pages_floor(pages)
    figures["browser_test_seconds"] = wall
    figures["browser_floor_seconds"] = floor
    figures["browser_over_floor"] = wall / floor
    rows.append((f"pytest tests/browser ({pages} pages)", f"{wall:.1f} s",
                 f"exit code {proc.returncode}" + (f", failed: {' '.join(failed)}" if failed else "")))
    rows.append((f"floor: Chromium loads {pages} bare pages", f"{floor:.1f} s", f"browser test / floor = {wall / floor:.2f}"))


def _bare_pages_floor(count):
    """Seconds for headless Chromium (as the browser test starts it) to load ``count`` bare local pages."""
    code = textwrap.dedent(f"""
        import http.server, os, shutil, sys, tempfile, threading, time, functools
        from pathlib import Path
        sys.path.insert(0, {str(ROOT / "tests" / "browser")!r})
        from conftest import CHROMIUM_ARGS
        from playwright.sync_api import sync_playwright
        site = Path(tempfile.mkdtemp())
        for i in range({count}):
            (site / f"p{{i}}.html").write_text(f"<html><body><p>page {{i}}</p></body></html>")
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        t0 = time.perf_counter()
        with sync_playwright() as pw:
            exe = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
            chromium = pw.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
            page = chromium.new_context().new_page()
            for i in range({count}):
                page.goto(f"http://127.0.0.1:{{server.server_port}}/p{{i}}.html")
                page.screenshot()
            chromium.close()
        print(time.perf_counter() - t0)
        server.shutdown()
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return float(out.strip().splitlines()[-1])


def student_build(args, rows, figures):
    """The student edition's HTML build against its own floor: the same pages built without execution."""
    import yaml

    from tools.student import _build_html, _copy_sources, make_student_edition

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        make_student_edition(ROOT, Path(tmp) / "edition")
        edition = time.perf_counter() - t0
        source = Path(tmp) / "floor"
        source.mkdir()
        _copy_sources(ROOT, source)
        config = source / "_config.yml"
        settings = yaml.safe_load(config.read_text())
        settings["execute"]["execute_notebooks"] = "off"
        # its Lite site too, from the repository's downloads, as the student edition's build does
        settings.setdefault("sphinx", {}).setdefault("config", {})["lite_repository"] = str(ROOT)
        config.write_text(yaml.safe_dump(settings, sort_keys=False))
        t0 = time.perf_counter()
        _build_html(source)
        floor = time.perf_counter() - t0
    figures["student_build_seconds"] = edition
    figures["student_floor_seconds"] = floor
    figures["student_over_floor"] = edition / floor
    rows.append(("student edition (notebooks and HTML)", f"{edition:.1f} s", ""))
    rows.append(("floor: the public book's HTML build without execution", f"{floor:.1f} s",
                 f"student edition / floor = {edition / floor:.2f}"))


def main():
    args = _parse()
    if args.blas_threads != "auto":
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = args.blas_threads  # before numpy is imported
    rows, figures = [], {}
    started = time.perf_counter()
    if not args.skip_mc:
        mc_overhead(args, rows, figures)
    if not args.skip_memory:
        memory_growth(args, rows, figures)
    if not args.skip_suite:
        env_threads = {k: os.environ.pop(k) for k in list(os.environ) if k.endswith("_NUM_THREADS")}
        try:
            suite(args, rows, figures)
            if not args.skip_browser:
                browser(args, rows, figures)
            if not args.skip_student:
                student_build(args, rows, figures)
        finally:
            os.environ.update(env_threads)
    width = max([len(r[0]) for r in rows] + [10])
    print(f"{'measurement':<{width}}  {'value':>10}  detail")
    print("-" * (width + 40))
    for name, value, detail in rows:
        print(f"{name:<{width}}  {value:>10}  {detail}")
    print(f"(benchmark took {time.perf_counter() - started:.0f} s; {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f})")
    print()
    for name, value in figures.items():
        print(f"{name}: {value:.3f}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
