"""The student's class screens.

    StudentScreen(address, code, nickname)   # `teach-sgd --class HOST:PORT CODE`, or Join on the home screen
    JoinScreen()                             # the home screen's "Join a class" form

StudentScreen draws what classroom.student.StudentSession computes; the form's fields are checked by
classroom.client.join_details, as the command line's --class is. Names are shown as plain Text, never markup.
"""
from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, OptionList, Static
from textual.widgets.option_list import Option

from teach_sgd.classroom.client import ClassClient, join_details, queue_path
from teach_sgd.classroom.questions import LessonCatalog
from teach_sgd.classroom.student import StudentSession
from teach_sgd.errors import UsageError
from teach_sgd.tui.widgets.too_small import TooSmall

class StudentScreen(Screen):
    BINDINGS = [
        Binding("x", "experiment", "Run class experiment"),
        Binding("escape,h", "app.open('home')", "Home"),
    ]
    DEFAULT_CSS = """
    StudentScreen #student-head { height: 2; padding: 0 1; background: $primary 30%; text-style: bold; }
    StudentScreen #student-question { height: auto; padding: 1 1 0 1; text-style: bold; }
    StudentScreen #choices { height: auto; max-height: 10; border: round $primary; }
    StudentScreen #student-line { height: auto; padding: 0 1; }
    """

    def __init__(self, address: str, code: str, nickname: str, catalog: LessonCatalog | None = None,
                 budget=None, **kwargs) -> None:
        super().__init__(**kwargs)
        client = ClassClient(address, code, nickname, queue_file=queue_path(code.upper()))
        self.session = StudentSession(client, catalog or LessonCatalog(), budget,
                                      prepare=lambda kernels: self.app.ensure_kernels(kernels))
        self.address = address
        self._shown_seq = object()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="student-head")
        yield Static("", id="student-question")
        yield OptionList(id="choices")
        yield Static("", id="student-line")
        yield Footer()
        yield TooSmall()

    def on_mount(self) -> None:
        self.head = self.query_one("#student-head", Static)
        self.question = self.query_one("#student-question", Static)
        self.choices = self.query_one("#choices", OptionList)
        self.line = self.query_one("#student-line", Static)
        self.choices.border_title = "your prediction · Enter sends it"
        self._show()
        self.poll_loop()

    async def on_unmount(self) -> None:
        await self.session.client.close()

    @work(exclusive=True, group="class-poll")
    async def poll_loop(self) -> None:
        """StudentSession.run: join, then poll the class once a second until the screen closes."""
        try:
            await self.session.run(self._show)
        finally:  # the worker ends with the screen: its connections close with it
            await self.session.client.close()

    def _show(self) -> None:
        s = self.session
        state = "connected" if s.connected else "not connected"
        self.head.update(Text(f"class at {self.address} · you are {s.client.nickname} · {state} · "
                              f"{s.pending} unsent\n{s.class_line}"))
        if s.seq != self._shown_seq:
            self._shown_seq = s.seq
            self.choices.clear_options()
            if s.question is not None:
                self.question.update(Text(f"{s.question.title}: {s.question.text}"))
                self.choices.add_options([Option(Text(f"{k} — {t}"), id=k)
                                          for k, t in zip(s.question.choices, s.question.labels)])
            else:
                self.question.update(Text(""))
        self.line.update(Text(s.line + ("  ✗ " + s.refused[-1] if s.refused else "")))

    @on(OptionList.OptionSelected, "#choices")
    async def _chosen(self, event: OptionList.OptionSelected) -> None:
        await self.session.predict(event.option.id)
        self._show()

    def action_experiment(self) -> None:
        """x: the class's many-machine runs (classroom/experiment.py) here, then sent to the host."""
        self.session.start_class_runs()
        self._show()


class JoinScreen(Screen):
    """The home screen's "Join a class": address, code and nickname, then the StudentScreen."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]
    DEFAULT_CSS = """
    JoinScreen { align: center middle; }
    JoinScreen Vertical { width: 60; height: auto; border: round $primary; padding: 1 2; }
    JoinScreen #join-message { height: auto; }
    """

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Join a class: what the instructor's screen shows", classes="title")
            yield Input(placeholder="address, e.g. 192.168.1.20:8765", id="join-address")
            yield Input(placeholder="join code, e.g. K7MZQ2", id="join-code")
            yield Input(placeholder="your nickname (the only thing the class sees)", id="join-nickname")
            yield Static("", id="join-message")

    @on(Input.Submitted)
    def _submitted(self) -> None:
        try:
            address, code, name = join_details(*(self.query_one(f"#join-{k}", Input).value.strip()
                                                 for k in ("address", "code", "nickname")))
        except UsageError as e:
            self.query_one("#join-message", Static).update(Text(f"✗ {e}"))
            return
        self.app.switch_screen(StudentScreen(address, code, name))
