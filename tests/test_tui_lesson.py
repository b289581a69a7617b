"""Pilot tests of the lesson screen: lesson 1 walked from the home menu to its checkpoints (predict → live run →
verdict quoting this run's numbers → progress saved), stopping a run by leaving, an instructor's lesson folder,
a diverging run, and a snapshot of the first step.

Runs are shrunk with `app.lesson_budget = Budget(updates=N)` (teach_sgd.lessons.experiments.Budget: every run of
the lesson gets exactly N updates, on the data the lesson specifies), which the app hands to LessonScreen; a
screen can also be built directly with LessonScreen(id, budget=...). Every Pilot.press waits for the process to
be idle, so runs are kept to a few hundred updates."""
from __future__ import annotations

import pytest
from textual.widgets import Markdown, OptionList
from textual.widgets._markdown import MarkdownBlock

from teach_sgd.child import PACKAGE_HOME, module_argv
from teach_sgd.format import fmt_loss
from teach_sgd.lessons import Budget, Progress
from teach_sgd.tui.app import TeachSGDApp
from teach_sgd.tui.screens.challenge import ChallengeScreen
from teach_sgd.tui.screens.home import HomeScreen
from teach_sgd.tui.screens.lesson import LessonScreen
from teach_sgd.tui.widgets.lesson_pane import LessonPane
from teach_sgd.tui.widgets.lesson_results import RunResultsTable
from teach_sgd.tui.widgets.timeline import TimelinePanel

from tui_helpers import SIZE, sync, until

LESSON1 = "01-one-thread"


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    """Progress goes to a fresh folder per test (and exports beside it)."""
    d = tmp_path / "data"
    monkeypatch.setenv("TEACH_SGD_DATA_DIR", str(d))
    return d


def screen_text(screen: LessonScreen) -> str:
    """What the left pane shows: the badge, the rendered Markdown blocks, the hint."""
    blocks = screen.query_one("#ls-text", Markdown).query(MarkdownBlock)
    parts = [str(screen.w_step.w_badge.content)] if screen.w_step.w_badge.display else []
    parts += [str(b.content) for b in blocks]
    parts.append(str(screen.w_step.w_hint.content))
    return "\n".join(parts)


def make_app(tmp_path, updates: int = 300, **kwargs) -> TeachSGDApp:
    app = TeachSGDApp(export_dir=tmp_path / "exports", **kwargs)
    app.lesson_budget = Budget(updates=updates)
    return app


async def run_lesson_1_experiment(app, pilot):
    """From the app opened on lesson 1: both predictions made, its experiment run to the end. Returns the lesson
    screen and its session."""
    await until(lambda: isinstance(app.screen, LessonScreen) and app.screen.session is not None)
    screen, s = app.screen, app.screen.session
    for key in ("n", "2", "n", "1", "n", "r"):
        await pilot.press(key)
    await until(lambda: s.can_advance and not screen.keys.busy)
    await pilot.pause()
    return screen, s


