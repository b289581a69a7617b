"""The class session with the real server and real clients over loopback (127.0.0.1, ephemeral ports): join,
predict, reveal, results, export; a host restart mid-class; a client that drops and reconnects; and the
catalogue of bad requests the server must refuse without storing anything."""
from __future__ import annotations

import asyncio
import json
import math
import re
import signal
import socket
import subprocess
import sys
from dataclasses import replace

import aiohttp
import pytest
from tui_helpers import sync

from teach_sgd.child import PACKAGE_HOME, module_argv
from teach_sgd.classroom import protocol
from teach_sgd.classroom.client import ClassClient, join_details
from teach_sgd.classroom.experiment import machine_points
from teach_sgd.classroom.instructor import METRICS, ClassView, InstructorBoard, class_csv, class_file
from teach_sgd.classroom.machine import machine_info
from teach_sgd.classroom.protocol import Refused
from teach_sgd.classroom.questions import LessonCatalog
from teach_sgd.classroom.server import ClassServer, RateLimiter
from teach_sgd.classroom.store import ClassStore
from teach_sgd.classroom.student import StudentSession
from teach_sgd.commands.main import main
from teach_sgd.commands.serve import serve_command
from teach_sgd.engine.config import RunConfig
from teach_sgd.engine.runner import run
from teach_sgd.errors import UsageError
from teach_sgd.lessons import Budget

CATALOG = LessonCatalog()


@pytest.fixture(scope="module")
def runs() -> dict:
    """Real runs' `--json` dicts (tiny budgets): what a student's machine would send."""
    base = RunConfig(algo="seq", threads=1, updates=300, seed=0)
    out = {}
    for algo, m in (("seq", 1), ("hogwild", 2), ("leashed", 2)):
        out[algo] = run(replace(base, algo=algo, threads=m)).to_json()
    return out


async def start(store_path=":memory:", port=0, **kw) -> ClassServer:
    server = ClassServer(ClassStore(store_path), "127.0.0.1", port, lessons=CATALOG, **kw)
    await server.start()
    return server


async def raw(server, path: str, data: bytes | str, method: str = "POST") -> tuple[int, dict]:
    async with aiohttp.ClientSession(trust_env=False) as s:
        async with s.request(method, f"http://{server.address}{path}", data=data,
                             headers={"Content-Type": "application/json"}) as r:
            return r.status, await r.json(content_type=None)


# ---- the whole class, end to end ------------------------------------------------------------------------------
@sync
async def test_join_predict_reveal_results_export(runs):
    server = await start()
    clients = [ClassClient(server.address, server.code, name) for name in ("ada", "bob", "cy")]
    try:
        assert [await c.join() for c in clients] == ["ada", "bob", "cy"]
        assert (await clients[0].state()) == {"question": None, "revealed": False, "class_runs": 0}
        q = server.open_question("03-hogwild", "lost")
        state = await clients[1].state()
        assert state == {"question": {"seq": q["seq"], "lesson": "03-hogwild", "checkpoint": "lost"}, "revealed": False,
                         "class_runs": 0}
        for c, choice in zip(clients, ("yes", "yes", "no")):
            c.queue_prediction(q["seq"], choice)
            assert (await c.flush()).sent == 1
        clients[2].queue_prediction(q["seq"], "yes")  # cy changes their mind: the latest prediction counts, once
        await clients[2].flush()
        view = ClassView(server.store, CATALOG)
        assert [(c, p) for c, _, p, _ in view.tally()] == [("yes", 3), ("no", 0)]
        assert server.reveal()
        assert (await clients[0].state())["revealed"] is True
        clients[0].queue_prediction(q["seq"], "no")  # too late
        assert (await clients[0].flush()).refused == ["that question has been revealed: predictions are closed"]
        for c, measured in zip(clients, ("yes", "yes", "no")):
            c.queue_result("question", protocol.summary(runs["hogwild"]), machine_info(), seq=q["seq"],
                           measured=measured)
            for algo in ("seq", "hogwild", "leashed"):
                c.queue_result("class", protocol.summary(runs[algo]), machine_info())
            assert (await c.flush()).sent == 4
        assert [(c, p, m) for c, _, p, m in view.tally()] == [("yes", 3, 2), ("no", 0, 1)]
        exported = await clients[0].export()
        assert len(exported) == 12
        assert {r["nickname"] for r in exported} == {"ada", "bob", "cy"}
        assert all(set(r) >= {"nickname", "machine", "summary"} for r in exported)
        hog = next(r for r in exported if r["experiment"] == "class" and r["summary"]["algo"] == "hogwild")
        assert hog["summary"]["updates"] == runs["hogwild"]["updates"]
        assert hog["summary"]["lost_sampled"] == runs["hogwild"]["lost_updates"]["lost_sampled"]
        assert hog["machine"]["cores"] == machine_info()["cores"]
        points = machine_points(exported)
        assert len(points) == 3
        seq_rate = runs["seq"]["updates_per_s"]
        assert all(math.isclose(pt["speedup"], runs["hogwild"]["updates_per_s"] / seq_rate) for pt in points)
        assert ClassView(rows=exported).headline().endswith(f"3 machines, {machine_info()['cores']} cores")
        assert class_csv(ClassView(rows=exported)).count("\n") == 13
    finally:
        for c in clients:
            await c.close()
        await server.stop()


