"""Benchmarks for the book's speed targets, measured on the machine that runs them.

    python benchmarks/run.py                 # everything (a few minutes on 2 cores)
    python benchmarks/run.py --skip-suite    # only the Monte Carlo engine and memory (~1 min)
    python benchmarks/run.py --quick         # smaller workloads, one repeat of the suite runs

Prints a table, then one ``name: value`` line per figure:

- ``mc_overhead_ratio_float64`` / ``mc_overhead_ratio_float32``: time of
  ``initcore.layer_moments`` through a deep ReLU network (width 512, depth 20, He normal weights,
  many independent networks) divided by a bare numpy loop doing the same draws, matrix products,
  activations and second moments, in the same run (best of interleaved repeats; target <= 1.15);
- ``memory_growth_100x``: peak traced memory (tracemalloc, in a fresh subprocess) with 100x more
  samples divided by the peak at 1x, the worse of ``sample_mean`` and ``layer_moments``
  (the engine streams in chunks; target <= 1.2);
- ``notebook_seconds[<path>]``: each notebook's execution time inside the suite (kernel start
  included), ``suite_seconds``: the whole ``pytest`` run on one core (``-n 0``),
  ``suite_floor_seconds``: the same number of notebooks that only import numpy, sympy,
  matplotlib and initcore, ``suite_over_floor`` (target <= 2.5; also in CPU seconds, which other
  processes on a shared machine disturb less), ``suite_xdist2_seconds``: the suite under
  ``pytest -n 2 --dist loadscope`` (the default set in pyproject.toml), and
  ``suite_xdist2_over_floor_xdist2``: that run over the floor run the same way.

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


def _parse():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="smaller workloads, fewer repeats")
    p.add_argument("--skip-mc", action="store_true", help="skip the Monte Carlo overhead ratio")
    p.add_argument("--skip-memory", action="store_true", help="skip the memory growth measurement")
    p.add_argument("--skip-suite", action="store_true", help="skip the notebook suite timings")
    p.add_argument("--skip-xdist", action="store_true", help="skip the pytest -n 2 run")
    p.add_argument("--skip-floor", action="store_true", help="skip the floor run of import-only notebooks")
    p.add_argument("--blas-threads", default="1",
                   help="BLAS threads in the Monte Carlo comparison (default 1; 'auto' leaves it alone)")
    p.add_argument("--suite-path", action="append", default=[],
                   help="run the suite on these paths only (repeatable; default: the whole pytest run)")
    p.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    return p.parse_args()


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


def suite(args, rows, figures):
    nbs = notebooks()
    pytest = [sys.executable, "-m", "pytest"]
    # serial first (-n 0 overrides the -n 2 of pyproject.toml), then the floor, then -n 2
    wall, cpu, per_file, failed, proc = run_pytest(pytest + ["-n", "0"] + args.suite_path, ROOT)
    slowest = per_file.pop("__slowest__")
    figures["suite_seconds"] = wall
    figures["suite_cpu_seconds"] = cpu
    nbs = [p for p in nbs if str(p.relative_to(ROOT)) in per_file]  # the notebooks this run executed
    rows.append((f"pytest {' '.join(args.suite_path) or '(whole suite)'}: {len(nbs)} notebooks", f"{wall:.1f} s",
                 f"CPU {cpu:.1f} s, exit code {proc.returncode}" + (f", failed: {' '.join(failed)}" if failed else "")))
    book_total = 0.0
    for path in nbs:
        key = str(path.relative_to(ROOT))
        seconds = per_file.get(key)
        if seconds is not None:
            book_total += seconds
            figures[f"notebook_seconds[{key}]"] = seconds
            rows.append((f"  {key}", f"{seconds:.1f} s", ""))
    tests = sum(v for k, v in per_file.items() if not k.endswith(".ipynb") and k != "__slowest__")
    figures["notebooks_seconds"] = book_total
    rows.append((f"  all {len(nbs)} notebooks", f"{book_total:.1f} s", ""))
    rows.append(("  tests/ (unit, student edition, browser)", f"{tests:.1f} s", ""))
    for seconds, item in slowest:
        rows.append((f"  slow: {item}", f"{seconds:.1f} s", ""))
    tmp = floor_suite(len(nbs)) if not args.skip_floor and nbs else None
    if tmp is not None:
        floor, floor_cpu, _, _, fproc = run_pytest(
            pytest + ["-c", str(tmp / "pytest.ini"), "--rootdir", str(tmp), str(tmp)], tmp)
        figures["suite_floor_seconds"] = floor
        figures["suite_floor_cpu_seconds"] = floor_cpu
        figures["suite_over_floor"] = wall / floor
        figures["suite_over_floor_cpu"] = cpu / floor_cpu
        figures["notebooks_over_floor"] = book_total / floor
        rows.append((f"floor: {len(nbs)} import-only notebooks", f"{floor:.1f} s",
                     f"CPU {floor_cpu:.1f} s; suite / floor = {wall / floor:.2f} (wall), {cpu / floor_cpu:.2f} (CPU); "
                     f"notebooks alone / floor = {book_total / floor:.2f}"
                     + ("" if fproc.returncode == 0 else " (floor run failed)")))
    if not args.skip_xdist:
        wall2, cpu2, _, failed2, proc2 = run_pytest(pytest + ["-n", "2", "--dist", "loadscope"] + args.suite_path, ROOT)
        figures["suite_xdist2_seconds"] = wall2
        figures["suite_xdist2_cpu_seconds"] = cpu2
        rows.append(("pytest -n 2 --dist loadscope", f"{wall2:.1f} s",
                     f"CPU {cpu2:.1f} s, speedup {wall / wall2:.2f}x, exit code {proc2.returncode}"
                     + (f", failed: {' '.join(failed2)}" if failed2 else "")))
        if tmp is not None:
            floor2, _, _, _, _ = run_pytest(
                pytest + ["-c", str(tmp / "pytest.ini"), "--rootdir", str(tmp), "-n", "2", "--dist", "loadscope",
                          str(tmp)], tmp)
            figures["suite_floor_xdist2_seconds"] = floor2
            figures["suite_xdist2_over_floor_xdist2"] = wall2 / floor2
            rows.append(("floor under pytest -n 2 --dist loadscope", f"{floor2:.1f} s",
                         f"suite / floor, both on two workers = {wall2 / floor2:.2f}"))
    if tmp is not None:
        shutil.rmtree(tmp, ignore_errors=True)


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
