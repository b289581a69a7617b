"""A class under load: 100 simulated students against the instructor's screen, on loopback, for 60 s.

    python benchmarks/bench_class.py [--students 100] [--seconds 60] [--busy 2]

The host is the real thing: the app's InstructorScreen (Textual's headless driver at 80×24: every frame is
composed and rendered, only the terminal write is skipped) serving the class from its own event loop, with a
SQLite store in a temporary folder. The students are real aiohttp clients in a second process (so that their
CPU is not the host's loop), each doing what a student's app does, at its rate:

    join once · ask for the class's state once a second · predict once per open question (after a few seconds of
    thinking: a 30 % chance each second) · send the class experiment's 3 results at a random moment · after a
    reveal, send 1 measured result (as if its machine had run the question's experiment)

The instructor opens a question at 10 % of the time, reveals it at 45 %, opens a second at 55 % and reveals it
at 85 %. Prints: requests/s, request latency p50/p99 (measured by the clients, send to answer), records stored
vs records the clients sent (must be equal: every record once), the host's memory (peak RSS), and the instructor
screen's repaint rate while it runs (target ≥ 10 Hz), on average and in its worst 2-s window. --busy N adds N busy
processes competing for the cores (benchmarks/busy.py), as on an instructor's busy laptop; the 1-minute load
average is printed. Targets are printed, never asserted: machines are noisy.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

from busy import Busy

from teach_sgd.classroom.client import ClassClient, ClassError
from teach_sgd.classroom.machine import machine_info
from teach_sgd.classroom.protocol import check_summary
from teach_sgd.classroom.questions import LessonCatalog

# a student's run summary as its machine would send it (the numbers do not matter to the host, the shape does)
SUMMARY = check_summary({"algo": "hogwild", "threads": 2, "model": "mlp", "dataset": "mnist", "params": 101770,
                         "lr": 0.05, "batch": 16, "persistence": None, "seed": 0, "status": "finished",
                         "updates": 9000, "wall_s": 3.0, "updates_per_s": 3000.0, "loss_initial": 2.3,
                         "loss_final": 0.4, "accuracy_final": 0.88, "diverged": False, "staleness_mean": 0.7,
                         "staleness_max": 12, "versions_peak": 3, "versions_bound": 3, "lost_sampled": 40,
                         "sampled_writes": 50000, "cas_fail": 0, "cas_success": 0, "dropped": 0})


# ---- the students (a second process) ----------------------------------------------------------------------
CATALOG = LessonCatalog()


async def student(k: int, address: str, code: str, until: float, stats: dict) -> None:
    rng = random.Random(k)
    machine = {**machine_info(), "cores": rng.choice((2, 4, 6, 8, 12, 16))}
    client = ClassClient(address, code, f"student {k}")
    original_post = client.post

    async def timed_post(path, body):
        t0 = time.perf_counter()
        status, answer = await original_post(path, body)
        stats["latency"].append(time.perf_counter() - t0)
        stats["status"][status] = stats["status"].get(status, 0) + 1
        return status, answer

    client.post = timed_post
    await asyncio.sleep(rng.uniform(0, 2))  # students arrive over two seconds
    await client.join()
    send_class_at = time.monotonic() + rng.uniform(5, (until - time.monotonic()) * 0.8)
    predicted, measured, sent_class = set(), set(), False
    while time.monotonic() < until:
        try:
            state = await client.state()
        except ClassError:  # refused (429) or no answer: counted in stats["status"] / latency; ask again
            await asyncio.sleep(1.0)
            continue
        q = state["question"]
        choices = CATALOG.question(q["lesson"], q["checkpoint"]).choices if q else ()
        if q and not state["revealed"] and q["seq"] not in predicted and rng.random() < 0.3:
            predicted.add(q["seq"])
            client.queue_prediction(q["seq"], rng.choice(choices))
        if q and state["revealed"] and q["seq"] not in measured:
            measured.add(q["seq"])
            client.queue_result("question", SUMMARY, machine, seq=q["seq"], measured=rng.choice(choices))
        if not sent_class and time.monotonic() >= send_class_at:
            sent_class = True
            for algo, m in (("seq", 1), ("hogwild", 2), ("leashed", 2)):
                client.queue_result("class", {**SUMMARY, "algo": algo, "threads": m}, machine)
        before = len(client.queue)
        await client.flush()
        stats["records"] += before - len(client.queue)  # answered 200 (or refused: then stored ≠ sent shows it)
        await asyncio.sleep(1.0)
    while client.queue:  # whatever is left (a 429) goes before the student leaves
        before = len(client.queue)
        await client.flush()
        stats["records"] += before - len(client.queue)
        await asyncio.sleep(0.2)
    await client.close()


async def students_main(address: str, code: str, n: int, seconds: float, out: str) -> None:
    stats = {"latency": [], "status": {}, "records": 0}
    until = time.monotonic() + seconds
    t0 = time.perf_counter()
    await asyncio.gather(*(student(k, address, code, until, stats) for k in range(n)))
    wall = time.perf_counter() - t0
    lat = sorted(stats["latency"])
    Path(out).write_text(json.dumps({
        "requests": len(lat), "wall_s": wall, "status": stats["status"], "records": stats["records"],
        "p50_ms": 1e3 * lat[len(lat) // 2], "p99_ms": 1e3 * lat[min(len(lat) - 1, int(len(lat) * 0.99))],
        "max_ms": 1e3 * lat[-1]}))


# ---- the host (this process) ------------------------------------------------------------------------------
async def host_main(n: int, seconds: float) -> None:
    from teach_sgd.classroom.server import ClassServer
    from teach_sgd.classroom.store import ClassStore
    from teach_sgd.tui.app import TeachSGDApp
    from teach_sgd.tui.screens.classroom import InstructorScreen

    folder = Path(tempfile.mkdtemp(prefix="bench-class-"))
    server = ClassServer(ClassStore(folder / "class.sqlite"), "127.0.0.1", 0, lessons=LessonCatalog())
    app = TeachSGDApp(lessons=[], export_dir=folder / "exports", warm_kernels=False,
                      opening=lambda: InstructorScreen(server))
    frames = 0
    display = app._display

    def counting_display(*args, **kwargs):  # every frame the compositor renders for the (headless) terminal
        nonlocal frames
        frames += 1
        return display(*args, **kwargs)

    app._display = counting_display
    async with app.run_test(size=(80, 24)):
        while not (isinstance(app.screen, InstructorScreen) and server.port):
            await asyncio.sleep(0.05)
        screen = app.screen
        out = folder / "students.json"
        proc = await asyncio.create_subprocess_exec(sys.executable, __file__, "--students-of", server.address,
                                                    server.code, "--students", str(n), "--seconds", str(seconds),
                                                    "--out", str(out))
        t0 = time.perf_counter()
        ticks0, frames0 = screen.ticks, frames
        plan = [(0.10, "open"), (0.45, "reveal"), (0.55, "open2"), (0.85, "reveal")]
        samples = []
        for at, what in plan:
            while time.perf_counter() - t0 < at * seconds:
                await asyncio.sleep(0.25)
                samples.append((time.perf_counter(), screen.ticks))
            if what == "open":
                server.open_question("03-hogwild", "lost")
            elif what == "open2":
                server.open_question("05-leashed", "fails")
            else:
                server.reveal()
        while time.perf_counter() - t0 < seconds:
            await asyncio.sleep(0.25)
            samples.append((time.perf_counter(), screen.ticks))
        hz = (screen.ticks - ticks0) / (time.perf_counter() - t0)
        fps = (frames - frames0) / (time.perf_counter() - t0)
        worst = min((b[1] - a[1]) / (b[0] - a[0]) for a, b in zip(samples[::8], samples[8::8]))
        await proc.wait()
        counts = server.store.counts()
        requests, refused = server.requests, server.refused
    got = json.loads(out.read_text())
    stored = counts["predictions"] + counts["results"]
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"bench_class: {n} students on loopback for {seconds:.0f} s, host = the instructor's screen at 80×24")
    print(f"  requests      {got['requests']:,} in {got['wall_s']:.1f} s = {got['requests'] / got['wall_s']:,.0f}/s "
          f"(host counted {requests:,}, refused {refused:,}; answers {got['status']})")
    print(f"  latency       p50 {got['p50_ms']:.1f} ms · p99 {got['p99_ms']:.1f} ms · max {got['max_ms']:.1f} ms")
    print(f"  records       sent {got['records']:,} · stored {stored:,} "
          f"({counts['predictions']:,} predictions, {counts['results']:,} results) · "
          f"{'EQUAL' if stored == got['records'] else 'NOT EQUAL'}")
    print(f"  host memory   peak RSS {rss_mb:.0f} MB (the app, the server and the store in one process)")
    print(f"  instructor UI {hz:.1f} ticks/s (target ≥ 10; 2-s windows: worst {worst:.1f}) · "
          f"{fps:.1f} frames/s composed")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--busy", type=int, default=0, help="busy processes competing for the cores (default 0)")
    ap.add_argument("--students-of", nargs=2, metavar=("ADDRESS", "CODE"), help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.students_of:
        asyncio.run(students_main(*args.students_of, args.students, args.seconds, args.out))
    else:
        with Busy(args.busy):
            asyncio.run(host_main(args.students, args.seconds))
        print(f"  load          {args.busy} busy processes · 1-min load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