@sync
async def test_walk_lesson_1_from_home_to_its_checkpoints(tmp_path, data_dir):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        # home → lesson 1
        menu = app.screen.query_one("#menu", OptionList)
        menu.highlighted = menu.get_option_index(f"lesson:{LESSON1}")
        menu.focus()
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, LessonScreen) and app.screen.session is not None)
        await pilot.pause()
        screen = app.screen
        s = screen.session
        n_steps = len(s.steps)
        assert f"step 1 / {n_steps}" in str(screen.w_step.w_pos.content)
        assert "SGD on one thread" in str(screen.w_step.w_title.render())
        assert s.step.kind == "narrative" and "SGD update" in screen_text(screen)
        assert screen.w_right.current == "ls-outline"

        # narrative → predict: nothing chosen yet, so n does not advance
        await pilot.press("n")
        assert s.step.kind == "predict" and s.step.checkpoint.id == "accuracy"
        assert screen.w_step.w_choices.display and screen.w_step.w_choices.has_focus
        assert "what test accuracy" in screen_text(screen)
        await pilot.press("n")
        assert s.index == 1, "next must wait for a prediction"
        await pilot.press("down", "enter")  # ↑↓ + Enter: the second choice
        assert s.answers["accuracy"] == "mid"
        assert "prediction saved" in str(screen.w_step.w_hint.content)
        await pilot.press("right")
        assert s.step.kind == "predict" and s.step.checkpoint.id == "step"
        await pilot.press("1")  # number keys choose too
        assert s.answers["step"] == "seq"
        await pilot.press("n")

        # the run, live in the dashboard
        assert s.step.kind == "run" and not s.can_advance
        assert screen.w_right.current == "ls-experiment"
        await pilot.press("n")
        assert s.step.kind == "run", "next must wait for the run"
        await pilot.press("r")
        await until(lambda: s.can_advance and not screen.keys.busy)
        await pilot.pause()
        runs = s.results["baseline"].runs
        assert set(runs) == {"seq", "small"}
        seq, small = runs["seq"], runs["small"]
        assert seq.updates == small.updates == 300 and seq.status == "finished"
        assert seq.config.dataset == "mnist"  # the lesson's own data, only fewer updates
        assert screen.dash.result is small  # the last run of the sequence stays on the dashboard
        table = screen.query_one(RunResultsTable)
        assert table.get_cell("seq", "updates") == "300"
        loss_column = table.columns[next(k for k in table.columns if k.value == "loss")]
        assert loss_column.content_width >= len(fmt_loss(seq.loss_final))  # whole, never "0.03" of 0.03987
        # a setting both runs share is said once, in the title, not as a column of equal values
        shared = len({r.config.algo for r in runs.values()}) == 1
        assert ("algo" in table.columns) != shared and (f" · {seq.config.algo}" in str(table.border_title)) == shared
        assert "2 runs done" in str(screen.w_right.w_header.content)
        table.focus()
        await pilot.press("up")  # the highlighted run is what the dashboard shows
        assert "seq" in str(screen.w_right.w_header.content)
        assert f"{seq.updates:,} updates" in str(screen.dash.query_one("#status").content)
        screen.w_step.w_scroll.focus()

        # verdict 1: ✓/✗ and the measured numbers of this very run
        await pilot.press("n")
        assert s.step.kind == "verdict"
        v = s.verdicts["accuracy"]
        text = screen_text(screen)
        assert f"{seq.accuracy_final:.1%}" in text
        assert f"{seq.loss_final:.4g}" in text and f"{seq.loss_initial:.4g}" in text
        assert ("✓" in text) == bool(v.user_correct) and ("✗" in text) == (v.user_correct is False)
        assert "50–80%" in text  # the prediction, quoted back

        # verdict 2
        await pilot.press("n")
        assert s.step.checkpoint.id == "step"
        text = screen_text(screen)
        assert f"{seq.loss_final:.4g}" in text and f"{small.loss_final:.4g}" in text

        # back and forth
        await pilot.press("p")
        assert s.step.checkpoint.id == "accuracy"
        await pilot.press("n", "n")
        assert s.step.kind == "narrative" and "Mini-batches" in screen_text(screen)
        assert screen.w_right.current == "ls-experiment"  # the results stay in view

        # the mini-batch experiment (9 runs, kept tiny): predict, run, verdicts, to the last step
        s.budget = Budget(updates=20)
        while s.index < n_steps - 1:
            if s.step.kind == "predict":
                await pilot.press("1")
            elif s.step.kind == "run":
                await pilot.press("r")
                await until(lambda: s.can_advance and not screen.keys.busy)
            await pilot.press("n")
        assert s.step.kind == "narrative" and set(s.results["batch"].runs) == set(s.lesson.experiment("batch").run_names())
        assert "Jitter" in s.verdict("jitter").explanation

        # saved so far: the checkpoints and the step
        saved = Progress.load(data_dir / "progress.json")
        assert saved.step(LESSON1) == n_steps - 1
        cps = saved.lessons[LESSON1]["checkpoints"]
        assert cps["accuracy"]["chosen"] == "mid" and cps["step"]["chosen"] == "seq"
        assert cps["accuracy"]["correct"] == v.correct_choice
        assert saved.status(LESSON1) == "started"

        # finish: back home, lesson marked done
        await pilot.press("n")
        await until(lambda: isinstance(app.screen, HomeScreen))
        await pilot.pause()
        assert Progress.load(data_dir / "progress.json").status(LESSON1) == "done"
        menu = app.screen.query_one("#menu", OptionList)
        label = str(menu.get_option(f"lesson:{LESSON1}").prompt)
        assert "✓ done" in label


