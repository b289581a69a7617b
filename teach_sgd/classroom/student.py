"""StudentSession: what a student's app does in a class, as a plain state machine (no terminal needed).

    session = StudentSession(client, catalog)
    await session.run(shown)          # join (again every second while the host is unreachable), then poll once a
                                      # second for as long as the screen is open; shown() after each change
    await session.start()             # join (once; the queue file keeps the token)
    await session.poll()              # once a second: the open question, reveal → measure here and send
    await session.predict("yes")      # the prediction for the open question
    session.start_class_runs()        # the many-machine runs (classroom/experiment.py) in the background, sent
                                      # when done; poll() starts them too when the instructor asks the class

    session.phase    "waiting" · "question" · "predicted" · "measuring" · "measured"
    session.line     one sentence for the screen, true for this moment

Measuring runs real threads and blocks, so it goes to a worker thread (asyncio.to_thread); the poll that
saw the reveal returns at once and later polls see phase "measuring" until the result is queued and sent.
"""
from __future__ import annotations

import asyncio

from teach_sgd.classroom.client import ClassClient, ClassError, FlushReport, Unreachable
from teach_sgd.classroom.experiment import CLASS_RUNS, run_class_experiment
from teach_sgd.classroom.machine import machine_info
from teach_sgd.classroom.protocol import Refused, summary
from teach_sgd.classroom.questions import LessonCatalog, Question


POLL_S = 1.0     # a student asks for the class's state once a second


class NotRunnable(Exception):
    """Nothing can run on this machine now (its kernels failed to compile)."""


class StudentSession:
    def __init__(self, client: ClassClient, catalog: LessonCatalog, budget=None, prepare=None):
        """prepare: `async prepare(kernels) -> bool`, called before anything runs here (the app's ensure_kernels:
        a kernel not yet compiled is compiled in a subprocess, so that the compile never freezes the screen)."""
        self.client, self.catalog, self.budget, self.prepare = client, catalog, budget, prepare
        self.machine = machine_info()
        self.seq: int | None = None
        self.question: Question | None = None
        self.revealed = False
        self.predicted: str | None = None
        self.measured: dict[int, str | None] = {}  # question seq → the choice this machine's run supports
        self.phase = "waiting"
        self.line = "joining…"
        self.connected = False
        self.refused: list[str] = []
        self._task: asyncio.Task | None = None
        self.class_runs_done = 0       # the instructor's requests already answered (state's class_runs)
        self.class_line = ""           # the class experiment, in one sentence
        self._class_task: asyncio.Task | None = None

    @property
    def pending(self) -> int:
        return len(self.client.queue)

    async def start(self) -> str:
        name = await self.client.join()
        self.connected = True
        self.line = f"joined as {name}: waiting for the instructor's question"
        return name

    async def run(self, shown, poll_s: float = POLL_S) -> None:
        """Join, again every `poll_s` while the host cannot be reached (a refusal, such as a wrong code, ends it),
        then poll the class every `poll_s` until cancelled (the screen closes); `shown()` after each change."""
        while self.client.student is None:
            try:
                await self.start()
            except Unreachable as e:
                self.line = f"✗ {e}; trying again every second"
                shown()
                await asyncio.sleep(poll_s)
            except ClassError as e:
                self.line = f"✗ {e}"
                shown()
                return
        while True:
            await self.poll()
            shown()
            await asyncio.sleep(poll_s)

    async def poll(self) -> None:
        """Read the class's state, resend anything queued; on a reveal, start measuring (once per question)."""
        try:
            await self._flush()
            state = await self.client.state()
        except ClassError as e:
            self.connected = False
            self.line = f"{e} — {self.pending} record(s) kept here, sent when the host answers"
            return
        self.connected = True
        asked = state.get("class_runs", 0)
        if isinstance(asked, int) and asked > self.class_runs_done:
            self.class_runs_done = asked
            self.start_class_runs()
        q = state.get("question")
        if q is None:
            self.seq, self.question, self.phase = None, None, "waiting"
            self.line = "no question open: waiting for the instructor"
            return
        if q["seq"] != self.seq:
            self.seq, self.predicted, self.revealed = q["seq"], None, False
            try:
                self.question = self.catalog.question(q["lesson"], q["checkpoint"])
            except Refused:
                self.question = None
                self.line = "the instructor asked a question this copy of teach-sgd does not have: update it"
                return
        self.revealed = bool(state.get("revealed"))
        if self.revealed and self.seq not in self.measured and self._task is None:
            self._task = asyncio.ensure_future(self._measure(self.seq, self.question))
        self._describe()

    def _describe(self) -> None:
        if self._task is not None:
            self.phase, self.line = "measuring", "revealed: running the experiment on this machine…"
        elif self.seq in self.measured:
            got = self.measured[self.seq]
            text = self.question.labels[self.question.choices.index(got)] if got in self.question.choices else None
            self.phase = "measured"
            self.line = (f"measured here: {got} — {text}" if text else
                         "measured here: the run could not decide (see the lesson for why)")
        elif self.predicted is not None:
            self.phase, self.line = "predicted", f"your prediction: {self.predicted} — waiting for the reveal"
        else:
            self.phase, self.line = "question", "predict: pick a choice"

    async def predict(self, choice: str) -> None:
        if self.question is None or self.revealed or choice not in self.question.choices:
            return
        self.client.queue_prediction(self.seq, choice)
        self.predicted = choice
        await self._flush()
        self._describe()

    async def _measure(self, seq: int, question: Question) -> None:
        try:
            await self._prepare(self.catalog.kernels(question, self.budget))
            measured, results = await asyncio.to_thread(self.catalog.measure, question, self.budget)
            for r in results.runs.values():
                self.client.queue_result("question", summary(r.to_json()), self.machine, seq=seq, measured=measured)
            self.measured[seq] = measured
            await self._flush()
        except (NotRunnable, OSError, ValueError) as e:  # the run failed here: say so, never retry
            self.measured[seq] = None
            self.refused.append(f"measuring failed: {e}")
        finally:
            self._task = None
        if seq == self.seq:
            self._describe()

    def start_class_runs(self) -> None:
        """Run the class experiment here in the background (unless it is running already), then send it."""
        if self._class_task is None:
            self.class_line = "class experiment: starting (3 runs of 3 s)…"
            self._class_task = asyncio.ensure_future(self._class_runs())

    async def _class_runs(self) -> None:
        def progress(config, k, n):  # called in the worker thread: one string assignment, read by the screen
            self.class_line = f"class experiment: run {k + 1} of {n}, {config.algo} ×{config.threads}…"
        try:
            await self._prepare({(c.algo, c.model) for c in CLASS_RUNS})
            runs = await asyncio.to_thread(run_class_experiment, progress)
            for run in runs:
                self.client.queue_result("class", summary(run), self.machine)
            report = await self._flush()
            self.class_line = (f"class experiment: {len(runs)} runs measured here, {report.sent} sent"
                               + (f", {report.pending} waiting for the host" if report.pending else ""))
        except (NotRunnable, OSError, ValueError) as e:
            self.class_line = f"class experiment: ✗ {e}"
        finally:
            self._class_task = None

    async def _prepare(self, kernels) -> None:
        if self.prepare is not None and kernels and not await self.prepare(kernels):
            raise NotRunnable("the kernels failed to compile here (the status line says why)")

    async def _flush(self) -> FlushReport:
        report = await self.client.flush()
        self.refused += report.refused
        return report

    async def wait_measured(self) -> None:
        """Tests: wait until what poll() started (a measurement, the class experiment) has been queued and sent."""
        while self._task is not None or self._class_task is not None:
            await asyncio.sleep(0.05)
