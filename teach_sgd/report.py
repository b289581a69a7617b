"""Plain-text tables of run results, for the CLI's stdout (and anyone who wants them in a terminal)."""
from __future__ import annotations

from teach_sgd.columns import columns_of, lost_updates_story
from teach_sgd.engine.config import SETTINGS, RunConfig
from teach_sgd.engine.cores import busy_text
from teach_sgd.engine.events import dropped_note
from teach_sgd.engine.result import COLLAPSE_CAUSES, RunResult
from teach_sgd.settings import bound_text


COLLAPSE_ADVICE = {"step": "try a smaller lr", "init": "try --init he or fewer hidden layers", "stuck": "try a larger lr"}


def _persistence(r: RunResult) -> str:
    return f" (Tp={bound_text(r.config.persistence)})" if r.config.algo == "leashed" else ""


def _loss_change(r: RunResult) -> str:
    if r.diverged:
        return f"loss {r.loss_initial:.4f} → diverged"
    return f"loss {r.loss_initial:.4f} → {r.loss_final:.4f} ({100 * r.loss_final / r.loss_initial:.0f}% of initial)"


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths))]
    lines.append("  ".join("─" * w for w in widths))
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in rows]
    return "\n".join(lines)


def _vectors(r: RunResult) -> str:
    """What the parameter vectors in memory were: Leashed-SGD's versions come and go; the others hold a fixed
    set (θ, and for LOCK and HOGWILD! one private copy per thread), which are not versions."""
    v, m = r.versions, r.config.threads
    if r.config.algo == "leashed":
        return (f"parameter versions: peak {v.peak} (bound {v.bound}), live at end {v.live}, "
                f"allocated {v.allocated_total:,}")
    if v.live == 1:
        return "parameter vectors: θ alone (1)"
    return f"parameter vectors: θ and {m} private cop{'ies' if m != 1 else 'y'} ({v.live}), for the whole run"


def run_summary(r: RunResult) -> str:
    c = r.config
    arch = r.architecture
    lines = [
        f"{c.algo}{_persistence(r)} · {c.threads} thread{'s' * (c.threads != 1)} · {arch} "
        f"({r.params:,} params) · {c.dataset} · lr {c.lr:g} · batch {c.batch} · seed {c.seed}",
        f"{r.status}: {r.updates:,} updates in {r.wall_s:.2f} s = {r.updates_per_s:,.0f} updates/s · "
        f"{_loss_change(r)} · test accuracy {100 * r.accuracy_final:.1f}%",
        f"staleness τ: mean {r.staleness_mean:.2f}, max {r.staleness_max} · {_vectors(r)}",
    ]
    if busy := busy_text(r.core_wait, c.threads):
        lines.append(f"{busy} — the run's rates measure the machine's load as much as the algorithm")
    if r.events_recorded or r.events_missed:
        lines.append(f"events: {r.events_recorded:,} recorded, {r.events_missed:,} missed"
                     + (" (the ring wrapped before they were drained)" if r.events_missed else "")
                     + (f"; {r.events_dropped:,} {dropped_note(r.events_kept_from_s)}" if r.events_dropped else ""))
    if c.stretch > 1:
        lines.append(f"slow motion: {c.stretch}× (every window that decides a race stretched by that factor)")
    if r.delay:
        t = r.threads[r.delay["thread"]]
        low = "—" if t.staleness_min is None else t.staleness_min
        lines.append(f"delay adversary: thread {r.delay['thread']}'s updates held until {r.delay['tau']} updates had "
                     f"been published since the version each read ({r.delay['held_updates']:,} of them had to "
                     f"wait); its staleness τ: min {low}, mean {t.staleness_mean:.2f}, max {t.staleness_max}")
    if r.freeze:
        f = r.freeze
        lines.append(f"freeze: thread {f['thread']} held at {f['point']} for {f['held_s']:.2f} s; the other "
                     f"threads published {f['updates_by_others_while_held']:,} updates meanwhile"
                     if f["held_s"] > 0 else
                     f"freeze: thread {f['thread']} never reached {f['point']} after {r.config.freeze[2]:g} s")
    if r.collapsed:
        lines.append("collapsed: the model ended no better than chance, its loss stuck near ln(classes) — "
                     f"{COLLAPSE_CAUSES[r.collapse_cause]}; {COLLAPSE_ADVICE[r.collapse_cause]}")
    if c.target_loss is not None:
        ttt = f"{r.time_to_target_s:.2f} s" if r.time_to_target_s is not None else "not reached"
        lines.append(f"time to {c.target_loss:g} × initial loss: {ttt}")
    abandoned = sum(t.abandoned for t in r.threads)
    if abandoned:
        lines.append(f"abandoned: {abandoned} gradient(s) computed but not published because the run stopped")
    if c.algo == "hogwild" and r.lost_fraction_sampled is not None:
        lost = sum(t.lost_updates_sampled for t in r.threads)
        sampled = sum(t.sampled_writes for t in r.threads)
        lines.append(f"lost coordinate writes: {lost:,} of {sampled:,} observed (sampled) writes were overwritten "
                     f"({100 * r.lost_fraction_sampled:.3f}%) · torn reads: {sum(t.torn_reads for t in r.threads):,}")
    # the same columns as the app's thread table: each algorithm's own events, no column of zeros
    columns = columns_of(c)
    header = ["thread", *(m.label for m in columns)]
    rows = [[str(t.thread), *(m.fmt(m.value((t,), r.params)) for m in columns)] for t in r.threads]
    rows.append(["total", *(m.fmt(m.value(r.threads, r.params)) for m in columns)])
    return "\n".join(lines) + "\n\n" + _table(header, rows)