@sync
async def test_a_reveal_runs_the_lesson_experiment_on_the_students_machine(tmp_path):
    """StudentSession, as the student's screen drives it: the reveal runs the question's real experiment here
    (a small budget) and the measured choice reaches the host next to the predictions."""
    server = await start()
    client = ClassClient(server.address, server.code, "ada", queue_file=tmp_path / "q.json")
    session = StudentSession(client, CATALOG, budget=Budget(updates=200))
    try:
        await session.start()
        q = server.open_question("03-hogwild", "lost")
        await session.poll()
        assert session.phase == "question" and session.question.checkpoint == "lost"
        await session.predict("no")
        assert session.phase == "predicted"
        server.reveal()
        await session.poll()
        assert session.phase == "measuring"
        await session.wait_measured()
        await session.poll()
        assert session.phase == "measured", session.line
        measured = session.measured[q["seq"]]
        assert server.store.measured(q["seq"]) == ({measured: 1} if measured else {})
        rows = server.store.results()
        assert rows and all(r["experiment"] == "question" and r["question"] == q["seq"] for r in rows)
        assert server.store.distribution(q["seq"]) == {"no": 1}
    finally:
        await client.close()
        await server.stop()


@sync
async def test_a_student_session_joins_when_the_host_comes_up_and_stops_at_a_refusal(tmp_path):
    """StudentSession.run, as the student's screen runs it: an unreachable host is tried again (said each time),
    a host that comes up is joined and polled; a wrong join code ends it with the host's sentence."""
    with socket.socket() as probe:                      # a free port: nothing listens on it yet
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store = ClassStore(":memory:")                      # the class exists (its code is known), its host is not up
    lines = []
    client = ClassClient(f"127.0.0.1:{port}", store.code, "ada", queue_file=tmp_path / "q.json")
    session = StudentSession(client, CATALOG)
    task = asyncio.ensure_future(session.run(lambda: lines.append(session.line), poll_s=0.05))
    server = None
    try:
        for _ in range(500):
            if len(lines) >= 2:
                break
            await asyncio.sleep(0.02)
        assert all("trying again every second" in line for line in lines) and not task.done()
        server = ClassServer(store, "127.0.0.1", port, lessons=CATALOG)
        await server.start()
        for _ in range(500):                             # joined, then polled: what the screen shows next
            if lines[-1] == "no question open: waiting for the instructor":
                break
            await asyncio.sleep(0.02)
        assert lines[-1] == "no question open: waiting for the instructor" and session.connected
        assert not task.done()
        task.cancel()

        wrong = StudentSession(ClassClient(server.address, "ZZZZZZ", "bo"), CATALOG)
        said = []
        await asyncio.wait_for(wrong.run(lambda: said.append(wrong.line), poll_s=0.05), 10)  # returns: refused
        assert len(said) == 1 and said[0].startswith("✗ ") and wrong.client.student is None
        await wrong.client.close()
    finally:
        task.cancel()
        await client.close()
        if server is not None:
            await server.stop()


