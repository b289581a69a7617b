"""The replay session without a terminal, on the recorded fixture and an injected wall clock: the player's state,
play/pause at the end, jumps by fraction and by typed time (a bad one said, changing nothing), and the export
through the one writer (the JSON byte for byte the recording's)."""
from __future__ import annotations

from pathlib import Path

from teach_sgd.engine.recording import load
from teach_sgd.replay import ReplaySession, events_csv

FIXTURE = Path(__file__).parent / "fixtures" / "recording-leashed-4.npz"


def session() -> tuple[ReplaySession, list[float]]:
    now = [100.0]
    return ReplaySession(load(FIXTURE), now=lambda: now[0]), now


def test_the_state_follows_the_clock_and_play_at_the_end_starts_over():
    s, now = session()
    d = s.clock.duration
    assert d > 0 and s.state == "playing" and s.clock.t == 0.0
    now[0] += d / 2
    assert abs(s.clock.t - d / 2) < 1e-9 and s.state == "playing"
    s.clock.toggle()
    now[0] += d
    assert s.state == "paused" and abs(s.clock.t - d / 2) < 1e-9  # paused: wall time passes, run time does not
    s.jump_fraction(1.0)
    assert s.state == "end" and s.source.done
    assert s.clock.toggle() is True and s.clock.t == 0.0 and s.state == "playing"  # play at the end: from the start


def test_a_typed_time_jumps_within_the_recording_and_a_bad_one_is_said():
    s, _ = session()
    s.clock.toggle()
    t = round(s.clock.duration / 3, 2)
    assert t > 0 and s.goto(f"{t}s") and s.clock.t == t and s.message == f"jumped to {t:.2f} s"
    assert not s.goto("soon") and s.clock.t == t and s.message == "✗ 'soon' is not a time in seconds"
    assert s.goto("1e9") and s.clock.t == s.clock.duration  # kept within the recording
    assert s.jump_fraction(0.3) == 0.3 * s.clock.duration


def test_export_writes_the_recorded_result_every_event_and_the_timeline(tmp_path):
    s, _ = session()
    paths = s.export(tmp_path)
    by = {p.suffix: p for p in paths}
    assert sorted(by) == [".csv", ".json", ".svg"] and all(p.name.startswith("replay-leashed-m4") for p in paths)
    assert by[".json"].read_text() == s.recording.result_json
    assert by[".csv"].read_text() == events_csv(s.recording)
    assert by[".csv"].read_text().count("\n") == len(s.recording.events) + 1
    assert by[".svg"].read_text().lstrip().startswith("<svg")
    assert set(s.export(tmp_path)).isdisjoint(paths)  # a second export overwrites nothing