@sync
async def test_lesson_id_opens_directly_and_leaving_stops_the_run(tmp_path):
    app = make_app(tmp_path, updates=10_000_000, lesson_id="1")  # far too long: we leave mid-run
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: isinstance(app.screen, LessonScreen) and app.screen.session is not None)
        screen = app.screen
        s = screen.session
        for key in ("n", "1", "n", "1", "n"):
            await pilot.press(key)
        assert s.step.kind == "run"
        await pilot.press("r")
        await until(lambda: screen.runner is not None and screen.dash.running)
        runner = screen.runner
        await pilot.press("h")
        await until(lambda: runner.done, timeout=5)
        assert isinstance(app.screen, HomeScreen)
        assert "baseline" not in s.results


@sync
async def test_esc_leaves_a_panel_first_and_leaving_loses_nothing(tmp_path, data_dir):
    """Issue 16 point 4: Esc with the timeline focused goes back to the text, not home; the runs, the predictions
    and the position survive going home, reopening the lesson and restarting the app."""
    app = make_app(tmp_path, lesson_id="1")
    async with app.run_test(size=SIZE) as pilot:
        screen, s = await run_lesson_1_experiment(app, pilot)
        await pilot.press("n", "n", "n")          # the two checks, then the narrative after them
        here = s.index
        assert s.step.kind == "narrative" and s.steps[here - 1].kind == "verdict"
        screen.query_one(TimelinePanel).focus()
        await pilot.press("escape")
        assert app.screen is screen and screen.w_step.w_scroll.has_focus, "Esc leaves the panel, not the lesson"
        await pilot.press("escape")
        await until(lambda: isinstance(app.screen, HomeScreen))
        await pilot.pause()
        label = str(app.screen.query_one("#menu", OptionList).get_option(f"lesson:{LESSON1}").prompt)
        assert f"at step {here + 1} / {len(s.steps)}" in label
    for _ in range(2):   # reopened in the same app, then after a restart: both the same
        app = make_app(tmp_path, lesson_id="1")
        async with app.run_test(size=SIZE) as pilot:
            await until(lambda: isinstance(app.screen, LessonScreen) and app.screen.session is not None)
            await pilot.pause()
            screen, again = app.screen, app.screen.session
            assert again.index == here and again.can_advance, "no re-run demanded"
            assert set(again.results["baseline"].runs) == {"seq", "small"}
            assert again.answers == {"accuracy": "mid", "step": "seq"}
            assert screen.w_right.current == "ls-experiment" and "showing run" in str(screen.w_right.w_header.content)
            await pilot.press("p")   # the check before: the prediction and the measured verdict, not "no prediction"
            assert again.step.kind == "verdict"
            assert "no prediction was made" not in screen_text(screen) and "you predicted: **—" not in screen_text(screen)
            await pilot.press("n")   # back where it was, for the restart


