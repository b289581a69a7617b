"""How stable is each lesson's verdict? Every lesson run N times headless; per question, how often each outcome.

    python benchmarks/lesson_stability.py [--repeats 10] [--scale 1.0] [--lessons 3,13] [--json OUT]

A lesson's verdicts are computed from what its runs measured, so a question whose outcome flips from run to
run teaches nothing. The target (lessons/README.md, "Stable verdicts"): every question ≥ 90% one outcome on a
2-core machine, or the lesson says why it varies and branches on it. `--scale` shrinks every run's budget
(updates, seconds, epochs: a smaller budget measures less, so its shares say less about the full lessons);
use it only when the machine's time is short, and say so next to the table. The machine's load matters too:
report it beside the numbers. Prints one row per question: its majority outcome and that outcome's share,
then every outcome's count ("–" = undecided). Nothing here gates a build.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter

from teach_sgd.lessons import Budget, load_lessons
from teach_sgd.lessons.headless import run_lesson
from teach_sgd.lessons.machine import cores

TARGET = 0.9


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=10, help="runs of every lesson (default 10)")
    ap.add_argument("--scale", type=float, default=None,
                    help="multiply every run's budget by this (e.g. 0.3); default: the lessons' own budgets")
    ap.add_argument("--lessons", default=None, help="comma-separated lesson ids or numbers (default: all)")
    ap.add_argument("--json", default=None, metavar="OUT", help="also write every outcome as JSON")
    args = ap.parse_args()
    if args.repeats < 1 or (args.scale is not None and args.scale <= 0):
        sys.exit("lesson_stability: --repeats must be ≥ 1 and --scale > 0")

    lessons, errors = load_lessons()
    if errors:
        sys.exit(f"lesson_stability: {errors[0]}")
    if args.lessons:
        wanted = {w.strip() for w in args.lessons.split(",")}
        lessons = [l for l in lessons if l.id in wanted or str(l.number) in wanted]
    budget = Budget(scale=args.scale) if args.scale is not None else None
    print(f"{len(lessons)} lessons × {args.repeats} repeats on {cores()} cores, load average "
          f"{os.getloadavg()[0]:.1f} at start" + (f", every budget × {args.scale:g}" if budget else ""), flush=True)

    outcomes: dict[tuple[str, str], Counter] = {}
    start = time.monotonic()
    for lesson in lessons:
        for k in range(args.repeats):
            t = time.monotonic()
            report = run_lesson(lesson, budget)
            for qid, key in report.outcomes().items():
                outcomes.setdefault((lesson.id, qid), Counter())[key or "–"] += 1
            print(f"  {lesson.id} {k + 1}/{args.repeats}: {time.monotonic() - t:.0f} s "
                  f"{' '.join(f'{q}={o}' for q, o in report.outcomes().items())}", file=sys.stderr, flush=True)

    print(f"\n{'lesson':<24} {'question':<16} {'majority':<10} {'share':>6}  outcomes")
    below = 0
    for (lid, qid), counts in outcomes.items():
        top, n = counts.most_common(1)[0]
        share = n / sum(counts.values())
        below += share < TARGET
        mark = "" if share >= TARGET else "  < 90%"
        spread = ", ".join(f"{key} {c}" for key, c in counts.most_common())
        print(f"{lid:<24} {qid:<16} {top:<10} {share:>6.0%}  {spread}{mark}")
    print(f"\n{len(outcomes) - below} of {len(outcomes)} questions reached {TARGET:.0%} one outcome; "
          f"{time.monotonic() - start:.0f} s in all, load average {os.getloadavg()[0]:.1f} at the end")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"cores": cores(), "repeats": args.repeats, "scale": args.scale,
                       "outcomes": [{"lesson": l, "question": q, "counts": dict(c)} for (l, q), c in outcomes.items()]},
                      f, indent=2)


if __name__ == "__main__":
    main()