# ---- restart and reconnect ---------------------------------------------------------------------------------------
@sync
async def test_a_host_restart_mid_class_loses_nothing(tmp_path, runs):
    path = tmp_path / "class.sqlite"
    server = await start(path)
    code, port = server.code, server.port
    client = ClassClient(server.address, code, "ada", queue_file=tmp_path / "q.json")
    await client.join()
    q = server.open_question("05-leashed", "fails")
    client.queue_prediction(q["seq"], "more")
    client.queue_result("class", protocol.summary(runs["leashed"]), machine_info())
    assert (await client.flush()).sent == 2
    before = server.store.counts()
    await server.stop()
    server.store.close()

    client.queue_result("class", protocol.summary(runs["seq"]), machine_info())
    report = await client.flush()  # the host is down: kept
    assert report.sent == 0 and report.pending == 1

    server = await start(path, port=port)  # the instructor runs the same command again
    try:
        assert server.code == code
        assert server.store.counts() == before
        assert server.store.current_question()["seq"] == q["seq"]  # the open question is still open
        assert (await client.flush()).sent == 1  # same token: the student is still in the class
        assert server.store.counts() == {**before, "results": before["results"] + 1}
        assert server.store.distribution(q["seq"]) == {"more": 1}
    finally:
        await client.close()
        await server.stop()


@sync
async def test_a_client_that_drops_and_reconnects_sends_each_record_once(tmp_path, runs):
    server = await start(tmp_path / "c.sqlite")
    port, code = server.port, server.code
    queue = tmp_path / "queue.json"
    client = ClassClient(server.address, code, "ada", queue_file=queue)
    await client.join()
    await server.stop()  # the Wi-Fi drops (the host is unreachable)
    for algo in ("seq", "hogwild", "leashed"):
        client.queue_result("class", protocol.summary(runs[algo]), machine_info())
    assert (await client.flush()).pending == 3
    await client.close()

    # the student's app restarts: the queue and the token come back from the queue file
    client = ClassClient(f"127.0.0.1:{port}", code, "ignored", queue_file=queue)
    assert len(client.queue) == 3 and client.nickname == "ada"
    ids = [r["id"] for r in client.queue]
    server = ClassServer(server.store, "127.0.0.1", port, lessons=CATALOG)
    await server.start()
    try:
        # the first record arrives but its answer is lost: the client sends it again with the same id
        first = {k: v for k, v in client.queue[0].items() if k != "path"} | {"student": client.student}
        assert (await client.post("/result", first)) == (200, {"stored": True})
        report = await client.flush()
        assert (report.sent, report.already, report.pending) == (3, 1, 0)
        assert sorted(r["id"] for r in server.store.results()) == sorted(ids)
        assert (await client.flush()).sent == 0  # nothing left to send
    finally:
        await client.close()
        await server.stop()


# ---- the bad-input catalogue ---------------------------------------------------------------------------------
def _good(server, token, runs, **over) -> dict:
    body = {"code": server.code, "student": token, "id": protocol.new_id(), "experiment": "class",
            "machine": machine_info(), "summary": protocol.summary(runs["hogwild"])}
    return {**body, **over}


