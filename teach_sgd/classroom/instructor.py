"""What the instructor's screen shows, computed from the store with no terminal: the open question's live
distribution (counts only, never who), the measured outcomes next to it after the reveal, and the class's
machines as points; plus the three exports.

    view = ClassView(rows_fn=store.results, store=store)    # live, or ClassView.from_file(path) for a saved class
    view.tally()          # [(choice, label, predicted, measured)] for the open question
    view.points()         # one per machine (experiment.machine_points)
    view.headline()       # "your class, 2026-12-03: 31 machines, 2–16 cores"
    class_json(view) / class_csv(view) / class_file(view)
    view.export(folder)   # the three, as new files in folder (the app's e key)

    board = InstructorBoard(view, server)   # the instructor's screen, tick by tick, without a terminal
    board.tick()          # True when the machines' points changed (a result arrived): the plot is redrawn
    board.head()          # the three header lines: join code, address, counts, headline (or "saved class")
    board.question_changed()   # True when the open question or its tally changed: board.open, .tally say what
    board.next_metric()   # the plot's next measure (METRICS)
"""
from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path

from teach_sgd.classroom.experiment import machine_points
from teach_sgd.classroom.protocol import (EXPERIMENTS, NICKNAME_MAX, Refused, check_summary, clean_text, machine,
                                          nickname)
from teach_sgd.classroom.server import export_rows
from teach_sgd.errors import UsageError
from teach_sgd.output import write_new

FILE_KIND = "teach-sgd class"
FILE_VERSION = 1
# what the machines plot can show against cores: (key in a machine point, axis label with its unit)
METRICS = (("lost_per_write", "HOGWILD! ×2 lost writes per observed write"),
           ("cas_fail_per_update", "Leashed-SGD ×2 failed CAS per update"),
           ("staleness", "Leashed-SGD ×2 mean staleness τ (versions)"),
           ("speedup", "2-thread speed-up (HOGWILD! ×2 ÷ SEQ ×1 updates/s)"))
CSV_COLUMNS = ("nickname", "experiment", "question", "measured", "cores", "cpu", "os", "algo", "threads",
               "updates", "wall_s", "updates_per_s", "loss_final", "staleness_mean", "cas_fail", "lost_sampled",
               "sampled_writes")


