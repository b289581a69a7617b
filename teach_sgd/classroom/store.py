"""The class's store: one SQLite file (standard library) on the instructor's machine, in WAL mode.

    store = ClassStore(path)          # creates the class (a new random join code) or resumes the one in `path`
    store.code                        # the join code: the same after a restart with the same file
    store.join(nickname) → student token
    store.add_prediction(...) / store.add_result(...) → True if stored, False if that record id was already there
    store.open_question(lesson, checkpoint, choices) / store.reveal() / store.close_question()
    store.distribution(seq)           # {choice: students}, counts only
    store.results()                   # every result with its nickname and machine

Every record carries the id its client drew, as the primary key: a resend after a lost answer is ignored
(INSERT OR IGNORE), so a record is stored once however often it arrives. Each write is its own transaction;
WAL with synchronous=NORMAL keeps every committed record if the host program is killed (a power cut can lose
the last few), and readers never block the writer.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

from teach_sgd.classroom.protocol import new_code, new_id

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS students (token TEXT PRIMARY KEY, nickname TEXT NOT NULL, joined REAL NOT NULL);
CREATE TABLE IF NOT EXISTS questions (seq INTEGER PRIMARY KEY AUTOINCREMENT, lesson TEXT NOT NULL,
    checkpoint TEXT NOT NULL, choices TEXT NOT NULL, opened REAL NOT NULL, revealed REAL, closed REAL);
CREATE TABLE IF NOT EXISTS predictions (id TEXT PRIMARY KEY, student TEXT NOT NULL, seq INTEGER NOT NULL,
    choice TEXT NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS results (id TEXT PRIMARY KEY, student TEXT NOT NULL, experiment TEXT NOT NULL,
    seq INTEGER, measured TEXT, machine TEXT NOT NULL, summary TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS predictions_seq ON predictions (seq, student, at);
"""


class ClassStore:
    def __init__(self, path: str | Path = ":memory:"):
        self.path = str(path)
        # one connection, used by the server's event loop and (read-only) by the instructor's screen in the
        # same process; the lock makes each method one atomic step whichever thread calls it
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
            row = self._db.execute("SELECT value FROM meta WHERE key='code'").fetchone()
            if row is None:
                self._db.execute("INSERT INTO meta VALUES ('code', ?), ('created', ?)", (new_code(), str(time.time())))
            self.code = self._db.execute("SELECT value FROM meta WHERE key='code'").fetchone()[0]
            self.created = float(self._db.execute("SELECT value FROM meta WHERE key='created'").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _one(self, sql: str, args=()):
        with self._lock:
            return self._db.execute(sql, args).fetchone()

    def _all(self, sql: str, args=()):
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def _write(self, sql: str, args=()) -> int:
        with self._lock:
            return self._db.execute(sql, args).rowcount

    # ---- students -------------------------------------------------------------------------------------
    def join(self, nickname: str) -> str:
        token = new_id()
        self._write("INSERT INTO students VALUES (?, ?, ?)", (token, nickname, time.time()))
        return token

    def nickname(self, token: str) -> str | None:
        row = self._one("SELECT nickname FROM students WHERE token=?", (token,))
        return row[0] if row else None

    def student_count(self) -> int:
        return self._one("SELECT COUNT(*) FROM students")[0]

    # ---- questions ------------------------------------------------------------------------------------
    def open_question(self, lesson: str, checkpoint: str, choices: list[str]) -> int:
        """Open a question for the class (closing any other); returns its number."""
        now = time.time()
        with self._lock:
            self._db.execute("UPDATE questions SET closed=? WHERE closed IS NULL", (now,))
            cur = self._db.execute("INSERT INTO questions (lesson, checkpoint, choices, opened) VALUES (?, ?, ?, ?)",
                                   (lesson, checkpoint, json.dumps(choices), now))
            return cur.lastrowid

    def current_question(self) -> dict | None:
        row = self._one("SELECT seq, lesson, checkpoint, choices, revealed FROM questions WHERE closed IS NULL "
                        "ORDER BY seq DESC LIMIT 1")
        return None if row is None else _question(row)

    def question(self, seq: int) -> dict | None:
        row = self._one("SELECT seq, lesson, checkpoint, choices, revealed FROM questions WHERE seq=?", (seq,))
        return None if row is None else _question(row)

    def reveal(self) -> bool:
        return self._write("UPDATE questions SET revealed=? WHERE closed IS NULL AND revealed IS NULL",
                           (time.time(),)) > 0

    def close_question(self) -> None:
        self._write("UPDATE questions SET closed=? WHERE closed IS NULL", (time.time(),))

    def ask_class_runs(self) -> int:
        """The instructor asks every machine to run the class experiment (once more); returns how often asked."""
        with self._lock:
            self._db.execute("INSERT INTO meta VALUES ('class_runs', '1') ON CONFLICT(key) DO UPDATE "
                             "SET value = CAST(value AS INTEGER) + 1")
        return self.class_runs()

    def class_runs(self) -> int:
        row = self._one("SELECT value FROM meta WHERE key='class_runs'")
        return int(row[0]) if row else 0

    # ---- records --------------------------------------------------------------------------------------
    def add_prediction(self, record_id: str, student: str, seq: int, choice: str) -> bool:
        return self._write("INSERT OR IGNORE INTO predictions VALUES (?, ?, ?, ?, ?)",
                           (record_id, student, seq, choice, time.time())) > 0

    def add_result(self, record_id: str, student: str, experiment: str, machine: dict, summary: dict,
                   seq: int | None = None, measured: str | None = None) -> bool:
        return self._write("INSERT OR IGNORE INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           (record_id, student, experiment, seq, measured, json.dumps(machine),
                            json.dumps(summary), time.time())) > 0

    def distribution(self, seq: int) -> dict[str, int]:
        """Students per choice for question `seq`: each student's latest prediction counts, once."""
        rows = self._all("SELECT choice, COUNT(*) FROM (SELECT student, choice, MAX(at) FROM predictions "
                         "WHERE seq=? GROUP BY student) GROUP BY choice", (seq,))
        return {choice: n for choice, n in rows}

    def measured(self, seq: int) -> dict[str, int]:
        """Machines per measured outcome of question `seq` (each student's latest measurement counts, once)."""
        rows = self._all("SELECT measured, COUNT(*) FROM (SELECT student, measured, MAX(at) FROM results "
                         "WHERE seq=? AND measured IS NOT NULL GROUP BY student) GROUP BY measured", (seq,))
        return {m: n for m, n in rows}

    def counts(self) -> dict[str, int]:
        return {name: self._one(f"SELECT COUNT(*) FROM {name}")[0] for name in ("students", "predictions", "results")}

    def results(self, experiment: str | None = None) -> list[dict]:
        """Every stored result, oldest first: {id, nickname, experiment, question, measured, machine, summary}."""
        where, args = ("WHERE r.experiment=?", (experiment,)) if experiment else ("", ())
        rows = self._all("SELECT r.id, s.nickname, r.experiment, r.seq, r.measured, r.machine, r.summary, r.at "
                         f"FROM results r JOIN students s ON s.token = r.student {where} ORDER BY r.at, r.id", args)
        return [{"id": rid, "nickname": nick, "experiment": exp, "question": seq, "measured": measured,
                 "machine": json.loads(machine), "summary": json.loads(summary), "at": at}
                for rid, nick, exp, seq, measured, machine, summary, at in rows]


def _question(row) -> dict:
    seq, lesson, checkpoint, choices, revealed = row
    return {"seq": seq, "lesson": lesson, "checkpoint": checkpoint, "choices": json.loads(choices),
            "revealed": revealed is not None}
