"""Pilot tests of the simulator screen: a lost update and a failed CAS produced key by key, undo, the leash's
refusal, the stale-read adversary's divergence threshold, scheduled steps and undo in step, saving, and a
snapshot of the idle screen. The machine steps on the UI thread, so every press is answered at once."""
from __future__ import annotations

from contextlib import asynccontextmanager

import numpy as np

from teach_sgd.sim import Machine
from teach_sgd.tui.app import TeachSGDApp
from teach_sgd.tui.screens.home import HomeScreen
from teach_sgd.sim.player import SPEEDS
from teach_sgd.tui.screens.simulator import SimulatorScreen
from teach_sgd.tui.widgets.sim_panels import EventLog, SharedPanel, ThreadPanel, fmt_coord

from tui_helpers import SIZE, open_screen, sync, until

POLL = 0.02   # the machine steps on the UI thread, in timer ticks: look often, so the tests stay quick


def make_app(tmp_path=None) -> TeachSGDApp:
    kwargs = {"export_dir": tmp_path / "exports"} if tmp_path is not None else {}
    return TeachSGDApp(lessons=[], warm_kernels=False, **kwargs)


async def open_simulator(app, pilot, **fields) -> SimulatorScreen:
    """Home → s, fill in the settings (the settings' keys: ids without the sim- prefix), r applies them from step 0."""
    screen = await open_screen(app, pilot, "s", SimulatorScreen)
    selects = {k: v for k, v in fields.items() if k in ("mode", "scheduler", "objective")}
    for wid, value in fields.items():
        if wid not in selects:
            screen.query_one(f"#sim-{wid}").value = value
    for wid, value in selects.items():
        screen.query_one(f"#sim-{wid}").value = value
    await pilot.pause()
    await pilot.press("r")
    assert screen.machine.steps == 0
    return screen


@asynccontextmanager
async def simulator(tmp_path=None, **fields):
    """A fresh app in the test terminal, on the simulator screen with these settings (see open_simulator):
    `async with simulator(...) as (pilot, screen)`."""
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        yield pilot, await open_simulator(app, pilot, **fields)


def shown_x(screen) -> list[str]:
    """The coordinates of X as the shared-memory panel shows them."""
    row = screen.query_one(SharedPanel).text.splitlines()[0]
    return row.split()[1:]


def panels(screen) -> list[ThreadPanel]:
    """The thread panels, thread 0 first."""
    return sorted(screen.query(ThreadPanel), key=lambda p: p.tid)


def message(screen) -> str:
    return str(screen.query_one("#sim-message").content)


def status(screen) -> str:
    return str(screen.query_one("#sim-status").content)


# thread 0 LOADs x[0]; thread 1 runs its whole read phase, LOADs and STOREs x[0]; thread 0's STORE erases it
RACE = ["1"] * 4 + ["2"] * 5 + ["1"]


@sync
async def test_home_opens_the_simulator():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, HomeScreen)
        await pilot.press("s")
        assert isinstance(app.screen, SimulatorScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, HomeScreen)


