"""Small widgets of the lesson screen: the lesson outline (steps, ✓ for those behind you) and the choices of a
prediction (numbered; ↑↓ + Enter, a click, or the number key)."""
from __future__ import annotations

from rich.text import Text
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

KIND_LABEL = {"narrative": "Read", "predict": "Predict", "run": "Experiment", "verdict": "Check", "race": "Race",
              "change": "Change"}
KIND_ICON = {"narrative": "¶", "predict": "?", "run": "▶", "verdict": "✓", "race": "✋", "change": "✎"}


def step_title(step) -> str:
    """A step's title for the outline: its label in plain text, whole (the outline elides it to its width)."""
    return step.label or "Reading" if step.kind == "narrative" else step.label


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
        t = Text()
        t.append(lesson.title, style="bold")
        t.append(f"   about {lesson.minutes} min", style="dim")
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
