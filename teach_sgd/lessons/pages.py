"""What the lesson screen writes on its left pane, as text: a step's Markdown, the verdict's badge, the hint line.

    markdown(session, keys)       the current step as Markdown (narrative, question, experiment plan, check, race;
                                  `keys`: the thread-control keys a race's stages name, e.g. {"thaw": " (t)"})
    verdict_badge(verdict)        ("match" | "mismatch" | "none" | "undecided", its words) — the screen colours it
    hint(session, busy, paused)   (the line under the text, its tone: "go" | "todo" | "info" | "dim" | "pause")
    describe_config(config)       'leashed, 8 threads, η = 0.05, 2,000 updates'

Plain functions of a LessonSession, so that what a learner reads is tested without a terminal.
"""
from __future__ import annotations

from teach_sgd.engine.cores import busy_parts, cores_here
from teach_sgd.lessons.checkpoints import Verdict
from teach_sgd.lessons.races import NO_KEYS
from teach_sgd.settings import bound_text


def describe_config(config) -> str:
    """'leashed, 8 threads, η = 0.05, 2,000 updates' (', thread 0 delayed τ = 4' with a delay) — the header of a
    run in a sequence."""
    threads = f"{config.threads} thread{'s' if config.threads != 1 else ''}"
    parts = [config.algo, threads, f"η = {config.lr:g}"]
    if config.algo == "leashed":
        parts.append(f"Tp = {bound_text(config.persistence)}")
    if config.delay is not None:
        parts.append(f"thread {config.delay[0]} delayed τ = {config.delay[1]}")
    if config.updates is not None:
        parts.append(f"{config.updates:,} updates")
    elif config.seconds is not None:
        parts.append(f"{config.seconds:g} s")
    elif config.epochs is not None:
        parts.append(f"{config.epochs:g} epochs")
    return ", ".join(parts)


def markdown(session, keys: dict = NO_KEYS) -> str:
    step = session.step
    if step.kind == "narrative":
        return step.text
    if step.kind == "race":
        return race_text(session, keys)
    if step.kind == "predict":
        return _predict(session, step.checkpoint)
    if step.kind == "change":
        return _change(session, step.experiment)
    if step.kind == "run":
        return _run(session, step.experiment)
    return _verdict(session.verdict(step.checkpoint.id), step.checkpoint) + busy_note(session, step.checkpoint)


def _predict(session, cp) -> str:
    e = session.lesson.experiment(cp.experiment)
    if cp.ask == "after":
        lead = (f"*A question about what you just watched* (experiment **{e.title}**): the numbers are on "
                "the right.")
    else:
        lead = f"*Predict before you run* experiment **{e.title}**."
    return f"## Your prediction\n\n{lead}\n\n**{cp.question}**\n\nChoose one below."


def _change(session, e) -> str:
    change = e.change
    others = [f"**{name.split('#')[0]}** — {describe_config(cfg)}" for name, cfg in session.plan(e.id)
              if name.split("#")[0] != change.run]
    lines = ["## Change it yourself", "", f"*Before you run* experiment **{e.title}**.", "",
             f"**{change.prompt}**", "",
             f"Run **{change.run}** will run with the value you pick; the others run as they are:", ""]
    lines += [f"- {line}" for line in dict.fromkeys(others)]
    lines += ["", "Choose one below; the next steps ask what you expect, then run both."]
    return "\n".join(lines)


def _run(session, e) -> str:
    lines = [f"## Experiment: {e.title}", ""]
    if e.note:
        lines += [e.note, ""]
    if e.kind == "simulate":
        lines += ["This experiment runs the **asynchrony simulator** (no real threads): a sweep of step "
                  "sizes α against delay bounds τ_max. Its table appears on the right.", ""]
    elif e.kind == "sharing":
        lines += ["This experiment runs a **false-sharing measurement** on real threads: each thread "
                  "increments its own counter, first alone, then with the counters packed into one cache "
                  "line, then padded a line apart. Its table appears on the right.", ""]
    else:
        plan = session.plan(e.id)
        lines += [f"{'These runs go' if len(plan) > 1 else 'This run goes'} one after another, "
                  "live on the right:", ""]
        lines += [f"{i}. **{name}** — {describe_config(cfg)}" for i, (name, cfg) in enumerate(plan, 1)]
        lines.append("")
    done = e.id in session.results
    lines.append("Press **r** to run it again." if done else "Press **r** to start the experiment.")
    return "\n".join(lines)