def median_range(values, fmt: str) -> str:
    """'median [min–max]' (only the median when all are equal)."""
    v = sorted(values)
    mid = len(v) // 2
    med = v[mid] if len(v) % 2 else (v[mid - 1] + v[mid]) / 2
    if v[0] == v[-1]:
        return format(med, fmt)
    return f"{med:{fmt}} [{v[0]:{fmt}}–{v[-1]:{fmt}}]"


def repeat_table(results: list[RunResult]) -> str:
    """Compare with repeats: one row per algorithm, median [range] over its runs (seeds seed, seed+1, …),
    and how many of them diverged or collapsed."""
    groups: dict[str, list[RunResult]] = {}
    for r in results:
        groups.setdefault(r.config.algo + _persistence(r), []).append(r)
    c = results[0].config
    seeds = sorted({r.config.seed for r in results})
    head = _with_scope(f"compare · {c.model} · {c.dataset} · lr {c.lr:g} · batch {c.batch} · "
                       f"seeds {seeds[0]}–{seeds[-1]} · median [min–max] over the runs of each algorithm", results)
    header = ["algo", "threads", "runs", "updates/s", "loss final", "accuracy", "τ mean", "τ max", "diverged",
              "collapsed"]
    rows = []
    for name, rs in groups.items():
        finite = [r for r in rs if not r.diverged]
        rows.append([
            name, str(rs[0].config.threads), str(len(rs)), median_range([r.updates_per_s for r in rs], ",.0f"),
            median_range([r.loss_final for r in finite], ".4f") if finite else "—",
            median_range([100 * r.accuracy_final for r in rs], ".1f"),
            median_range([r.staleness_mean for r in rs], ".2f"), median_range([r.staleness_max for r in rs], ",.0f"),
            f"{sum(r.diverged for r in rs)} of {len(rs)}", f"{sum(r.collapsed for r in rs)} of {len(rs)}",
        ])
    return head + "\n\n" + _table(header, rows)


# settings compare gives every algorithm but only some take (engine/config.py shared_settings), and why the rest don't
SCOPED = {"step": "their updates are never stale", "writes": "they write whole updates",
          "delay": "their updates are never stale"}


def scope_line(configs: list[RunConfig]) -> str | None:
    """'--step tail: taken by hogwild, leashed; sync ran without it (their updates are never stale)': which
    algorithms a setting given to all of them applied to (None when every algorithm took every setting)."""
    parts = []
    for key, why in SCOPED.items():
        default = SETTINGS[key].default
        given = next((getattr(c, key) for c in configs if getattr(c, key) != default), None)
        if given is None:
            continue
        took = list(dict.fromkeys(c.algo for c in configs if getattr(c, key) == given))
        left = list(dict.fromkeys(c.algo for c in configs if getattr(c, key) != given))
        if left:
            parts.append(f"{SETTINGS[key].cli_flag} {SETTINGS[key].text(given)}: taken by {', '.join(took)}; "
                         f"{', '.join(left)} ran without it ({why})")
    return " · ".join(parts) or None


def _with_scope(text: str, results: list[RunResult]) -> str:
    scope = scope_line([r.config for r in results])
    return text + (f"\n{scope}" if scope else "")


def compare_table(results: list[RunResult]) -> str:
    c = results[0].config
    head = _with_scope(f"compare · {c.model} · {c.dataset} · lr {c.lr:g} · batch {c.batch} · seed {c.seed}"
                       + (f" · target {c.target_loss:g} × initial loss" if c.target_loss else ""), results)
    # the app's Compare columns: each algorithm's own numbers, "—" where an algorithm has no such number
    events = [m for m in columns_of(*(r.config for r in results)) if m.key != "updates"]
    header = ["algo", "threads", "updates", "updates/s", "loss final", "accuracy", *(m.label for m in events),
              "versions peak/bound", "time to target", "status"]
    rows = []
    for r in results:
        ttt = "—" if r.config.target_loss is None else (
            f"{r.time_to_target_s:.2f}s" if r.time_to_target_s is not None else "not reached")
        rows.append([
            r.config.algo + _persistence(r), str(r.config.threads), f"{r.updates:,}", f"{r.updates_per_s:,.0f}",
            "diverged" if r.diverged else f"{r.loss_final:.4f}", f"{100 * r.accuracy_final:.1f}%",
            *(m.cell(r.config.algo, r.threads, r.params) for m in events),
            f"{r.versions.peak}/{r.versions.bound}", ttt, r.status,
        ])
    story = lost_updates_story(results)
    return head + "\n\n" + _table(header, rows) + (f"\n\n{story}" if story else "")