@sync
async def test_each_finished_run_shows_its_own_timeline(tmp_path, data_dir):
    """A finished run looked at again (another row of the experiment's table) shows its own events on the
    timeline, not the last run's and not "appears once a run starts"; so does the run shown on coming back to
    the lesson. R records the run that ran last, and says so when another is shown. After a restart the runs'
    numbers are back but their events were never saved: the timeline says so."""
    app = make_app(tmp_path, lesson_id="1")
    async with app.run_test(size=SIZE) as pilot:
        screen, s = await run_lesson_1_experiment(app, pilot)
        runs = s.results["baseline"].runs
        first, last = list(runs)
        timeline, table = screen.query_one(TimelinePanel), screen.query_one(RunResultsTable)
        kept = {name: s.events_of("baseline", name, r) for name, r in runs.items()}
        assert all(len(k.events) == runs[n].events_recorded > 0 for n, k in kept.items())
        assert len(timeline.events) == len(kept[last].events)
        table.move_cursor(row=0)
        await pilot.pause()
        assert f"showing run {first}" in str(screen.w_right.w_header.content)
        assert (timeline.events["t_end"] == kept[first].events["t_end"]).all()
        assert not (len(kept[first].events) == len(kept[last].events)
                    and (kept[first].events["t_end"] == kept[last].events["t_end"]).all()), "two runs, two streams"
        assert "appears once a run starts" not in timeline.border_title and "not kept" not in timeline.border_title
        table.focus()
        await pilot.press("R")
        assert any("R records only the run that ran last: select its row" in str(n.message)
                   for n in app._notifications)
        await pilot.press("h")
        await until(lambda: isinstance(app.screen, HomeScreen))
        app.open_lesson("1")
        await until(lambda: isinstance(app.screen, LessonScreen) and app.screen.session is not None)
        await pilot.pause()
        screen = app.screen
        assert screen.session.step.kind == "run" and f"showing run {last}" in str(screen.w_right.w_header.content)
        assert screen.query_one(RunResultsTable).cursor_row == 1
        assert (screen.query_one(TimelinePanel).events["t_end"] == kept[last].events["t_end"]).all()
    app = make_app(tmp_path, lesson_id="1")  # a restart: the results come back from the results file
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: isinstance(app.screen, LessonScreen) and app.screen.session is not None)
        await pilot.pause()
        timeline = app.screen.query_one(TimelinePanel)
        assert len(timeline.events) == 0 and "events not kept (the app keeps its last 16 lesson runs)" in \
            timeline.border_title


@sync
async def test_instructor_lesson_folder(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "90-mine.md").write_text('''+++
title = "An instructor's own lesson"
minutes = 3

[[experiments]]
id = "quick"
base = { dataset = "synthetic", algo = "leashed", threads = 2, updates = 200 }
runs.two = { }
runs.wild = { lr = 10000.0 }

[[checkpoints]]
question = "Will it finish?"
choices = { yes = "yes", no = "no" }
answer = "'yes' if two.updates >= 1 else 'no'"
explain = "It made {two.updates} updates; the wild one diverged: {wild.diverged}."
+++

# Mine

Hello from the instructor.
''')
    app = make_app(tmp_path, updates=150, lessons_dir=str(folder), lesson_id="90")
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: isinstance(app.screen, LessonScreen) and app.screen.session is not None)
        await pilot.pause()
        screen = app.screen
        assert screen.lesson.id == "90-mine"
        assert "Hello from the instructor" in screen_text(screen)
        for key in ("n", "1", "n", "r"):
            await pilot.press(key)
        await until(lambda: screen.session.can_advance and not screen.keys.busy)
        await pilot.press("n")
        two = screen.session.results["quick"].runs["two"]
        assert two.updates == 150  # the budget is exact
        assert f"It made {two.updates} updates" in screen_text(screen)
        # a diverged run is a measurement too: it counts, and the verdict can quote it
        assert screen.session.results["quick"].runs["wild"].diverged
        assert "the wild one diverged: yes" in screen_text(screen)


def test_unknown_lesson_id_is_a_usage_error(capsys):
    from teach_sgd.commands.main import main

    assert main(["lesson", "no-such-lesson"]) == 2
    err = capsys.readouterr().err
    assert "no lesson 'no-such-lesson'" in err and "Traceback" not in err


def test_lesson_first_step_snapshot(snap_compare):
    app = TeachSGDApp(lesson_id=LESSON1)

    async def settle(pilot):
        await until(lambda: isinstance(app.screen, LessonScreen) and app.screen.session is not None)
        await pilot.pause()

    assert snap_compare(app, run_before=settle, terminal_size=SIZE)


