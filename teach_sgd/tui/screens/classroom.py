"""The class screens: the instructor's (host a class, ask, reveal, see the room's machines) and the student's.

    InstructorScreen(server)         # `teach-sgd class host --ui`: serves the class from this app's event loop
    InstructorScreen(view=ClassView) # `teach-sgd class show FILE`: a saved class, read-only
    InstructorScreen(view=…, over=True)  # the same over a lesson (K): h/Esc goes back to the lesson
    StudentScreen(address, code, nickname)   # `teach-sgd --class HOST:PORT CODE`, or Join on the home screen
    JoinScreen()                     # the home screen's "Join a class" form

The screens only draw what classroom.instructor.ClassView and classroom.student.StudentSession compute.
Every name a student chose is shown as plain Text, never parsed as markup (and was cut to a safe alphabet
when it arrived: classroom/protocol.py).
"""
from __future__ import annotations

import asyncio
import time

from rich.console import Group
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, OptionList, Static
from textual.widgets.option_list import Option
from textual_plotext import PlotextPlot

from teach_sgd.classroom.client import ClassClient, ClassError, Unreachable, parse_address, queue_path
from teach_sgd.classroom.instructor import ClassView, class_csv, class_file, class_json
from teach_sgd.classroom.protocol import CODE_LENGTH, CODE_RE, Refused, nickname
from teach_sgd.classroom.questions import LessonCatalog
from teach_sgd.classroom.student import StudentSession
from teach_sgd.errors import UsageError
from teach_sgd.output import write_text
from teach_sgd.tui.widgets.too_small import TooSmall

TICK_HZ = 15.0   # the instructor's screen redraws its numbers this often (bench_class.py measures it under load)
POLL_S = 1.0     # a student asks for the class's state once a second
QUESTION_W = 24  # a question's line in the list (its column is 2/5 of 80)
BAR_W = 8  # cells of the longest bar: choice, two bars, counts and the choice's text fit half of 80 columns
# what the machines plot can show against cores: (key in a machine point, axis label with its unit)
METRICS = (("lost_per_write", "HOGWILD! ×2 lost writes per observed write"),
           ("cas_fail_per_update", "Leashed-SGD ×2 failed CAS per update"),
           ("staleness", "Leashed-SGD ×2 mean staleness τ (versions)"),
           ("speedup", "2-thread speed-up (HOGWILD! ×2 ÷ SEQ ×1 updates/s)"))


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


class InstructorScreen(Screen):
    BINDINGS = [
        Binding("o", "open_question", "Ask"),
        Binding("r", "reveal", "Reveal"),
        Binding("c", "close_question", "Close"),
        Binding("x", "class_runs", "Run on all"),
        Binding("m", "metric", "Measure"),
        Binding("e", "export", "Export"),
        Binding("escape,h", "leave", "Back"),
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
        self.server = server
        self.over = over
        self.catalog = server.lessons if server is not None else None
        self.view = view or ClassView(server.store, self.catalog)
        self.metric = 0
        self.ticks = 0
        self._points_key = None
        self._points: list[dict] = []
        self._headline = ""
        self._tally_key = None

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
                self.server = None
        self.set_interval(1 / TICK_HZ, self._tick)
        self._tick()

    async def on_unmount(self) -> None:
        if self.server is not None:
            await self.server.stop()

    def say(self, text: str) -> None:
        self.message.update(Text(text))

    def _tick(self) -> None:
        self.ticks += 1
        store = self.view.store
        live = store is not None and self.server is not None
        counts = store.counts() if live else None
        key = counts["results"] if live else -1
        if key != self._points_key:  # every result is read again only when one arrives, not on every tick
            self._points_key = key
            self._points = self.view.points()
            self._headline = self.view.headline(self._points)
            self.plot.show(self._points, self.metric)
        if live:  # three lines, always: no layout pass needed
            self.head.update(Text(f"join code: {store.code}   address: {self.server.address}\n"
                                  f"{counts['students']} joined · {counts['predictions']} predictions · "
                                  f"{counts['results']} results · {self.server.requests:,} requests "
                                  f"({self.server.refused:,} refused)\n{self._headline}"), layout=False)
        else:
            self.head.update(Text(f"{self._headline}\n(saved class: read-only)"), layout=False)
        q, question = self.view.question()
        tally = self.view.tally() if q is not None else None
        if (q, tally) == self._tally_key:  # the tally panel's height can change: redrawn only when it does
            return
        self._tally_key = (q, tally)
        if q is None:
            self.tally.update(Text("no question open: highlight one on the left and press o", style="dim"))
        else:
            title = Text(f"{q['lesson']} · {question.text if question else q['checkpoint']}\n", style="bold")
            self.tally.update(Group(title, tally_text(tally, q["revealed"])))

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
        self.metric = (self.metric + 1) % len(METRICS)
        self.plot.show(self._points, self.metric)

    def action_export(self) -> None:
        folder = self.app.export_dir
        stem = f"class-{time.strftime('%Y%m%d-%H%M%S')}"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            paths = [write_text(folder / f"{stem}.{ext}", make(self.view), label) for ext, make, label in
                     (("json", class_json, "--json"), ("csv", class_csv, "--csv"),
                      ("class.json", class_file, "--class"))]
        except (OSError, UsageError) as e:
            self.say(f"✗ export failed: {e}")
            return
        self.say("exported: " + "  ".join(str(p) for p in paths))


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
        """Join (again every second while the host cannot be reached; a refusal, such as a wrong code, ends it),
        then poll the class once a second until the screen closes."""
        try:
            while self.session.client.student is None:
                try:
                    await self.session.start()
                except Unreachable as e:
                    self.line.update(Text(f"✗ {e}; trying again every second"))
                    await asyncio.sleep(POLL_S)
                except ClassError as e:
                    self.line.update(Text(f"✗ {e}"))
                    return
            while True:
                await self.session.poll()
                self._show()
                await asyncio.sleep(POLL_S)
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
        address, code, nick = (self.query_one(f"#join-{k}", Input).value.strip()
                               for k in ("address", "code", "nickname"))
        try:
            parse_address(address)
            if not CODE_RE.fullmatch(code.upper()):
                raise UsageError(f"the join code has {CODE_LENGTH} letters and digits")
            name = nickname(nick or "student")
        except (UsageError, Refused) as e:
            self.query_one("#join-message", Static).update(Text(f"✗ {e}"))
            return
        self.app.switch_screen(StudentScreen(address, code, name))
