"""The instructor's screen's panels: the open question's tally as bars, and the class's machines as points.

    tally_text(tally, revealed)          a Text: a line per choice, predicted (and after the reveal measured) bars
    MachinesPlot().show(points, metric)  one point per machine, METRICS[metric] against its core count
"""
from __future__ import annotations

from rich.text import Text
from textual_plotext import PlotextPlot

from teach_sgd.classroom.instructor import METRICS

BAR_W = 8  # cells of the longest bar: choice, two bars, counts and the choice's text fit half of 80 columns


def tally_text(tally, revealed: bool) -> Text:
    """One line per choice: a bar of the students who predicted it and, after the reveal, a bar of the machines
    whose run measured it; then the choice's text."""
    out = Text(no_wrap=True, overflow="ellipsis")
    most = max([1] + [max(p, m) for _, _, p, m in tally])
    out.append(f"{'':8}{'predicted':<{BAR_W + 5}}{'measured' if revealed else ''}\n", style="dim")
    for choice, label, predicted, measured in tally:
        out.append(f"{choice:>7} ", style="bold")
        out.append(f"{'█' * round(BAR_W * predicted / most):<{BAR_W}}", style="cyan")
        out.append(f"{predicted:>4} ")
        if revealed:
            out.append(f"{'█' * round(BAR_W * measured / most):<{BAR_W}}", style="green")
            out.append(f"{measured:>4} ")
        out.append(f" {label}\n", style="dim")
    return out


class MachinesPlot(PlotextPlot):
    """The class's machines: one point each, a metric against the machine's core count."""

    def show(self, points: list[dict], metric: int) -> None:
        key, label = METRICS[metric]
        pts = [(pt["cores"], pt[key]) for pt in points if pt[key] is not None]
        plt = self.plt
        plt.clear_figure()
        plt.xlabel("cores on the machine")
        if pts:
            plt.scatter([x for x, _ in pts], [y for _, y in pts], marker="●", color="yellow")
            lo, hi = min(x for x, _ in pts), max(x for x, _ in pts)
            plt.xlim(lo - 1, hi + 1)
            plt.ylim(0, 1.15 * max(y for _, y in pts) or 1)  # from 0: a class of zeros lies on the axis
        self.border_title = label  # in the border: a short plot has no room for a title line
        self.border_subtitle = f"{len(pts)} machine(s) · m: next measure"
        self.refresh()
