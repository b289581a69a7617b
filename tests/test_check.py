"""The exhaustive checker: the real protocol has no counterexample, each broken variant has one that replays
to its violation and is the shortest, HOGWILD!'s losing interleavings are counted exactly, and
`teach-sgd check` prints, writes JSON and rejects bad values with one line."""
import json

import pytest

from teach_sgd.commands.main import main
from teach_sgd.sim.check import check, make_model, replay
from teach_sgd.sim.protocol import DEADLOCK, EXACTLY_ONCE, LIVE_BOUND, LOST_UPDATE, STALE_READ


@pytest.mark.parametrize("threads,updates,persistence", [(2, 2, None), (3, 1, None), (2, 2, 0), (2, 2, 1)])
def test_leashed_has_no_counterexample(threads, updates, persistence):
    result = check(make_model("leashed", threads, updates, persistence))
    assert result.states > 400
    assert set(result.violations) == {LOST_UPDATE, STALE_READ, LIVE_BOUND, EXACTLY_ONCE, DEADLOCK}
    assert sum(result.violations.values()) == 0
    assert result.schedule == [] and result.to_json()["counterexample"] == []


def test_tp_zero_really_drops_gradients():
    """With Tp = 0 the model must reach a state where a gradient was dropped, or 0 violations proves little."""
    model = make_model("leashed", 2, 1, persistence=0)
    state = model.initial()
    # thread 0 runs until only its CAS is left, thread 1 publishes, thread 0's CAS fails: dropped
    while model.step(state, 0)[1].step.name != "CAS on P":
        state, _ = model.step(state, 0)
    while 1 in model.enabled(state):
        state, _ = model.step(state, 1)
    while 0 in model.enabled(state):
        state, tr = model.step(state, 0)
    dropped, published = state[6], state[5]
    assert dropped == 0b01 and published == 0b10
    assert model.invariants(state) == {}


def layers_without(model, prop, length):
    """Independent of check(): breadth-first layers of states up to `length` steps; True iff nothing in them
    (no state, no step) breaks `prop`."""
    layer = {model.initial()}
    for _ in range(length):
        if any(prop in model.invariants(s) for s in layer):
            return False
        nxt = set()
        for s in layer:
            for tid in model.enabled(s):
                n, tr = model.step(s, tid)
                if any(p == prop for p, _ in tr.broken):
                    return False
                nxt.add(n)
        layer = nxt
    return not any(prop in model.invariants(s) for s in layer)


@pytest.mark.parametrize("protocol,prop", [("leashed-no-recheck", STALE_READ), ("leashed-untagged", LOST_UPDATE),
                                           ("hogwild", LOST_UPDATE)])
def test_a_broken_protocol_has_a_shortest_counterexample_that_replays(protocol, prop):
    model = make_model(protocol, 2, 2)
    result = check(model)
    assert result.violations[prop] > 0 and result.broken[0] == prop
    steps = replay(model, result.schedule)
    last, state = steps[-1]
    assert prop in model.invariants(state) or any(p == prop for p, _ in last.broken)
    assert [tr.text for tr, _ in steps] == [tr.text for tr in result.steps]
    assert layers_without(model, prop, len(result.schedule) - 1)      # nothing shorter breaks it
    record = result.to_json()
    assert record["counterexample"][-1]["breaks"]["property"] == prop
    assert [s["thread"] for s in record["counterexample"]] == result.schedule


def test_the_untagged_counterexample_is_an_aba():
    result = check(make_model("leashed-untagged", 2, 2))
    assert "ABA" in result.steps[-1].text and result.steps[-1].step.name == "CAS on P"


def test_the_no_recheck_counterexample_reads_a_reused_slot():
    result = check(make_model("leashed-no-recheck", 2, 2))
    assert "candidate being built" in result.broken[1]
    assert any("no re-check" in tr.text for tr in result.steps)


@pytest.mark.parametrize("threads,total,losing", [(2, 6, 4), (3, 90, 84)])
def test_hogwild_losing_interleavings_are_counted_exactly(threads, total, losing):
    # one LOAD/STORE pair per thread: (2n)!/2^n interleavings; only the n! serial ones lose nothing
    result = check(make_model("hogwild", threads, 1))
    assert (result.interleavings, result.losing) == (total, losing)
    assert len(result.schedule) == 2 * threads   # every thread must LOAD before the first STORE … at the end


def test_fetch_and_add_never_loses_an_update():
    result = check(make_model("faa", 3, 2))
    assert result.violations[LOST_UPDATE] == 0 and result.losing == 0 and result.interleavings == 90


def test_cli_check_prints_and_writes_json(tmp_path, capsys):
    out = tmp_path / "check.json"
    assert main(["check", "--protocol", "leashed", "--threads", "2", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "explored" in text and "states" in text and text.rstrip().endswith("0 violations")
    record = json.loads(out.read_text())
    assert list(record) == ["protocol", "threads", "states", "seconds", "violations", "counterexample"]
    assert record["protocol"] == "leashed" and record["threads"] == 2 and record["counterexample"] == []


def test_cli_check_explains_the_counterexample_in_named_units_and_exits_1(capsys):
    assert main(["check", "--protocol", "hogwild", "--threads", "2"]) == 1
    text = capsys.readouterr().out
    assert text.startswith("hogwild: 2 threads × 1 gradient each\nexplored 13 states")
    assert "lost_update  broken in 2 states" in text
    assert "6 complete interleavings, of which 4 lose an update" in text
    assert "shortest counterexample: 4 steps" in text and "lost g0" in text


@pytest.mark.parametrize("protocol, prop, steps", [("leashed-no-recheck", "stale_read", 25),
                                                   ("leashed-untagged", "lost_update", 42)])
def test_check_defaults_find_what_each_broken_variant_is_famous_for(protocol, prop, steps, capsys):
    """The obvious command breaks the variant: 2 threads need a second gradient each (0 violations at 1)."""
    assert main(["check", "--protocol", protocol]) == 1
    text = capsys.readouterr().out
    assert "2 threads × 2 gradients each" in text
    assert f"shortest counterexample: {steps} steps, breaking {prop}" in text
    assert main(["check", "--protocol", protocol, "--threads", "3"]) == 1  # 3 threads: one gradient each will do
    assert "3 threads × 1 gradient each" in capsys.readouterr().out


def test_show_without_a_counterexample_says_so(capsys):
    assert main(["check", "--protocol", "faa", "--show"]) == 0
    assert "--show has nothing to show" in capsys.readouterr().err


def test_show_opens_the_counterexample_in_the_app():
    """`check --show`: the app subclass must find its stylesheet (it crashed with StylesheetError) and open
    the trace at the counterexample."""
    import asyncio

    from teach_sgd.commands.check import trace_app
    from teach_sgd.tui.screens.challenge import TraceScreen

    model = make_model("hogwild", 2, 1)
    result = check(model)

    async def drive():
        app = trace_app(model, result)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert isinstance(app.screen, TraceScreen)

    asyncio.run(drive())


@pytest.mark.parametrize("argv,needle", [
    (["--protocol", "leashed-aba"], "--protocol"),
    (["--protocol", "leashed", "--threads", "9"], "--threads"),
    (["--protocol", "leashed", "--threads", "3", "--updates", "3"], "at most 6"),
    (["--protocol", "leashed", "--threads", "4"], "at most 3 for leashed"),
    (["--protocol", "hogwild", "--persistence", "1"], "no retries"),
    (["--protocol", "leashed", "--updates", "x"], "--updates"),
])
def test_cli_check_rejects_bad_values_with_one_line(argv, needle, capsys):
    assert main(["check", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err and "Traceback" not in err
