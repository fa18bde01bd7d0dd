"""Measure the false-alarm rates of each family of checks and store them (initcore/calibration.json).

    python tools/calibrate.py              # every family, every size of the grid (a few minutes)
    python tools/calibrate.py depth log    # only these families (the others keep their rows)

The method, the representative statistics and the grid are in initcore/calibration.py; the seed
of each family's measurement is fixed, so a re-run reproduces the table.
"""
import json
import sys
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from initcore import calibration  # noqa: E402


def main(families):
    data = calibration.table().copy() if calibration.TABLE.exists() else {}
    for family in families or list(calibration.REPRESENTATIVES):
        start = time.time()
        seed = zlib.crc32(family.encode())
        values = calibration.pool(family, rng=seed)
        rows = [calibration.measure(family, n, rng=seed + n, values=values) for n in calibration.GRID]
        data[family] = {"statistic": calibration.REPRESENTATIVES[family][0],
                        "skewness": round(calibration.skewness(values), 3),
                        "pool": int(values.size), "seed": seed, "rows": rows}
        print(f"{family}: {time.time() - start:.0f} s; bounds "
              + ", ".join(f"n={r['n']}: {r['bound']:.2f} (t {r['student_bound']:.2f})" for r in rows), flush=True)
    calibration.TABLE.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