@sync
async def test_manual_hogwild_lost_update_then_undo():
    async with simulator(mode="hogwild", scheduler="manual", threads="2", tau_max="none", d="2") as (pilot, screen):
        m = screen.machine
        assert (m.mode, m.threads, m.d, m.tau_max) == ("hogwild", 2, 2, None)
        log = screen.query_one(EventLog)
        await pilot.press(*RACE[:-1])
        before = shown_x(screen)
        assert "erases 1 write(s) made since LOAD" in panels(screen)[0].text   # the warning, one step ahead
        assert m.lost_updates == 0 and "LOST UPDATE" not in log.text

        await pilot.press(RACE[-1])
        assert m.lost_updates == 1
        assert m.schedule == [0, 0, 0, 0, 1, 1, 1, 1, 1, 0]
        assert "✗ LOST UPDATE x[0]: erased t1's write" in log.text.splitlines()[-1]
        assert f"lost writes {m.lost_updates}" in log.border_subtitle
        assert f"lost writes {m.lost_updates}" in screen.query_one(SharedPanel).text
        assert "LOST UPDATE" in message(screen)
        assert shown_x(screen) == [fmt_coord(v).strip() for v in m.shared()]

        await pilot.press("u")
        assert m.steps == len(RACE) - 1 and m.lost_updates == 0
        assert shown_x(screen) == before == [fmt_coord(v).strip() for v in m.shared()]
        fresh = Machine(m.objective, threads=2, alpha=m.alpha, mode="hogwild")
        fresh.replay([0, 0, 0, 0, 1, 1, 1, 1, 1])
        assert np.array_equal(m.shared(), fresh.shared())
        assert "LOST UPDATE" not in log.text
        assert "lost writes 0" in log.border_subtitle

        await pilot.press(*["u"] * 20)          # all the way back, and one more press is harmless
        assert m.steps == 0
        assert np.array_equal(m.shared(), m.x0)
        assert "nothing to undo" in message(screen)


@sync
async def test_manual_leashed_failed_cas_and_drop():
    async with simulator(mode="leashed", scheduler="manual", threads="2", tau_max="2", d="3") as (pilot, screen):
        m = screen.machine
        log = screen.query_one(EventLog)
        # thread 0 reads P and builds on v0; thread 1 does the same and publishes v1; thread 0's CAS fails
        await pilot.press(*RACE[:-1])
        assert "P moved on to v1: CAS fails" in panels(screen)[0].text
        await pilot.press(RACE[-1])
        assert m.cas_failures == 1 and m.completed == 1
        assert "✗ CAS failed: built on v0, P at v1" in log.text.splitlines()[-1]
        assert f"failed CAS {m.cas_failures}" in log.border_subtitle
        assert "CAS FAILED" in message(screen)
        # it retries with the same gradient: READ_LATEST, BUILD, CAS now succeeds
        await pilot.press("1", "1", "1")
        assert m.completed == 2 and m.cas_failures == 1

        # with Tp = 0 the first failed CAS drops the gradient
        screen.query_one("#sim-persistence").value = "0"
        await pilot.press("r")
        m = screen.machine
        assert m.persistence == 0
        await pilot.press(*RACE)
        assert m.dropped == 1
        assert "gradient dropped after 1 failed CAS" in log.text
        assert "drops 1" in log.border_subtitle


@sync
async def test_leash_refuses_and_says_why():
    async with simulator(mode="faa", scheduler="manual", threads="2", tau_max="0", d="2") as (pilot, screen):
        m = screen.machine
        await pilot.press("1")
        assert "refused by the leash" in panels(screen)[1].border_title
        await pilot.press("2")
        assert m.steps == 1
        assert "thread 1 refused" in message(screen) and "τ_max = 0" in message(screen)
        await pilot.press("3")                   # no thread 2
        assert m.steps == 1 and "only 2 threads" in message(screen)
        await pilot.press(".", "space")          # manual: the learner is the scheduler
        assert m.steps == 1 and not screen.player.running


async def run_stale_read(app, pilot, alpha: str, completions: int | None = None) -> SimulatorScreen:
    screen = await open_simulator(app, pilot, mode="faa", scheduler="stale-read", threads="2", tau_max="1", alpha=alpha,
                                  d="2", noise="0", objective="quadratic")
    screen.player.speed = SPEEDS[-1]
    await pilot.press("space")                   # 500 steps a tick at this speed
    if completions is None:
        await until(lambda: not screen.player.running, poll=POLL)
    else:
        await until(lambda: screen.machine.completed >= completions or not screen.player.running, poll=POLL)
        await pilot.press("space")
    await pilot.pause()
    return screen