BAD = {
    "malformed JSON": lambda s, st, r: (b'{"code": "', 400),
    "not an object": lambda s, st, r: (b'["code"]', 400),
    "not UTF-8": lambda s, st, r: (b'\xff\xfe{}', 400),
    "oversized body": lambda s, st, r: (json.dumps(_good(s, st, r, pad="x" * 70_000)), 413),
    "wrong code": lambda s, st, r: (json.dumps(_good(s, st, r, code="AAAAAA" if s.code != "AAAAAA" else "BBBBBB")), 403),
    "no code": lambda s, st, r: (json.dumps({k: v for k, v in _good(s, st, r).items() if k != "code"}), 403),
    "unknown student": lambda s, st, r: (json.dumps(_good(s, st, r, student=protocol.new_id())), 403),
    "malformed record id": lambda s, st, r: (json.dumps(_good(s, st, r, id="../../etc/passwd")), 422),
    "unknown experiment": lambda s, st, r: (json.dumps(_good(s, st, r, experiment="rm -rf /")), 422),
    "unknown question": lambda s, st, r: (json.dumps(_good(s, st, r, experiment="question", seq=999)), 404),
    "a path as the algorithm": lambda s, st, r: (
        json.dumps(_good(s, st, r, summary={**protocol.summary(r["hogwild"]), "algo": "/etc/passwd"})), 422),
    "NaN count": lambda s, st, r: (
        json.dumps(_good(s, st, r, summary={**protocol.summary(r["hogwild"]), "updates": float("nan")})), 422),
    "negative count": lambda s, st, r: (
        json.dumps(_good(s, st, r, summary={**protocol.summary(r["hogwild"]), "cas_fail": -1})), 422),
    "machine with no cores": lambda s, st, r: (json.dumps(_good(s, st, r, machine={"cores": 0})), 422),
    "summary not an object": lambda s, st, r: (json.dumps(_good(s, st, r, summary="import os")), 422),
}


@pytest.mark.parametrize("case", list(BAD))
@sync
async def test_a_bad_request_is_refused_cleanly_and_nothing_is_stored(case, runs):
    server = await start()
    server.refusals = RateLimiter(1000, 1000)  # this test is about each refusal, not the flood limit
    try:
        async with ClassClient(server.address, server.code, "ada") as client:
            await client.join()
            before = server.store.counts()
            body, status = BAD[case](server, client.student, runs)
            got, answer = await raw(server, "/result", body)
            assert got == status and isinstance(answer.get("error"), str) and "\n" not in answer["error"]
            assert server.store.counts() == before
            # the server is still up and still takes a good request
            good, _ = await raw(server, "/result", json.dumps(_good(server, client.student, runs)))
            assert good == 200 and server.store.counts()["results"] == before["results"] + 1
    finally:
        await server.stop()


@sync
async def test_unknown_lessons_paths_and_methods_are_refused(runs):
    server = await start()
    server.refusals = RateLimiter(1000, 1000)
    try:
        with pytest.raises(Refused, match="unknown lesson"):
            server.open_question("../../etc/passwd", "lost")
        with pytest.raises(Refused, match="no prediction question"):
            server.open_question("03-hogwild", "nope")
        async with ClassClient(server.address, server.code, "ada") as client:
            await client.join()
            q = server.open_question("03-hogwild", "lost")
            status, answer = await client.post("/predict", {"student": client.student, "id": protocol.new_id(),
                                                            "seq": q["seq"], "choice": "[b]maybe"})
            assert status == 422 and "yes, no" in answer["error"]
            status, _ = await client.post("/predict", {"student": client.student, "id": protocol.new_id(),
                                                       "seq": q["seq"] + 1, "choice": "yes"})
            assert status == 409
        assert (await raw(server, "/export", b"{}", method="GET"))[0] == 405
        assert (await raw(server, "/../../etc/passwd", b"{}"))[0] == 404
        assert server.store.counts()["predictions"] == 0
    finally:
        await server.stop()


@pytest.mark.parametrize("given, shown", [
    ("[b]ada[/b]", "bada/b"), ("[@click=app.quit]x", "@clickapp.quitx"), ("ada\x1b[31m", "ada31m"),
    ("<script>alert(1)</script>", "scriptalert(1)/script"), ("  ana   maria  ", "ana maria"), ("Zoë", "Zoë"),
    ("x" * 100, "x" * 24)])
def test_nicknames_lose_every_markup_and_control_character(given, shown):
    expected = shown.replace("/", "")
    assert protocol.nickname(given) == expected
    assert not set(expected) & set("[]<>&\\/\x1b=")


