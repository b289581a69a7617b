"""Small widgets of the lesson screen: the lesson outline (steps, ✓ for those behind you) and the choices of a
prediction (numbered; ↑↓ + Enter, a click, or the number key)."""
from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

KIND_LABEL = {"narrative": "Read", "predict": "Predict", "run": "Experiment", "verdict": "Check", "race": "Race",
              "change": "Change"}
KIND_ICON = {"narrative": "¶", "predict": "?", "run": "▶", "verdict": "✓", "race": "✋", "change": "✎"}


def step_title(step) -> str:
    """A step's title for the outline: its label in plain text, whole (the outline elides it to its width)."""
    return step.label or "Reading" if step.kind == "narrative" else step.label


def titled(title: str, tail: str, width: int | None) -> Text:
    """A lesson's title (bold) and its tail ("12 min") on one line where both fit in `width` cells, else the tail
    on a line of its own: wrapped at its space, "12" would end one line and "min" begin the next."""
    t = Text()
    t.append(title, style="bold")   # (a style given to Text() itself would be every later part's too)
    apart = width is not None and cell_len(title) + 3 + cell_len(tail) > width
    t.append(("\n" if apart else "   ") + tail, style="dim")
    return t


class LessonTitle(Static):
    """The lesson screen's title line: the title and its minutes, laid out again for each width."""
    _parts = ("", "")

    def show(self, title: str, tail: str) -> None:
        self._parts = (title, tail)
        self.refresh(layout=True)

    def render(self) -> Text:
        return titled(*self._parts, self.content_size.width or None)

    def on_resize(self) -> None:
        self.refresh(layout=True)


class LessonOutline(Static):
    """The lesson at a glance: title, summary, and every step on one line each (elided with … to the width
    there is, again on a resize), the current one marked."""

    DEFAULT_CSS = """
    LessonOutline { height: auto; padding: 1 2; }
    """
    _shown: tuple | None = None

    def show(self, lesson, index: int, status: str = "new") -> None:
        self._shown = (lesson, index, status)
        self._draw()

    def on_resize(self) -> None:
        if self._shown is not None:
            self._draw()

    def _draw(self) -> None:
        lesson, index, status = self._shown
        width = self.content_size.width or None  # None before the first layout: on_resize draws again
        t = titled(lesson.title, f"about {lesson.minutes} min", width)
        if status == "done":
            t.append("   ✓ completed before", style="green")
        t.append("\n")
        if lesson.summary:
            t.append(lesson.summary + "\n", style="italic")
        if lesson.papers:
            t.append(f"Draws on docs/papers.md §{', §'.join(lesson.papers)}\n", style="dim")
        t.append("\nThe steps of this lesson\n", style="bold underline")
        for i, step in enumerate(lesson.steps):
            here = i == index
            mark = "▶" if here else ("✓" if i < index else " ")
            line = Text(f" {mark} {i + 1:>2}  {KIND_ICON[step.kind]} {step_title(step)}",
                        style="bold reverse" if here else ("dim" if i < index else ""))
            if width is not None:
                line.truncate(width, overflow="ellipsis")
            t.append_text(line)
            t.append("\n")
        t.append("\nEach experiment: first you predict, then the threads run live on the right, then the "
                 "lesson checks your prediction against the numbers this very run measured.", style="dim")
        self.update(t)


class Choices(OptionList):
    """The choices of one checkpoint, numbered 1…n. Option ids are the choice keys."""

    DEFAULT_CSS = """
    Choices { height: auto; max-height: 12; }
    """

    def show(self, checkpoint, chosen: str | None, mark: str = "your prediction") -> None:
        """`checkpoint`: anything with `choices` and `keys` (a Checkpoint, or an experiment's Change)."""
        self.clear_options()
        for i, (key, text) in enumerate(checkpoint.choices, 1):
            label = Text()
            label.append(f"{i}  ", style="bold")
            label.append(text)
            if key == chosen:
                label.append(f"   ← {mark}", style="bold green")
            self.add_option(Option(label, id=key))
        keys = checkpoint.keys
        self.highlighted = keys.index(chosen) if chosen in keys else 0
