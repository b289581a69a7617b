"""StepPane: the left half of the lesson screen — the lesson's title, where the learner is, the step's text (a
check with its badge), the choices of a step that asks for one, and the hint line. It draws; the LessonSession
and its LessonKeys (lessons/keys.py) decide what.

    pane.title(lesson)                          the lesson's title and its minutes
    await pane.show(session, choosing, keys)    the current step; `choosing` from LessonKeys.choosing(),
                                                `keys`: the thread-control keys a race's stages name
    await pane.redraw(session, keys)            the step's text again (a run ended, a race moved on)
    pane.hint(text, tone)                       the line under the text; tone: pages.hint's
"""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Markdown, Static

from teach_sgd.lessons import pages
from teach_sgd.tui.widgets.lesson_outline import KIND_LABEL, Choices, LessonTitle

TONES = {"go": "bold green", "todo": "bold yellow", "info": "cyan", "dim": "dim", "pause": "bold yellow"}
BADGES = {"undecided": "bold black on yellow", "none": "bold black on grey70", "match": "bold white on dark_green",
          "mismatch": "bold white on red"}


class StepPane(Vertical):
    def compose(self) -> ComposeResult:
        yield LessonTitle(id="ls-title")
        yield Static("", id="ls-pos")
        with VerticalScroll(id="ls-scroll"):
            yield Static("", id="ls-badge")
            yield Markdown("", id="ls-text", open_links=False)
        yield Choices(id="ls-choices")
        yield Static("", id="ls-hint")

    def on_mount(self) -> None:
        q = self.query_one
        self.w_title, self.w_pos, self.w_badge = q("#ls-title", LessonTitle), q("#ls-pos", Static), q("#ls-badge", Static)
        self.w_scroll, self.w_text = q("#ls-scroll", VerticalScroll), q("#ls-text", Markdown)
        self.w_choices, self.w_hint = q("#ls-choices", Choices), q("#ls-hint", Static)

    def title(self, lesson) -> None:
        self.w_title.show(lesson.title, f"{lesson.minutes} min")

    async def show(self, session, choosing, keys: dict) -> None:
        step = session.step
        self.w_pos.update(Text.assemble(f"step {session.index + 1} / {len(session.steps)}", ("  ·  ", "dim"),
                                        (KIND_LABEL[step.kind], "bold")))
        self.w_choices.display = choosing is not None
        if choosing is not None:
            self.w_choices.show(*choosing)
        self.w_badge.display = step.kind == "verdict"
        if step.kind == "verdict":
            kind, words = pages.verdict_badge(session.verdict())
            self.w_badge.update(Text(words, style=BADGES[kind]))
        await self.w_text.update(pages.markdown(session, keys))
        self.w_scroll.scroll_home(animate=False)

    async def redraw(self, session, keys: dict) -> None:
        await self.w_text.update(pages.markdown(session, keys))

    def hint(self, text: str, tone: str) -> None:
        self.w_hint.update(Text(text, style=TONES[tone]))
