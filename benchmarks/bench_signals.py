"""Every stop stops: stop signals at random moments of `teach-sgd run`, real processes, real signals.

    python benchmarks/bench_signals.py              # 60 trials
    python benchmarks/bench_signals.py --trials 100 --threads 256 --cold 0.2 --max-delay 12
    python benchmarks/bench_signals.py --busy 2      # with 2 busy processes competing for the cores

Each trial starts `teach-sgd run --algo leashed --threads T --seconds 30 --json FILE` and sends SIGINT, SIGTERM
or SIGHUP (at random) after a random delay of 0 to --max-delay seconds, which lands, on a 2-core machine, in
Python's start, the import of numba and the engine, the data and model set-up, the start of T threads, or the
run; with probability --cold the trial gets an empty kernel cache, so its signal lands in the first compile;
with probability --running the signal comes just after the first progress line, while the threads train (and
the stop then writes the JSON while more signals may come). With --busy N, N busy processes (benchmarks/busy.py)
compete for the cores the whole time, as on a busy laptop: the run's nice-19 workers then rarely get a core.
It then measures how long the process took to end after the signal and checks what it left:

    stop > 1 s        the number this benchmark exists for (target 0)
    bad status        an exit status other than 128 + the signal (death by that signal while the interpreter itself
                      was starting, before teach-sgd could install its handlers, is counted apart: a shell
                      reports it as the same status)
    traceback         "Traceback" or "Exception ignored" on stderr once teach-sgd listens (a stop raised into a
                      finalizer is lost)
    damaged JSON      a --json file that exists but does not parse, or is not a stopped run of T threads

Prints one line per trial with --verbose, and a summary; exits 1 if any stop took more than 1 s or any trial
was bad.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from busy import Busy

from teach_sgd.child import PACKAGE_HOME, module_argv

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _signals_as_a_terminal_sends_them() -> None:
    """In the child, before exec: the stop signals' default actions, whatever this benchmark inherited. Started
    under nohup (SIGHUP ignored) or as a background job of a script (SIGINT ignored), its runs inherited the
    ignoring, and a signal sent before teach-sgd installed its handlers was lost: the run went on for its 30 s
    and counted as a stop that took 50 s."""
    for sig in SIGNALS:
        signal.signal(sig, signal.SIG_DFL)


def trial(rng: random.Random, folder: Path, threads: int, max_delay: float, cold: bool, after_start: bool) -> dict:
    out = folder / "r.json"
    out.unlink(missing_ok=True)
    env = dict(os.environ)
    if cold:
        env["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(dir=folder)
    sig = rng.choice(SIGNALS)
    p = subprocess.Popen(module_argv("teach_sgd.commands", "run", "--algo", "leashed", "--threads", str(threads),
                                     "--dataset", "synthetic", "--seconds", "30", "--json", str(out)),
                         cwd=PACKAGE_HOME, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
                         preexec_fn=_signals_as_a_terminal_sends_them)
    started = time.perf_counter()
    if after_start:  # wait for the first progress line (the threads train), then up to half a second more
        seen = ""
        while "updates" not in seen:
            seen = p.stderr.readline()
            if not seen:
                break
        time.sleep(rng.uniform(0, 0.5))
    else:
        time.sleep(rng.uniform(0, max_delay))
    delay = time.perf_counter() - started
    sent = time.perf_counter()
    p.send_signal(sig)
    try:
        _, stderr = p.communicate(timeout=60)
        took = time.perf_counter() - sent
    except subprocess.TimeoutExpired:
        p.kill()
        _, stderr = p.communicate()
        took = float("inf")
    # Python's default action: the signal came while the interpreter started, before main() installed its handlers
    # (death by the signal, or, for SIGINT, a KeyboardInterrupt out of the first imports)
    early = p.returncode == -sig or (stderr.rstrip().endswith("KeyboardInterrupt") and "teach-sgd" not in stderr)
    status_ok = p.returncode == 128 + sig or early
    json_ok = True
    if out.exists():
        try:
            r = json.loads(out.read_text())
            json_ok = r["status"] == "stopped" and r["threads"] == threads
        except (ValueError, KeyError):
            json_ok = False
    return {"signal": signal.Signals(sig).name, "delay": delay, "cold": cold, "running": after_start, "took": took,
            "status": p.returncode, "status_ok": status_ok, "json": out.exists(), "json_ok": json_ok,
            "early": early, "traceback": not early and ("Traceback" in stderr or "Exception ignored" in stderr),
            "said": (stderr.strip().splitlines() or [""])[-1][:100]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 epilog="See the module docstring for what each count means.")
    ap.add_argument("--trials", type=int, default=60, help="number of signals sent (default 60)")
    ap.add_argument("--threads", type=int, default=64, help="worker threads per run (default 64)")
    ap.add_argument("--max-delay", type=float, default=8.0, help="latest moment a signal is sent, s (default 8)")
    ap.add_argument("--cold", type=float, default=0.15,
                    help="fraction of trials with an empty kernel cache: the signal lands in a compile (default 0.15)")
    ap.add_argument("--running", type=float, default=0.4,
                    help="fraction of trials whose signal comes 0–0.5 s after the first progress line, while the "
                         "threads train (default 0.4)")
    ap.add_argument("--busy", type=int, default=0,
                    help="busy processes competing for the cores during every trial (default 0)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--verbose", action="store_true", help="one line per trial")
    args = ap.parse_args(argv)

    rng = random.Random(args.seed)
    results = []
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp, Busy(args.busy):
        for k in range(args.trials):
            cold = rng.random() < args.cold
            r = trial(rng, Path(tmp), args.threads, args.max_delay, cold, not cold and rng.random() < args.running)
            results.append(r)
            if args.verbose:
                print(f"{k:3d} {r['signal']:7s} at {r['delay']:.2f} s{' (cold)' if r['cold'] else ''}"
                      f"{' (training)' if r['running'] else ''}: ended "
                      f"{r['took']:.2f} s later, status {r['status']}, json {'whole' if r['json_ok'] and r['json'] else 'none' if not r['json'] else 'DAMAGED'}"
                      f" · {r['said']}", flush=True)
    slow = [r for r in results if r["took"] > 1.0]
    bad_status = [r for r in results if not r["status_ok"]]
    tracebacks = [r for r in results if r["traceback"]]
    damaged = [r for r in results if not r["json_ok"]]
    took = sorted(r["took"] for r in results)
    print(f"{len(results)} stop signals: {sum(r['cold'] for r in results)} with an empty kernel cache (a compile), "
          f"{sum(r['running'] for r in results)} while the threads trained, the rest 0–{args.max_delay:g} s after the "
          f"start; {args.threads} threads, {args.busy} busy processes; load average {load0:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after")
    print(f"stop latency: median {took[len(took) // 2]:.3f} s, max {took[-1]:.3f} s")
    print(f"stops that took > 1 s: {len(slow)} (target 0)")
    print(f"bad exit status: {len(bad_status)} · tracebacks: {len(tracebacks)} · damaged JSON: {len(damaged)} · "
          f"JSON written by {sum(r['json'] for r in results)} (the rest were stopped before training started)")
    print(f"ended by Python's default action, the signal having come while the interpreter itself started, before "
          f"teach-sgd's handlers were installed: {sum(r['early'] for r in results)} (status −signal, which a shell "
          "reports as 128 + signal too; SIGINT there prints Python's KeyboardInterrupt traceback)")
    return 1 if slow or bad_status or tracebacks or damaged else 0


if __name__ == "__main__":
    sys.exit(main())