@sync
async def test_markup_only_nicknames_are_refused_and_injected_ones_stored_clean():
    server = await start()
    try:
        for bad in ("[][]", "", 42, "\x00\x1b"):
            status, answer = await raw(server, "/join", json.dumps({"code": server.code, "nickname": bad}))
            assert status == 422 and "nickname" in answer["error"]
        status, answer = await raw(server, "/join", json.dumps({"code": server.code, "nickname": "[red]eve[/red]"}))
        assert status == 200 and answer["nickname"] == "redevered"
        assert server.store.nickname(answer["student"]) == "redevered"
        assert server.store.counts()["students"] == 1
    finally:
        await server.stop()


@sync
async def test_floods_are_cut_off_and_what_is_refused_is_not_stored(runs):
    server = await start()
    try:
        async with ClassClient(server.address, server.code, "ada") as client:
            await client.join()
            answers = await asyncio.gather(*(raw(server, "/result", json.dumps(_good(server, client.student, runs)))
                                             for _ in range(120)))
            statuses = [s for s, _ in answers]
            assert statuses.count(429) > 0
            assert set(statuses) == {200, 429}
            assert server.store.counts()["results"] == statuses.count(200)
            # a flood of garbage from one address: refused, then cut off as a whole (429)
            garbage = [await raw(server, "/state", b"nope") for _ in range(40)]
            assert [s for s, _ in garbage].count(429) >= 10
            assert all(s in (400, 429) for s, _ in garbage)
            assert server.store.counts()["results"] == statuses.count(200)
    finally:
        await server.stop()


# ---- the store's own promises ----------------------------------------------------------------------------------
def test_the_store_is_wal_and_resumes_its_code(tmp_path):
    store = ClassStore(tmp_path / "c.sqlite")
    code = store.code
    assert protocol.CODE_RE.fullmatch(code)
    assert store._one("PRAGMA journal_mode")[0] == "wal"
    store.close()
    assert ClassStore(tmp_path / "c.sqlite").code == code


def test_codes_are_random_per_class():
    assert len({protocol.new_code() for _ in range(200)}) == 200


def test_a_class_file_reopens_with_the_same_plots(tmp_path, runs):
    rows = [{"nickname": "ada", "experiment": "class", "question": None, "measured": None,
             "machine": {"cores": c, "cpu": "x", "os": "y"}, "summary": protocol.summary(runs[a])}
            for c in (4,) for a in ("seq", "hogwild", "leashed")]
    path = tmp_path / "class.json"
    path.write_text(class_file(ClassView(rows=rows)))
    view = ClassView.from_file(path)
    assert view.points() == machine_points(rows)
    assert "1 machine, 4 cores" in view.headline()


@sync
async def test_the_instructor_board_reads_again_only_what_changed(runs):
    """The instructor's screen's state, tick by tick: the points are read again when a result arrives, the open
    question's tally when a prediction does; the header counts what the store holds."""
    server = await start()
    client = ClassClient(server.address, server.code, "ada")
    board = InstructorBoard(ClassView(server.store, CATALOG), server)
    try:
        assert board.tick() and board.points == [] and not board.tick()       # nothing new: nothing read
        assert "0 joined" in board.head() and f"join code: {server.code}" in board.head()
        assert board.question_changed() and board.open is None and not board.question_changed()
        await client.join()
        q = server.open_question("03-hogwild", "lost")
        assert board.question_changed() and board.open["seq"] == q["seq"] and board.question.checkpoint == "lost"
        client.queue_prediction(q["seq"], "yes")
        await client.flush()
        assert board.question_changed() and [(c, p) for c, _, p, _ in board.tally][0] == ("yes", 1)
        assert not board.question_changed()
        for algo in ("seq", "hogwild", "leashed"):
            client.queue_result("class", protocol.summary(runs[algo]), machine_info())
        await client.flush()
        assert board.tick() and len(board.points) == 1 and not board.tick()
        assert "1 joined · 1 predictions · 3 results" in board.head() and "1 machine" in board.headline
        assert [board.next_metric() for _ in METRICS] == [*range(1, len(METRICS)), 0]
    finally:
        await client.close()
        await server.stop()


