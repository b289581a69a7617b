"""Text renderings of a sweep: the table (α rows × τ_max columns, then one summary line per τ_max) and two
plotext plots (iterations to ε against τ_max; the (τ_max, α) plane with its divergence region), and the JSON
that `teach-sgd simulate --json` and a lesson's simulate experiment write (sweep_json)."""
from __future__ import annotations

import numpy as np
import plotext as plt

from teach_sgd.settings import bound_text

from .delay import DEFINITION
from .run import CONVERGED, DIVERGED, DIVERGENCE_RULE, MEASUREMENT_RULE
from .sweep import SweepResult, predicted_threshold


def _num(x: float | None, digits: int = 4) -> str:
    return "—" if x is None else f"{x:.{digits}g}"


def describe(result: SweepResult) -> str:
    cfg = result.config
    objective = f"{cfg.objective} d={cfg.dim} c={cfg.c:g}" + (f" noise={cfg.noise:g}" if cfg.objective == "quadratic" else "")
    threads = "τ_max+1" if cfg.threads is None else str(cfg.threads)
    mode = cfg.mode + (f" (persistence {bound_text(cfg.persistence)})"
                       if cfg.mode == "leashed" else "")
    return (f"scheduler {cfg.scheduler}, mode {mode}, {objective}, threads {threads}, "
            f"ε = {cfg.eps:g}, at most {cfg.max_iters} iterations, seed {cfg.seed}")


def format_table(result: SweepResult) -> str:
    cfg = result.config
    alphas = sorted(cfg.alphas)
    summaries = result.summaries()
    cell_w = max(7, *(len(str(s.best_iterations or "")) + 2 for s in summaries))
    lines = [describe(result), "",
             "iterations until ‖x − x*‖² ≤ ε (held for one iteration per thread); "
             "div = diverged, · = not reached, * = best α for that τ_max", ""]
    head = f"{'α':>9} │" + "".join(f"{'τ=' + str(t):>{cell_w}}" for t in cfg.taus)
    lines += [head, "─" * 10 + "┼" + "─" * (cell_w * len(cfg.taus))]
    for alpha in alphas:
        row = f"{alpha:>9.4g} │"
        for tau, summary in zip(cfg.taus, summaries):
            outcome = result.cell(tau, alpha).outcome
            if outcome.status == CONVERGED:
                text = str(outcome.iterations) + ("*" if alpha == summary.best_alpha else "")
            else:
                text = "div" if outcome.status == DIVERGED else "·"
            row += f"{text:>{cell_w}}"
        lines.append(row)
    lines += ["", _summary_header(cfg.exact())]
    for s in summaries:
        delay = f"{s.max_delay} {'≤' if s.max_delay <= s.tau else '>'} {s.tau}"
        measured = "none on grid" if s.threshold_high is None else f"({_num(s.threshold_low)}, {_num(s.threshold_high)}]"
        line = (f"{s.tau:>5} {s.threads:>7}  {delay:>11}{' (leash)' if s.leashed else '        '}"
                f"  {_num(s.best_alpha):>7} {_num(s.best_iterations):>10}   {measured:<20}")
        if s.predicted is not None:
            line += f" {s.predicted:>10.4g}  {'✓' if s.matches else '✗'}"
        lines.append(line)
    if cfg.exact():
        lines += ["", "predicted: the stale-read adversary (teach_sgd's own construction) lets τ+1 threads read the "
                      "same x, so each round maps x ↦ (1 − (τ+1)αc)·x and diverges iff α ≥ 2/((τ+1)c)."]
    return "\n".join(lines)


def _summary_header(exact: bool) -> str:
    head = f"{'τ_max':>5} {'threads':>7}  {'max delay':>11}          {'best α':>7} {'iterations':>10}   {'measured threshold':<20}"
    return head + (f" {'2/((τ+1)c)':>10}  match" if exact else "")


def format_plot(result: SweepResult, width: int = 90, height: int = 34, color: bool = False) -> str:
    cfg = result.config
    taus = list(cfg.taus)
    summaries = result.summaries()
    plt.clf()
    plt.theme("pro" if color else "clear")
    plt.plotsize(width, height)
    plt.subplots(2, 1)

    plt.subplot(1, 1)
    plt.title("iterations to ε against τ_max (x: diverged)")
    best = [(s.tau, s.best_iterations) for s in summaries if s.best_iterations is not None]
    if best:
        plt.plot([t for t, _ in best], [max(i, 1) for _, i in best], marker="dot", label="best α for each τ_max")
    ceiling = max([cfg.max_iters] + [i for _, i in best])
    for alpha in sorted({s.best_alpha for s in summaries if s.best_alpha is not None})[:4]:
        cells = [result.cell(t, alpha).outcome for t in taus]
        ok = [(t, o.iterations) for t, o in zip(taus, cells) if o.status == CONVERGED]
        if ok:
            plt.plot([t for t, _ in ok], [max(i, 1) for _, i in ok], marker="braille", label=f"α = {alpha:.3g}")
        bad = [t for t, o in zip(taus, cells) if o.status == DIVERGED]
        if bad:
            plt.scatter(bad, [ceiling] * len(bad), marker="x")
    plt.yscale("log")
    plt.xticks(taus)
    plt.xlabel("τ_max")

    plt.subplot(2, 1)
    plt.title("where it diverges: x diverged, • converged, · not reached")
    for status, marker in ((CONVERGED, "•"), ("not reached", "·"), (DIVERGED, "x")):
        pts = [(c.tau, c.alpha) for c in result.cells if c.outcome.status == status]
        if pts:
            plt.scatter([t for t, _ in pts], [a for _, a in pts], marker=marker)
    if cfg.exact():
        grid = np.linspace(min(taus), max(taus), 200)
        plt.plot(grid.tolist(), [predicted_threshold(t, cfg.c) for t in grid], marker="braille",
                 label="2/((τ+1)c)")
    plt.yscale("log")
    plt.xticks(taus)
    plt.xlabel("τ_max")
    plt.ylabel("α")
    text = plt.build()
    plt.clf()
    return text if color else plt.uncolorize(text)


def sweep_json(result: SweepResult) -> dict:
    cfg = result.config
    return {
        "config": {"scheduler": cfg.scheduler, "mode": cfg.mode, "objective": cfg.objective, "dim": cfg.dim,
                   "c": cfg.c, "noise": cfg.noise, "eps": cfg.eps, "max_iters": cfg.max_iters, "seed": cfg.seed,
                   "threads": cfg.threads, "persistence": cfg.persistence, "tau_max": list(cfg.taus),
                   "alphas": sorted(cfg.alphas)},
        "rules": {"delay": DEFINITION, "iterations_to_eps": MEASUREMENT_RULE, "diverged": DIVERGENCE_RULE},
        "summary": [s.to_dict() for s in result.summaries()],
        "cells": [c.to_dict() for c in result.cells],
    }
