"""`teach-sgd lessons` (list), `teach-sgd lesson ID` (the app at one lesson), `teach-sgd lesson ID --run`
(its experiments headless, and what each question's measurement supports), and a plain-text walk through one
lesson (no TUI).

    list_lessons(args) -> int     args.lessons: an extra lesson folder or None
    walk(lesson, ask=input, out=print, budget=None)  narrative, predictions, headless runs, verdicts

Errors in lesson files go to stderr as `file:line: message`; the other lessons are still listed, and the exit
status is 2 (bad input, as for every other usage error) when any file had errors or the --lessons folder
does not exist, 0 otherwise.
"""
from __future__ import annotations

import json
import sys

from teach_sgd.commands.run import warm_up_saying
from teach_sgd.errors import EXIT_USAGE, UsageError
from teach_sgd.lessons.experiments import Budget, build_runs
from teach_sgd.lessons.headless import run_lesson
from teach_sgd.lessons.loader import load_lessons, resolve
from teach_sgd.lessons.pages import busy_note
from teach_sgd.lessons.progress import Progress
from teach_sgd.lessons.session import LessonSession
from teach_sgd.output import check_outputs, write_text
from teach_sgd.tui.app import launch
from teach_sgd.values import number


def add_parser(sub) -> None:
    sub.add_parser("lessons", help="list the lessons").set_defaults(run=list_lessons)
    p = sub.add_parser("lesson", help="open the app at one lesson (or, with --run, run it headless)")
    p.add_argument("id")
    p.add_argument("--run", dest="headless", action="store_true",
                   help="run the lesson's experiments headless and print, per question, what was measured and "
                        "which choice it supports (no app, no predictions asked)")
    p.add_argument("--json", default=None, metavar="OUT", help="with --run: also write that report as JSON")
    p.add_argument("--scale", default=None, metavar="F",
                   help="with --run: multiply every run's budget (updates, seconds, epochs) by F, e.g. 0.2 for a "
                        "quick preview; a smaller budget measures less, so its verdicts may differ")
    p.set_defaults(run=open_lesson)


def open_lesson(args, signals=None) -> int:
    """An unknown ID is a LessonNotFound (one line on stderr, exit status 2) before the app starts."""
    lesson = resolve(args.lessons, args.id)
    if args.headless:
        return run_headless(lesson, args, signals)
    for flag, value in (("--json", args.json), ("--scale", args.scale)):
        if value is not None:
            raise UsageError(f"{flag} goes with --run: `teach-sgd lesson {args.id} --run {flag} …`")
    return launch(lessons_dir=args.lessons, lesson_id=lesson.id, signals=signals)


def run_headless(lesson, args, signals) -> int:
    """`teach-sgd lesson ID --run`: progress on stderr, the report on stdout, --json OUT. A stop signal ends it
    within a second, as it does `run`: the report and --json hold the questions whose experiments ended, one line
    on stderr says what was cut short, and the exit status says which signal."""
    budget = Budget(scale=number(args.scale, "--scale", 0, 100)) if args.scale is not None else None
    check_outputs([(args.json, "--json")])
    kernels = {(c.algo, c.model) for e in lesson.experiments if not e.headless for _, c in build_runs(e, budget)}
    signals.setup_note = "before the lesson's first experiment started; nothing was measured"
    signals.wait_for(lambda: warm_up_saying(kernels))  # (a compile holds the main thread in C calls for seconds)
    signals.measuring()  # from here on a stop keeps the experiments that ended
    report = run_lesson(lesson, budget, progress=lambda eid, name, k, n: print(
        f"  {eid}: run {k + 1}/{n} ({name})", file=sys.stderr, flush=True), signals=signals)
    signals.shield()  # the report and the file are written whole, whatever arrives now
    if args.json:
        path = write_text(args.json, json.dumps(report.to_dict(), indent=2, default=_json_value) + "\n", "--json")
        print(f"wrote {path}", file=sys.stderr)
    print(report.text(), end="")
    if report.stopped:
        print(f"teach-sgd: {report.stop_line()}", file=sys.stderr)
    return signals.exit_status or 0


def _json_value(x):
    """JSON has no infinity: a bound never reached (∞) is written as the string "inf"."""
    return str(x)


def list_lessons(args, _signals=None) -> int:
    extra = getattr(args, "lessons", None)
    lessons, errors = load_lessons(extra)
    for e in errors:
        print(f"teach-sgd: {e}", file=sys.stderr)
    if extra is not None and any(e.line == 0 and e.message == "lesson folder not found" for e in errors):
        return EXIT_USAGE
    progress = Progress.load()
    if progress.warning:
        print(f"teach-sgd: {progress.warning}", file=sys.stderr)
    width = max([len(l.id) for l in lessons] + [2])
    print(f"{'ID':<{width}}  {'MIN':>3}  {'':4}  TITLE")
    for l in lessons:
        mark = {"new": "", "started": "…", "done": "✓"}[progress.status(l.id)]
        print(f"{l.id:<{width}}  {l.minutes:>3}  {mark:4}  {l.title}")
    total = sum(l.minutes for l in lessons)
    print(f"\n{len(lessons)} lessons, about {total} minutes. Open one with `teach-sgd lesson ID` "
          f"(ID or its number, e.g. `teach-sgd lesson 1`).")
    return EXIT_USAGE if errors else 0


def _choose(head: str, choices, prompt: str, ask, out) -> str:
    """Print `head` and the (key, text) choices; ask until one of the keys is typed."""
    out(head)
    for k, text in choices.choices:
        out(f"   [{k}] {text}")
    while True:
        key = ask(prompt).strip()
        if key in choices.keys:
            return key
        out(f"   choose one of: {', '.join(choices.keys)}")


def walk(lesson, ask=input, out=print, budget=None, progress: Progress | None = None) -> list:
    """Walk a lesson in plain text: the same steps and verdicts as the lesson screen. Returns the verdicts."""
    session = LessonSession(lesson, progress, resume=False, budget=budget)
    verdicts = []
    out(f"# {lesson.title}  ({lesson.minutes} min)\n")
    while True:
        step = session.step
        if step.kind == "narrative":
            out(step.text + "\n")
        elif step.kind == "predict":
            session.answer(_choose(f"\n? {step.checkpoint.question}", step.checkpoint, "your prediction: ", ask, out))
        elif step.kind == "change":
            session.change(_choose(f"\n✎ {step.experiment.change.prompt}", step.experiment.change, "your value: ",
                                   ask, out))
        elif step.kind == "run":
            e = step.experiment
            out(f"\n▶ {e.title}")
            if e.headless:
                session.simulate()
            else:
                session.run_headless(progress=lambda name, k, n: out(f"   run {k + 1}/{n}: {name}"))
            for paths in session.exported.get(e.id, []):
                out(f"   wrote {paths}")
        elif step.kind == "race":
            out(f"\n✋ Race: {step.race.title} — made by hand on real threads in the app "
                f"(teach-sgd lesson {lesson.number or lesson.id}), with the thread-control keys.\n")
        elif step.kind == "verdict":
            v = session.verdict()
            verdicts.append(v)
            if v.decided:
                head = ("✓ your prediction matches the measurement" if v.user_correct else
                        f"✗ this run says: {v.correct_text}") if v.chosen else f"this run says: {v.correct_text}"
            else:
                head = "this run cannot settle the question"
            busy = busy_note(session, step.checkpoint, "walk the lesson again")
            out(f"\n{head}\n{v.explanation}{busy}\n")
        if session.next() is None:
            break
    return verdicts