def test_a_saved_board_is_read_only_and_exports_new_files_each_time(tmp_path, runs):
    rows = [{"nickname": "ada", "experiment": "class", "question": None, "measured": None,
             "machine": {"cores": 4, "cpu": "x", "os": "y"}, "summary": protocol.summary(runs[a])}
            for a in ("seq", "hogwild", "leashed")]
    view = ClassView(rows=rows)
    board = InstructorBoard(view)
    assert board.tick() and not board.live and board.head().endswith("(saved class: read-only)")
    assert board.question_changed() and board.open is None
    first, second = view.export(tmp_path), view.export(tmp_path)
    assert [p.name.split(".", 1)[1] for p in first] == ["json", "csv", "class.json"]
    assert not set(first) & set(second) and all(p.exists() for p in first + second)   # never overwritten
    assert ClassView.from_file(first[2]).points() == view.points()
    assert first[1].read_bytes().decode() == class_csv(view)


@pytest.mark.parametrize("address, code, name, says", [
    ("not-an-address", "ABCDEF", "ada", "is not HOST:PORT"),
    ("127.0.0.1:8765", "AB", "ada", "join code 'AB' is not"),
    ("127.0.0.1:8765", "ABCDEF", "[]", "nickname:"),
])
def test_join_details_are_checked_before_anything_is_sent(address, code, name, says):
    with pytest.raises(UsageError, match=re.escape(says)):
        join_details(address, code, name)


def test_join_details_come_back_cleaned():
    assert join_details("127.0.0.1:8765", " abcdef ", "") == ("127.0.0.1:8765", "ABCDEF", "student")


# ---- the commands' bad input: one line, exit status 2 ---------------------------------------------------------
@pytest.mark.parametrize("argv, says", [
    (["present", "--algos", "seq,lock,hogwild,leashed"], "1 to 3 runs"),
    (["present", "--json", "x.json"], "present writes no files"),
    (["--class", "not-an-address", "ABCDEF"], "is not HOST:PORT"),
    (["--class", "127.0.0.1:8765", "AB"], "join code"),
    (["--nickname", "ada"], "--nickname goes with --class"),
    (["--class", "127.0.0.1:8765", "ABCDEF", "--nickname", "[]"], "--nickname"),
    (["class", "host", "--port", "70000"], "--port"),
    (["class", "export", "127.0.0.1:9", "ABCDEF"], "say what to write"),
    (["class", "send", "127.0.0.1:9", "ABCDEF", "/nonexistent/r.json"], "cannot read"),
    (["class", "send", "127.0.0.1:9", "ABCDEF", __file__], "is not JSON"),
])
def test_class_and_present_commands_refuse_bad_input_in_one_line(argv, says, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert says in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_class_send_to_a_host_that_is_not_there_says_so(tmp_path, runs, capsys):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(runs["hogwild"]))
    assert main(["class", "send", "127.0.0.1:9", "ABCDEF", str(path)]) == 2
    assert "cannot reach the class at 127.0.0.1:9" in capsys.readouterr().err