@sync
async def test_stale_read_diverges_above_the_threshold_only():
    # τ_max = 1, c = 1: the stale-read adversary diverges iff α ≥ 2/((τ+1)c) = 1
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_stale_read(app, pilot, "1.1")
        m = screen.machine
        assert screen.session.diverged and not screen.player.running
        assert m.distance2() > 1e4 * 2
        assert m.max_delay == 1
        await until(lambda: "DIVERGED" in status(screen), poll=POLL, why=lambda: status(screen))  # the next repaint
        assert "diverged" in message(screen) and "α = 1.1 ≥ 2/((τ+1)c) = 1" in message(screen)
        await pilot.press("space")               # a diverged run does not restart
        assert not screen.player.running

        screen = await run_stale_read(app, pilot, "0.9", completions=400)
        m = screen.machine
        assert not screen.player.running and not screen.session.diverged and "DIVERGED" not in status(screen)
        assert m.completed >= 400 and m.distance2() < 1e-6


@sync
async def test_scheduled_steps_and_undo_stay_in_step():
    async with simulator(mode="hogwild", scheduler="random", threads="3", tau_max="none", d="2") as (pilot, screen):
        m = screen.machine
        await pilot.press(*["full_stop"] * 30)
        original = list(m.schedule)
        assert len(original) == 30
        await pilot.press(*["u"] * 6, *["full_stop"] * 6)
        assert m.schedule == original            # the random scheduler was rewound with the machine
        assert shown_x(screen) == [fmt_coord(v).strip() for v in m.shared()]
        await pilot.press("1")
        assert m.steps == 30 and "scheduler decides" in message(screen)


@sync
async def test_save_schedule_replays_exactly(tmp_path):
    async with simulator(tmp_path, mode="leashed", scheduler="bounded-delay", threads="3", tau_max="1") as (pilot, screen):
        await pilot.press(*["full_stop"] * 25)
        await pilot.press("w")
        saved = sorted((tmp_path / "exports").glob("sim-*.json"))
        assert len(saved) == 1
        assert str(saved[0]) in message(screen)
        again = Machine.load(saved[0])
        assert again.schedule == screen.machine.schedule
        assert np.array_equal(again.shared(), screen.machine.shared())


@sync
async def test_bad_settings_are_explained_and_change_nothing():
    async with simulator(threads="3") as (pilot, screen):
        machine = screen.machine
        screen.query_one("#sim-threads").value = "12"
        await pilot.press("r")
        assert screen.machine is machine and "threads must be a whole number from 1 to 9" in message(screen)
        screen.query_one("#sim-threads").value = "2"
        screen.query_one("#sim-tau_max").value = "none"
        screen.query_one("#sim-scheduler").value = "stale-read"
        await pilot.pause()
        assert "set τ_max" in message(screen)
        assert screen.machine is machine


@sync
async def test_speed_keys_and_run_pause():
    async with simulator() as (pilot, screen):
        start = screen.player.speed
        await pilot.press("plus", "plus")
        assert screen.player.speed == SPEEDS[SPEEDS.index(start) + 2]
        await pilot.press("minus")
        assert screen.player.speed == SPEEDS[SPEEDS.index(start) + 1]
        await pilot.press("space")
        await until(lambda: screen.machine.steps >= 10, poll=POLL)
        await pilot.press("space")
        steps = screen.machine.steps
        await pilot.pause(0.2)
        assert not screen.player.running and screen.machine.steps == steps
        assert "PAUSED" in status(screen)
        await pilot.press("space")
        assert screen.player.running
        await pilot.press("h")                   # leaving the screen pauses the run
        assert isinstance(pilot.app.screen, HomeScreen) and not screen.player.running
        await pilot.press("s")
        assert pilot.app.screen is screen and "paused while you were away" in message(screen)


def test_simulator_idle(snap_compare):
    async def open_it(pilot):
        pilot.app.action_open("simulator")
        await pilot.pause()

    assert snap_compare(make_app(), run_before=open_it, terminal_size=SIZE)
