"""Measure the false-alarm rates of each family of checks and store them (initcore/calibration.json).

    python tools/calibrate.py              # every family, every size of the grid (a few minutes)
    python tools/calibrate.py depth log    # only these families (the others keep their rows)
    python tools/calibrate.py --training-losses   # first train the training family's networks anew
                                                  # (initcore/training_losses.json, a few minutes)

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


#: The experiment of "Does it train?" whose final losses are the training family's law.
TRAINING_SETTING = {"n_in": 16, "n_data": 512, "teacher_width": 32, "depth": 30, "width": 48,
                    "lr": 0.0075, "steps": 250, "batch": 16, "init": "he_normal", "activation": "relu",
                    "networks": 1024, "seed": 30}


def training_losses(setting=TRAINING_SETTING, chunk=128):
    """Train ``setting["networks"]`` networks as "Does it train?" does; their capped final losses."""
    import numpy as np

    from initcore import network, schemes

    gen = np.random.default_rng(setting["seed"])
    x, y = network.teacher_task(setting["n_in"], setting["n_data"], setting["teacher_width"], rng=gen)
    constant = 0.5 * float(np.mean((y - y.mean()) ** 2))
    x, y = x.astype(np.float32), y.astype(np.float32)
    widths = [setting["n_in"]] + [setting["width"]] * (setting["depth"] - 1) + [1]
    init = getattr(schemes, setting["init"])
    values = []
    for start in range(0, setting["networks"], chunk):
        c = min(chunk, setting["networks"] - start)
        ws = [init((b, a), rng=gen, copies=c, dtype=np.float32) for a, b in zip(widths, widths[1:])]
        bs = [np.zeros((c, b), dtype=np.float32) for b in widths[1:]]
        with np.errstate(over="ignore", invalid="ignore"):
            network.train_many(ws, bs, x, y, lr=setting["lr"], steps=setting["steps"], batch=setting["batch"],
                               activation=setting["activation"], rng=gen)
            final = network.loss_many(ws, bs, x, y, activation=setting["activation"])
        values.append(np.minimum(np.nan_to_num(final, nan=np.inf), constant))
    return [round(float(v), 6) for v in np.concatenate(values)]


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
    args = sys.argv[1:]
    if "--training-losses" in args:
        args.remove("--training-losses")
        start = time.time()
        losses = {"setting": TRAINING_SETTING, "values": training_losses()}
        calibration.TRAINING_LOSSES.write_text(json.dumps(losses) + "\n", encoding="utf-8")
        calibration.training_losses.cache_clear()
        print(f"training losses: {len(losses['values'])} networks in {time.time() - start:.0f} s", flush=True)
    main(args)