def test_unknown_lesson_id_via_python_m():
    """`python -m teach_sgd.commands` (how the server and benchmarks start the app): an unknown lesson is one
    line and exit status 2, as with `teach-sgd`."""
    import subprocess

    p = subprocess.run(module_argv("teach_sgd.commands", "lesson", "no-such-lesson"), cwd=PACKAGE_HOME,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and "Traceback" not in p.stderr and "no lesson" in p.stderr


@sync
async def test_an_experiment_note_shows_its_brackets(tmp_path):
    """Lesson 5's slow-motion note says "[ and ] select an event": Rich markup ate "[ and ]" (issue 16 item 15)."""
    app = make_app(tmp_path, lesson_id="5")
    async with app.run_test(size=(200, 55)) as pilot:
        await until(lambda: isinstance(app.screen, LessonScreen) and app.screen.session is not None)
        session = app.screen.session
        [slow] = [e for e in session.lesson.experiments if e.id == "slow"]
        assert "[ and ] select an event" in slow.note
        pane = app.screen.query_one(LessonPane)
        pane.experiment(slow, session, False, None, "idle", False)
        await pilot.pause()
        assert "[ and ] select an event" in str(pane.query_one("#ls-exp-note").render())


@sync
async def test_a_false_sharing_experiment_runs_in_the_lesson_screen_and_shows_its_table(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "91-fs.md").write_text('''+++
title = "False sharing"
minutes = 2
challenges = ["lose-update"]

[[experiments]]
id = "fs"
kind = "sharing"
sharing = { threads = 2, rounds = 2 }

[[checkpoints]]
question = "Packed slower than padded?"
choices = { yes = "yes", no = "no" }
answer = "packed.ns_per_increment > padded.ns_per_increment"
explain = "Packed {packed.ns_per_increment:.2f} ns, padded {padded.ns_per_increment:.2f} ns per increment."
+++

# Lines, not variables
''')
    app = make_app(tmp_path, updates=20, lessons_dir=str(folder), lesson_id="91")
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: isinstance(app.screen, LessonScreen) and app.screen.session is not None)
        await pilot.pause()
        screen = app.screen
        # the lesson's challenge, and back to the same step
        await pilot.press("g")
        await until(lambda: isinstance(app.screen, ChallengeScreen))
        assert app.screen.challenge.id == "lose-update"
        await pilot.press("escape")
        await until(lambda: app.screen is screen)
        for key in ("n", "1", "n"):
            await pilot.press(key)
        assert "false-sharing measurement" in screen_text(screen)
        await pilot.press("r")
        await until(lambda: screen.session.can_advance and not screen.keys.busy)
        table = str(screen.query_one("#ls-sim-table").content)
        assert "ns/increment" in table and "packed" in table
        await pilot.press("n")
        assert "per increment." in screen_text(screen)


@sync
async def test_c_opens_the_reference_of_the_run_shown(tmp_path, data_dir):
    """With another row of the experiment's table shown, c ("16 real cores") opens that run's reference
    recording, not the one of the run that ran last."""
    from teach_sgd.engine.config import RunConfig
    from teach_sgd.engine.runner import Runner
    from teach_sgd.tui.screens.replay import ReplayScreen

    runner = Runner(RunConfig(algo="seq", threads=1, dataset="synthetic", updates=50)).start()
    runner.wait()
    refs = tmp_path / "refs"
    refs.mkdir()
    for algo in ("hogwild", "leashed"):  # only the file's name picks it (replay.find_reference)
        runner.save_recording(refs / f"{algo}-8.npz")
    app = make_app(tmp_path, lesson_id="7", reference_dir=refs)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: isinstance(app.screen, LessonScreen) and app.screen.session is not None)
        screen, s = app.screen, app.screen.session
        for key in ("n", "1", "n", "r"):
            await pilot.press(key)
        await until(lambda: s.can_advance and not screen.keys.busy, timeout=60)
        await pilot.pause()
        screen.query_one(RunResultsTable).move_cursor(row=1)  # hog8; leashed8 ran last
        await pilot.pause()
        assert "showing run hog8" in str(screen.w_right.w_header.content)
        await pilot.press("c")
        await until(lambda: isinstance(app.screen, ReplayScreen))
        assert app.screen.recording.path.name == "hogwild-8.npz"
