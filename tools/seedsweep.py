"""Run the notebook suite under other seeds: every check must pass for ANY value of INITCORE_SEED.

    python -m tools.seedsweep 20                 # seeds 1..20 (skipping the default 2010)
    python -m tools.seedsweep 5 --jobs 2         # two seeds at a time (2 cores)
    python -m tools.seedsweep 3 book/classical   # only some notebooks
    python -m tools.seedsweep --seeds 7,99,12345

Each seed runs ``pytest`` (nbval) on the notebooks with ``INITCORE_SEED`` set. Every failure is
reported as ``seed, notebook, cell, message``; the exit status is 1 when anything failed.
A failure under another seed means a check is not valid for any seed (too small a sample for its
bound, a heavy-tailed statistic), or a seed-dependent cell lacks the ``nbval-ignore-output`` tag.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from initcore.seeding import DEFAULT_SEED

_ERROR_LINE = re.compile(r"^\s*(?:E\s+)?([A-Za-z_][\w.]*(?:Error|Exception|Interrupt)\b:?.*)$")
_ANSI = re.compile(r"(?:\x1b|#x1B)\[[0-9;]*m")  # colour codes, raw or as junit escapes them


def seeds_for(count, start=1):
    """``count`` seeds from ``start`` upward, never the default seed."""
    seeds, s = [], start
    while len(seeds) < count:
        if s != DEFAULT_SEED:
            seeds.append(s)
        s += 1
    return seeds


def summarize(text):
    """One line saying why a cell failed, from nbval's (long) failure report."""
    text = _ANSI.sub("", text or "")
    errors = [m.group(1).strip() for line in text.splitlines() if (m := _ERROR_LINE.match(line))]
    if errors:
        return errors[-1][:300]
    if "outputs differ" in text or "mismatch" in text:
        lines = [line.strip() for line in text.splitlines()]
        detail = [line for line in lines if line.startswith("mismatch")][:1]
        if "assert reference_output == test_output failed:" in lines:
            after = lines[lines.index("assert reference_output == test_output failed:") + 1:]
            detail += [line for line in after if line][:1]
        return ("output differs from the stored one (" + "; ".join(detail)[:200] + "): tag a seed-dependent "
                "cell nbval-ignore-output, or re-execute a stale notebook")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0][:300] if lines else "failed (no message)"


def _notebook(classname):
    # junit classnames of nbval items look like "book.classical.relu_he.ipynb"
    if classname.endswith(".ipynb"):
        return classname[: -len(".ipynb")].replace(".", "/") + ".ipynb"
    return classname


def parse_junit(path):
    """Return (number of test items, list of failures as dicts notebook/cell/message)."""
    root = ET.parse(path).getroot()
    cases, failures = 0, []
    for case in root.iter("testcase"):
        cases += 1
        for tag in ("failure", "error"):
            node = case.find(tag)
            if node is not None:
                failures.append({"notebook": _notebook(case.get("classname", "")), "cell": case.get("name", ""),
                                 "message": summarize((node.get("message") or "") + "\n" + (node.text or ""))})
                break
    return cases, failures


def _launch(seed, paths, extra, workdir):
    junit = Path(workdir) / f"seed-{seed}.xml"
    env = dict(os.environ, INITCORE_SEED=str(seed))
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}",
           *extra, *paths]
    log = open(Path(workdir) / f"seed-{seed}.log", "w")
    return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT), junit, log


def sweep(seeds, paths=("book",), jobs=1, extra=(), out=sys.stdout):
    """Run the suite under each seed; return the list of failures (dicts with seed/notebook/cell/message)."""
    failures = []
    with tempfile.TemporaryDirectory(prefix="seedsweep-") as workdir:
        pending, running = list(seeds), []
        while pending or running:
            while pending and len(running) < jobs:
                seed = pending.pop(0)
                running.append((seed, time.perf_counter(), *_launch(seed, list(paths), list(extra), workdir)))
            time.sleep(0.5)
            for item in list(running):
                seed, started, proc, junit, log = item
                if proc.poll() is None:
                    continue
                running.remove(item)
                log.close()
                seconds = time.perf_counter() - started
                if junit.exists():
                    cases, found = parse_junit(junit)
                else:
                    cases, found = 0, []
                if proc.returncode not in (0, 1) or (proc.returncode == 1 and not found):
                    tail = Path(log.name).read_text(errors="replace").strip().splitlines()[-5:]
                    found.append({"notebook": "(pytest)", "cell": "-",
                                  "message": f"pytest exited with {proc.returncode}: " + " | ".join(tail)})
                for f in found:
                    f["seed"] = seed
                failures.extend(found)
                print(f"seed {seed}: {cases} cells/tests, {len(found)} failure(s), {seconds:.0f} s", file=out, flush=True)
                for f in found:
                    print(f"  seed {seed} | {f['notebook']} | {f['cell']} | {f['message']}", file=out, flush=True)
    return failures


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tools.seedsweep", description=__doc__.split("\n")[0])
    parser.add_argument("count", nargs="?", default=None, help="how many seeds (1, 2, ... skipping the default)")
    parser.add_argument("paths", nargs="*", default=[], help="notebooks or folders (default: book)")
    parser.add_argument("--seeds", help="comma-separated seeds instead of COUNT")
    parser.add_argument("--start", type=int, default=1, help="first seed when COUNT is given (default 1)")
    parser.add_argument("--jobs", "-j", type=int, default=1, help="seeds run at the same time (default 1)")
    parser.add_argument("--pytest-arg", action="append", default=[], help="extra pytest argument (repeatable)")
    args = parser.parse_intermixed_args(argv)  # options may come between COUNT and the paths
    if args.count is not None and not args.count.isdigit():  # no COUNT: the first word is a path
        args.paths, args.count = [args.count] + args.paths, None
    args.count = int(args.count) if args.count else None
    args.paths = args.paths or ["book"]
    if args.seeds:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    elif args.count:
        seeds = seeds_for(args.count, args.start)
    else:
        parser.error("give COUNT or --seeds")
    print(f"seed sweep: {len(seeds)} seeds ({', '.join(map(str, seeds))}) over {' '.join(args.paths)}, "
          f"{args.jobs} at a time", flush=True)
    started = time.perf_counter()
    failures = sweep(seeds, args.paths, args.jobs, args.pytest_arg)
    print(f"\n{len(seeds)} seeds, {len(failures)} failure(s) in {time.perf_counter() - started:.0f} s")
    if failures:
        print("seed | notebook | cell | message")
        for f in failures:
            print(f"{f['seed']} | {f['notebook']} | {f['cell']} | {f['message']}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