def race_text(session, keys: dict = NO_KEYS) -> str:
    """A race step: the race as it goes (what happened at each stage, what to do now), or how to start it."""
    spec = session.step.race
    lines = [f"## Make it yourself: {spec.title}", ""]
    race = session.race if session.race is not None and session.race.spec is spec else None
    if race is not None:
        return "\n".join(lines + race.lines(keys))
    made = session.made.get(spec.name)
    if made:
        lines += [f"**✓ You made it.** {made}", "", "Press **r** to make it again on fresh threads."]
    else:
        lines += [f"Real threads ({spec.config().threads}, {spec.config().algo}), held where this step says. "
                  "Each stage tells you which key to press; the engine's own counters say what happened. A key "
                  "that would spoil the race is not performed, and you are told why.", "",
                  "Press **r** to start the threads."]
    return "\n".join(lines)


def _verdict(v: Verdict, cp) -> str:
    lines = ["## Check", "", f"**{cp.question}**", ""]
    lines.append(f"- you predicted: **{cp.choice_text(v.chosen) or '—'}**")
    if v.decided:
        lines.append(f"- this run measured: **{v.correct_text}**")
    elif v.missing:
        lines.append(f"- not measured: {v.missing}")
    lines += ["", v.explanation.strip()]
    return "\n".join(lines)


def busy_note(session, cp, again: str = "run the experiment again (**r** at its step)") -> str:
    """Under a check, when the machine was busy during the experiment's runs: a run's threads waited for a core
    more than their number explains (engine/cores.py, as the dashboard's status line says it). Their rates, times
    and races then measured the load as much as the algorithms, and the verdict above stands on such runs."""
    res = session.results.get(cp.experiment)
    runs = list(res.runs.values()) if res is not None else []
    cores = cores_here()
    busy = [r for r in runs if busy_parts(r.core_wait, r.config.threads, cores) is not None]
    if not busy:
        return ""
    shares = sorted(1 - r.core_wait for r in busy)
    lo, hi = f"{shares[0]:.0%}", f"{shares[-1]:.0%}"
    share = hi if lo == hi else f"{lo.rstrip('%')}–{hi}"
    which = "its run" if len(runs) == 1 else f"{len(busy)} of its {len(runs)} runs"
    most = max(r.config.threads for r in busy)
    # with more threads than cores, taking turns is the run's own doing: say how much, so "other work" is not
    # blamed for all of it (busy_parts only speaks 20 points beyond it)
    turns = (f" ({most} threads on {cores} cores take turns: on an idle machine each would have a core "
             f"{cores / most:.0%} of the time)") if most > cores else ""
    return (f"\n\n**Busy machine.** In {which} the threads had a core only {share} of the time they were ready to "
            f"run{turns}: other work held this machine's {cores} core{'s' if cores != 1 else ''}. The numbers above "
            f"measured that load as much as the algorithms; {again} when the machine is quieter.")


def verdict_badge(v: Verdict) -> tuple[str, str]:
    if not v.decided:
        return "undecided", " ? UNDECIDED — the run did not measure what the question needs "
    if v.user_correct is None:
        return "none", " – no prediction was made "
    if v.user_correct:
        return "match", " ✓ your prediction matches the measurement "
    return "mismatch", " ✗ the measurement says otherwise "


def hint(session, busy: bool = False) -> tuple[str, str]:
    step = session.step
    nxt = "n → finish the lesson" if session.last else "n → next"
    if busy:
        live = step.kind == "run" and not step.experiment.headless
        doing = "simulating…" if step.kind == "run" and step.experiment.kind == "simulate" else "measuring…"
        return ("running… space pauses, x stops" if live else doing), "go"
    if step.kind == "predict":
        chosen = session.answers.get(step.checkpoint.id)
        if chosen:
            return f"prediction saved: {step.checkpoint.choice_text(chosen)} — {nxt}", "info"
        return f"choose: ↑↓ + Enter, or 1–{len(step.checkpoint.choices)}", "todo"
    if step.kind == "change":
        change = step.experiment.change
        picked = session.changes.get(step.experiment.id)
        if picked:
            return f"{change.choice_text(picked)} for run {change.run} — {nxt}", "info"
        return f"pick a value: ↑↓ + Enter, or 1–{len(change.values)}", "todo"
    if step.kind == "race":
        if busy:
            return "the threads are yours: follow the steps on the left", "go"
        if step.race.name in session.made:
            return f"made — {nxt}, r makes it again", "info"
        return f"r → start the race ({nxt} skips it)", "todo"
    if step.kind == "run":
        if session.can_advance:
            return f"done — {nxt} (the check), r runs it again", "info"
        return "r → run the experiment", "todo"
    return nxt, "dim"
