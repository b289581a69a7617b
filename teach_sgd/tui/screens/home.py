"""HomeScreen: lessons, Playground, Compare, Simulator, Help. Picking a lesson posts `LessonChosen(id)`."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from teach_sgd.lessons.progress import Progress
from teach_sgd.tui.messages import LessonChosen
from teach_sgd.tui.screens.challenge import ChallengeMenu
from teach_sgd.tui.screens.student import JoinScreen
from teach_sgd.tui.widgets.kernel_status import KernelStatus
from teach_sgd.tui.widgets.menus import reload_options
from teach_sgd.tui.widgets.too_small import TooSmall

INTRO = (
    "[b]Watch real threads race through asynchronous SGD.[/b]\n"
    "HOGWILD!, lock-based AsyncSGD and Leashed-SGD run as native, GIL-free threads; "
    "every counter you see is read live from them."
)


def _progress_marks() -> tuple[dict[str, str], str | None]:
    """Lesson id → '  ✓ done' / '  … at step 4 / 7' from the saved progress ({} if there is none), and the line
    saying where a damaged progress file was set aside (userdata.load_table), if one was."""
    progress = Progress.load()  # a damaged file is set aside, never raised
    return {lid: f"  {progress.status_text(lid)}" for lid in progress.lessons if progress.status_text(lid)}, \
        progress.warning


class HomeScreen(Screen):
    """The menu. `lessons` is a list of (id, title, minutes)."""

    BINDINGS = [
        Binding("p", "app.open('playground')", "Playground"),
        Binding("c", "app.open('compare')", "Compare"),
        Binding("s", "app.open('simulator')", "Simulator"),
    ]

    def __init__(self, lessons: list[tuple[str, str, int | None]] | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lessons = list(lessons or [])

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="home"):
            yield Static(INTRO, id="intro")
            yield OptionList(*self._options(), id="menu")
            yield KernelStatus()
        yield Footer()
        yield TooSmall()

    def _options(self):
        yield Option("▶ Playground — one run, your settings, live", id="playground")
        yield Option("⇄ Compare — two runs side by side on the same seed", id="compare")
        yield Option("⚙ Simulator — virtual threads, one instruction at a time; be the scheduler", id="simulator")
        yield Option("★ Challenges — play the scheduler: lose an update, break a broken protocol", id="challenges")
        yield Option("◎ Join a class — the instructor's address and join code, and a nickname", id="join")
        yield Option("? Help — what every panel shows", id="help")
        yield None
        if self.lessons:
            marks, warning = _progress_marks()
            if warning:
                self.app.notify(warning, severity="warning", timeout=15)
            for lid, title, minutes in self.lessons:
                mins = f"  ({minutes} min)" if minutes else ""
                yield Option(f"◆ {title}{mins}{marks.get(lid, '')}", id=f"lesson:{lid}")
        else:
            yield Option("◆ Lessons — none installed yet", id="lessons", disabled=True)

    def on_mount(self) -> None:
        self.query_one("#menu", OptionList).border_title = "Start here"

    def on_screen_resume(self) -> None:
        """Back from a lesson: refresh the lessons' progress marks (✓ done, … started)."""
        reload_options(self.query_one("#menu", OptionList), self._options())

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        oid = event.option.id or ""
        if oid.startswith("lesson:"):
            self.post_message(LessonChosen(oid.split(":", 1)[1]))
        elif oid == "challenges":
            self.app.push_screen(ChallengeMenu())
        elif oid == "join":
            self.app.push_screen(JoinScreen())
        elif oid == "help":
            self.app.action_help()
        elif oid in ("playground", "compare", "simulator"):
            self.app.action_open(oid)
