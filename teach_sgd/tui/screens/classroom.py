"""The instructor's class screen: host a class, ask, reveal, see the room's machines (the student's screens are in
tui/screens/student.py).

    InstructorScreen(server)         # `teach-sgd class host --ui`: serves the class from this app's event loop
    InstructorScreen(view=ClassView) # `teach-sgd class show FILE`: a saved class, read-only
    InstructorScreen(view=…, over=True)  # the same over a lesson (K): h/Esc goes back to the lesson

The screen draws what classroom.instructor.InstructorBoard and ClassView compute. Every name a student chose is
shown as plain Text, never parsed as markup (and was cut to a safe alphabet when it arrived:
classroom/protocol.py).
"""
from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from teach_sgd.classroom.instructor import ClassView, InstructorBoard
from teach_sgd.classroom.protocol import Refused
from teach_sgd.tui.screens.base import QUIT_HELP
from teach_sgd.tui.widgets.class_panels import MachinesPlot, tally_text
from teach_sgd.tui.widgets.too_small import TooSmall

TICK_HZ = 15.0   # the instructor's screen redraws its numbers this often (bench_class.py measures it under load)
QUESTION_W = 24  # a question's line in the list (its column is 2/5 of 80)


class InstructorScreen(Screen):
    BINDINGS = [
        Binding("escape,h", "leave", "Back", key_display="h/Esc"),
        *QUIT_HELP,
        Binding("o", "open_question", "Ask"),
        Binding("r", "reveal", "Reveal"),
        Binding("c", "close_question", "Close"),
        Binding("x", "class_runs", "Run on all"),
        Binding("m", "metric", "Measure"),
        Binding("e", "export", "Export"),
    ]
    DEFAULT_CSS = """
    InstructorScreen #class-head { height: 3; padding: 0 1; background: $primary 30%; text-style: bold; }
    InstructorScreen #class-body { height: 1fr; }
    InstructorScreen #questions { width: 2fr; border: round $primary; }
    InstructorScreen #right { width: 3fr; }
    InstructorScreen #tally { height: auto; max-height: 12; border: round $primary; padding: 0 1; }
    InstructorScreen MachinesPlot { height: 1fr; min-height: 8; border: round $primary; }
    InstructorScreen #class-message { height: 1; padding: 0 1; }
    """

    def __init__(self, server=None, view: ClassView | None = None, over: bool = False, **kwargs) -> None:
        """over: opened above another screen (a lesson's K), which h/Esc goes back to; else h/Esc goes home."""
        super().__init__(**kwargs)
        self.over = over
        self.catalog = server.lessons if server is not None else None
        self.view = view or ClassView(server.store, self.catalog)
        self.board = InstructorBoard(self.view, server)
        self.ticks = 0

    @property
    def server(self):
        return self.board.server

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="class-head")
        with Horizontal(id="class-body"):
            yield OptionList(*self._question_options(), id="questions")
            with Vertical(id="right"):
                yield Static("", id="tally")
                yield MachinesPlot()
        yield Static("", id="class-message")
        yield Footer()
        yield TooSmall()

    def _question_options(self):
        for q in self.catalog.questions() if self.catalog else []:
            line = f"{q.lesson[:2]} {q.checkpoint}: {q.text}"  # one line each; o shows the whole question
            yield Option(Text(line if len(line) <= QUESTION_W else line[:QUESTION_W - 1] + "…"),
                         id=f"{q.lesson}\t{q.checkpoint}")

    async def on_mount(self) -> None:
        self.head = self.query_one("#class-head", Static)
        self.tally = self.query_one("#tally", Static)
        self.plot = self.query_one(MachinesPlot)
        self.message = self.query_one("#class-message", Static)
        self.query_one("#questions", OptionList).border_title = "lesson questions · o asks the highlighted one"
        self.tally.border_title = "the open question"
        if self.server is not None:
            try:
                await self.server.start()
            except OSError as e:
                self.say(f"✗ cannot listen on {self.server.address}: {e.strerror or e}; choose another --port")
                self.board.server = None
        self.set_interval(1 / TICK_HZ, self._tick)
        self._tick()

    async def on_unmount(self) -> None:
        if self.server is not None:
            await self.server.stop()

    def say(self, text: str) -> None:
        self.message.update(Text(text))

    def _tick(self) -> None:
        self.ticks += 1
        board = self.board
        if board.tick():
            self.plot.show(board.points, board.metric)
        self.head.update(Text(board.head()), layout=False)  # three lines, always: no layout pass needed
        if not board.question_changed():  # the tally panel's height can change: redrawn only when it does
            return
        q = board.open
        if q is None:
            self.tally.update(Text("no question open: highlight one on the left and press o", style="dim"))
        else:
            title = Text(f"{q['lesson']} · {board.question.text if board.question else q['checkpoint']}\n",
                         style="bold")
            self.tally.update(Group(title, tally_text(board.tally, q["revealed"])))

    # ---- keys ---------------------------------------------------------------------------------------------
    def check_action(self, action: str, parameters) -> bool | None:
        if action in ("open_question", "reveal", "close_question", "class_runs"):
            return True if self.server is not None else None
        return True

    def action_open_question(self) -> None:
        menu = self.query_one("#questions", OptionList)
        if menu.highlighted is None:
            return
        lesson, checkpoint = menu.get_option_at_index(menu.highlighted).id.split("\t")
        try:
            q = self.server.open_question(lesson, checkpoint)
        except Refused as e:
            self.say(f"✗ {e}")
            return
        self.say(f"question {q['seq']} open: students predict now; r reveals (their machines then run it)")

    def action_reveal(self) -> None:
        if self.server.reveal():
            self.say("revealed: every student's machine is running the experiment; measured outcomes arrive below")
        else:
            self.say("no open question to reveal")

    def action_close_question(self) -> None:
        self.server.close_question()
        self.say("question closed")

    def action_class_runs(self) -> None:
        n = self.server.ask_class_runs()
        self.say(f"every student's machine now runs the class experiment ({n}× asked): SEQ ×1, HOGWILD! ×2, "
                 "Leashed-SGD ×2, 3 s each; the plot fills as results arrive")

    def action_leave(self) -> None:
        if self.over:
            self.app.pop_screen()
        else:
            self.app.action_open("home")

    def action_metric(self) -> None:
        self.plot.show(self.board.points, self.board.next_metric())

    def action_export(self) -> None:
        try:
            paths = self.view.export(self.app.export_dir)
        except OSError as e:
            self.say(f"✗ export failed: {e}")
            return
        self.say("exported: " + "  ".join(str(p) for p in paths))