def _host(store, *extra):
    """`teach-sgd class host` as a user runs it; returns (process, {join code, address})."""
    # In PACKAGE_HOME, not the checkout: under a non-editable install the checkout has no compiled modules
    proc = subprocess.Popen(module_argv("teach_sgd.commands", "class", "host", "--port", "0", "--store", str(store),
                                        *extra), cwd=PACKAGE_HOME, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    lines = {}
    while len(lines) < 5:
        key, _, value = proc.stdout.readline().partition(": ")
        assert key, proc.stderr.read()
        lines[key] = value.strip()
    return proc, lines


def test_class_host_send_export_and_resume_from_the_command_line(tmp_path, runs, capsys):
    result = tmp_path / "r.json"
    result.write_text(json.dumps({"runs": [runs["seq"], runs["hogwild"]]}))  # `compare --json`
    proc, said = _host(tmp_path / "class.sqlite")
    try:
        assert said["address"].startswith("127.0.0.1:") and "this machine only" in said["reachable from"]
        code = said["join code"]
        assert main(["class", "send", said["address"], code, str(result), "--nickname", "ada"]) == 0
        assert main(["class", "send", said["address"], code, str(result), "--nickname", "ada"]) == 0  # again
        assert "2 already stored before" in capsys.readouterr().err
        assert main(["class", "send", said["address"], "ZZZZZZ" if code != "ZZZZZZ" else "YYYYYY",
                     str(result)]) == 2
        assert "wrong join code" in capsys.readouterr().err
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 130
    assert "everything is kept in" in proc.stderr.read()

    proc, again = _host(tmp_path / "class.sqlite")  # the instructor runs the same command again
    try:
        assert again["join code"] == code and "2 results kept" in again["store"]
        out = tmp_path / "class.json"
        assert main(["class", "export", again["address"], code, "--json", str(out)]) == 0
        rows = json.loads(out.read_text())["results"]
        assert [(r["nickname"], r["summary"]["algo"]) for r in rows] == [("ada", "seq"), ("ada", "hogwild")]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(10)


@sync
async def test_the_class_experiment_runs_here_and_the_host_plots_this_machine(tmp_path):
    """The instructor asks the class (x on their screen): at its next poll the student's app runs SEQ ×1,
    HOGWILD! ×2, Leashed-SGD ×2 here, once, and the host's point for this machine has its core count, the
    2-thread speed-up from those runs, and Leashed-SGD's failed CAS."""
    server = await start()
    client = ClassClient(server.address, server.code, "ada")
    session = StudentSession(client, CATALOG)
    try:
        await session.start()
        assert server.ask_class_runs() == 1
        await session.poll()
        assert session.class_line.startswith("class experiment:")
        await session.wait_measured()
        await session.poll()  # asked once: not run again
        await session.wait_measured()
        assert session.class_line == "class experiment: 3 runs measured here, 3 sent", session.class_line
        rows = server.store.results("class")
        assert [(r["summary"]["algo"], r["summary"]["threads"]) for r in rows] == [("seq", 1), ("hogwild", 2),
                                                                                ("leashed", 2)]
        [point] = machine_points(rows)
        by = {r["summary"]["algo"]: r["summary"] for r in rows}
        assert point["cores"] == machine_info()["cores"]
        assert point["speedup"] == pytest.approx(by["hogwild"]["updates_per_s"] / by["seq"]["updates_per_s"])
        assert point["cas_fail_per_update"] == by["leashed"]["cas_fail"] / by["leashed"]["updates"]
        assert all(s["wall_s"] > 0 and s["updates"] > 0 for s in by.values())
    finally:
        await client.close()
        await server.stop()


def test_serve_passes_a_class_to_every_browser_session():
    command = serve_command(join=("192.168.1.20:8765", "K7MZQ2", "ada lovelace"))
    assert command.endswith("--class 192.168.1.20:8765 K7MZQ2 --nickname 'ada lovelace'")


def test_the_classroom_domain_never_imports_the_app():
    code = ("import sys, teach_sgd.classroom.client, teach_sgd.classroom.server, teach_sgd.classroom.student, "
            "teach_sgd.classroom.instructor; print(sorted(m for m in sys.modules if m.startswith(('teach_sgd.tui', "
            "'teach_sgd.commands', 'textual'))))")
    assert subprocess.run([sys.executable, "-c", code], cwd=PACKAGE_HOME, capture_output=True, text=True,
                          check=True).stdout == "[]\n"


@pytest.mark.parametrize("damage", [
    lambda d: d.update(kind="something else"),
    lambda d: d["results"][0].update(nickname="[][]"),
    lambda d: d["results"][0]["summary"].update(algo="/etc/passwd"),
    lambda d: d["results"][0].pop("machine"),
    lambda d: d.update(results="all of them"),
])
def test_a_damaged_class_file_is_refused_in_one_line(tmp_path, runs, damage):
    rows = [{"nickname": "ada", "experiment": "class", "question": None, "measured": None,
             "machine": machine_info(), "summary": protocol.summary(runs["seq"])}]
    data = json.loads(class_file(ClassView(rows=rows)))
    damage(data)
    path = tmp_path / "class.json"
    path.write_text(json.dumps(data))
    with pytest.raises(UsageError) as e:
        ClassView.from_file(path)
    assert str(path) in str(e.value) and "\n" not in str(e.value)