class ClassView:
    def __init__(self, store=None, catalog=None, rows: list[dict] | None = None, created: float | None = None):
        self.store, self.catalog = store, catalog
        self._rows = rows
        self.created = created if created is not None else (store.created if store is not None else time.time())

    @classmethod
    def from_file(cls, path: str | Path) -> "ClassView":
        """A class saved with class_file(): the same plots, read-only."""
        try:
            data = json.loads(Path(path).expanduser().read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise UsageError(f"cannot read class file {path}: {getattr(e, 'strerror', None) or e}") from None
        if not isinstance(data, dict) or data.get("kind") != FILE_KIND or not isinstance(data.get("results"), list):
            raise UsageError(f"{path} is not a class file (one is written by e on the instructor's screen or "
                             "`teach-sgd class export ADDRESS CODE --class FILE`)")
        try:  # a file is checked as a request is: it may have been edited, or come from anywhere
            rows = [_checked(r) for r in data["results"]]
        except (Refused, KeyError, TypeError) as e:
            raise UsageError(f"{path}: a result in it is damaged ({e}); export the class again") from None
        created = data.get("created_unix")
        return cls(rows=rows, created=created if isinstance(created, (int, float)) else time.time())

    def rows(self) -> list[dict]:
        return export_rows(self.store) if self._rows is None else self._rows

    def points(self) -> list[dict]:
        return machine_points(self.rows())

    def headline(self, points: list[dict] | None = None) -> str:
        """One line about the class's machines (`points`: already computed, to skip reading every result)."""
        points = self.points() if points is None else points
        day = time.strftime("%Y-%m-%d", time.localtime(self.created))
        if not points:
            return f"your class, {day}: no machine has sent its runs yet"
        cores = sorted(pt["cores"] for pt in points)
        span = f"{cores[0]}" if cores[0] == cores[-1] else f"{cores[0]}–{cores[-1]}"
        return f"your class, {day}: {len(points)} machine{'s' * (len(points) != 1)}, {span} cores"

    # ---- the open question ------------------------------------------------------------------------------
    def question(self):
        """(the store's open question dict, its catalog Question) or (None, None)."""
        q = self.store.current_question() if self.store is not None else None
        if q is None or self.catalog is None:
            return None, None
        try:
            return q, self.catalog.question(q["lesson"], q["checkpoint"])
        except Refused:
            return q, None

    def tally(self) -> list[tuple[str, str, int, int]]:
        """(choice, its text, students who predicted it, machines whose run measured it) for the open question."""
        q, question = self.question()
        if q is None:
            return []
        predicted = self.store.distribution(q["seq"])
        measured = self.store.measured(q["seq"]) if q["revealed"] else {}
        labels = dict(zip(question.choices, question.labels)) if question else {}
        return [(c, labels.get(c, c), predicted.get(c, 0), measured.get(c, 0)) for c in q["choices"]]

    def export(self, folder) -> list[Path]:
        """The class as JSON, CSV and a class file, new files in `folder` (write_new: nothing is overwritten)."""
        return write_new(folder, "class", {".json": class_json(self), ".csv": class_csv(self),
                                           ".class.json": class_file(self)})


class InstructorBoard:
    """What the instructor's screen shows from one tick to the next: the class's machines as points (read again
    only when a result arrives, not on every tick), the header lines, the open question and its tally (drawn
    again only when they change), and which measure the plot shows. `server` None: a saved class, read-only."""

    def __init__(self, view: ClassView, server=None):
        self.view, self.server = view, server
        self.metric = 0                # index into METRICS
        self.points: list[dict] = []   # one per machine
        self.headline = ""
        self.open = self.question = None   # the store's open question dict and its catalog Question
        self.tally: list | None = None
        self._points_key = self._question_key = object()   # nothing read yet

    @property
    def live(self) -> bool:
        return self.view.store is not None and self.server is not None

    def tick(self) -> bool:
        """Reads the results again if one arrived since the last tick; True when the points changed."""
        self._counts = self.view.store.counts() if self.live else None
        key = self._counts["results"] if self.live else -1
        if key == self._points_key:
            return False
        self._points_key = key
        self.points = self.view.points()
        self.headline = self.view.headline(self.points)
        return True

    def head(self) -> str:
        """Three lines, always (the screen redraws them with no layout pass)."""
        if not self.live:
            return f"{self.headline}\n(saved class: read-only)"
        c, server = self._counts, self.server
        return (f"join code: {self.view.store.code}   address: {server.address}\n"
                f"{c['students']} joined · {c['predictions']} predictions · {c['results']} results · "
                f"{server.requests:,} requests ({server.refused:,} refused)\n{self.headline}")

    def question_changed(self) -> bool:
        """Reads the open question and its tally; True when either changed since the last call."""
        q, question = self.view.question()
        tally = self.view.tally() if q is not None else None
        if (q, tally) == self._question_key:
            return False
        self._question_key = (q, tally)
        self.open, self.question, self.tally = q, question, tally
        return True

    def next_metric(self) -> int:
        self.metric = (self.metric + 1) % len(METRICS)
        return self.metric


def _checked(row: dict) -> dict:
    experiment = row["experiment"]
    if experiment not in EXPERIMENTS:
        raise Refused(f"experiment must be one of {', '.join(EXPERIMENTS)}")
    measured = row.get("measured")
    return {"nickname": nickname(row["nickname"]), "experiment": experiment,
            "question": row.get("question") if isinstance(row.get("question"), int) else None,
            "measured": clean_text(measured, NICKNAME_MAX) or None, "machine": machine(row["machine"]),
            "summary": check_summary(row["summary"])}


def class_json(view: ClassView) -> str:
    return json.dumps({"results": view.rows()}, indent=2) + "\n"


def class_csv(view: ClassView) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(CSV_COLUMNS)
    for r in view.rows():
        s, m = r["summary"], r["machine"]
        w.writerow([r["nickname"], r["experiment"], r["question"], r["measured"], m["cores"], m["cpu"], m["os"],
                    *(s.get(k) for k in CSV_COLUMNS[7:])])
    return out.getvalue()


def class_file(view: ClassView) -> str:
    """The class as one file a later lesson or class can open (`teach-sgd class show FILE`)."""
    return json.dumps({"kind": FILE_KIND, "version": FILE_VERSION, "created_unix": view.created,
                       "headline": view.headline(), "results": view.rows()}, indent=1) + "\n"
