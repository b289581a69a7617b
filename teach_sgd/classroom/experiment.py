"""The class's many-machine experiment: the same three short runs on every student's laptop.

    SEQ ×1 · HOGWILD! ×2 · Leashed-SGD ×2, MLP on the bundled digits, 3 s each, the same seed everywhere.

From each machine the class then sees HOGWILD!'s lost writes per observed write, Leashed-SGD's failed CAS per
update and its staleness, and the 2-thread speed-up (HOGWILD! ×2 updates/s over SEQ ×1 updates/s) against the
machine's core count: thirty laptops with 2 to 16 cores are a scaling study no single laptop can run.
"""
from __future__ import annotations

from dataclasses import replace

from teach_sgd.classroom.protocol import cas_fail_per_update, lost_per_write
from teach_sgd.engine.config import RunConfig
from teach_sgd.engine.runner import run
from teach_sgd.engine.warmup import warm_up

BASE = RunConfig(algo="seq", threads=1, seconds=3.0)  # every other setting its declared default
CLASS_RUNS = (BASE, replace(BASE, algo="hogwild", threads=2), replace(BASE, algo="leashed", threads=2))


def run_class_experiment(progress=None) -> list[dict]:
    """Run CLASS_RUNS here, one after the other (blocking: call it from a thread) → each run's `--json` dict."""

    warm_up(sorted({(c.algo, c.model) for c in CLASS_RUNS}))
    out = []
    for k, config in enumerate(CLASS_RUNS):
        if progress is not None:
            progress(config, k, len(CLASS_RUNS))
        out.append(run(config).to_json())
    return out


def machine_points(rows: list[dict]) -> list[dict]:
    """One point per machine (nickname) from stored class results, each student's latest run of each kind:
    {nickname, cores, cpu, lost_per_write, cas_fail_per_update, staleness, speedup} (None where not measured).

    speed-up = HOGWILD! ×2 updates/s ÷ SEQ ×1 updates/s on the same machine."""
    latest: dict[str, dict] = {}
    for r in rows:
        if r.get("experiment") != "class":
            continue
        s = r["summary"]
        m = latest.setdefault(r["nickname"], {"machine": r["machine"], "runs": {}})
        m["machine"] = r["machine"]
        m["runs"][(s["algo"], s["threads"])] = s  # rows come oldest first: the latest wins
    points = []
    for nick, m in latest.items():
        runs = m["runs"]
        seq, hog, lea = runs.get(("seq", 1)), runs.get(("hogwild", 2)), runs.get(("leashed", 2))
        speedup = None
        if seq and hog and seq.get("updates_per_s") and hog.get("updates_per_s"):
            speedup = hog["updates_per_s"] / seq["updates_per_s"]
        points.append({"nickname": nick, "cores": m["machine"]["cores"], "cpu": m["machine"]["cpu"],
                       "lost_per_write": lost_per_write(hog) if hog else None,
                       "cas_fail_per_update": cas_fail_per_update(lea) if lea else None,
                       "staleness": lea.get("staleness_mean") if lea else None, "speedup": speedup})
    return sorted(points, key=lambda pt: (pt["cores"], pt["nickname"]))
