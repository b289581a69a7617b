"""Challenges: every one is solvable within its step limit (found by search), the impossible ones are proved
impossible (the checker, or an exhaustive search within the limit), goals name real facts, a win is scored
and replayed, undo takes a verdict back, and scores survive a restart."""
import pytest

from teach_sgd.commands.main import main
from teach_sgd.lessons import rules
from teach_sgd.sim.challenges import BY_ID, CHALLENGES, Attempt, AttemptOver, Scores
from teach_sgd.sim.challenges.solve import Facts, shortest_win
from teach_sgd.sim.check import check, make_model
from teach_sgd.sim.protocol import LOST_UPDATE


def test_at_least_ten_challenges_with_unique_ids_and_hints():
    assert len(CHALLENGES) >= 10 and len(BY_ID) == len(CHALLENGES)
    assert all(c.hints for c in CHALLENGES)
    assert all(c.proof for c in CHALLENGES if c.impossible) and all(c.why for c in CHALLENGES if not c.impossible)


@pytest.mark.parametrize("challenge", CHALLENGES, ids=lambda c: c.id)
def test_every_goal_names_facts_of_its_board(challenge):
    game = challenge.new_game()
    rules.evaluate(challenge.goal, Facts(game.facts()))    # raises RuleError on an unknown name
    with pytest.raises(rules.RuleError):
        rules.evaluate("no_such_fact > 0", Facts(game.facts()))


@pytest.mark.parametrize("challenge", [c for c in CHALLENGES if not c.impossible], ids=lambda c: c.id)
def test_every_possible_challenge_is_won_by_a_search_within_its_limit(challenge, tmp_path):
    path = shortest_win(challenge.new_game(), challenge.goal, challenge.limit)
    assert path is not None and len(path) <= challenge.limit
    attempt = Attempt(challenge, Scores.load(tmp_path / "s.json"))
    for tid in path:
        attempt.step(tid)
    assert attempt.verdict.won and attempt.verdict.steps == len(path)
    assert len(attempt.verdict.replay) == len(path)


def test_the_impossible_machine_challenge_has_no_win_within_its_limit():
    c = BY_ID["no-diverge"]
    assert shortest_win(c.new_game(), c.goal, c.limit) is None
    # … while the same schedule length wins above the threshold (the pair is a fair comparison)
    assert BY_ID["diverge"].limit == c.limit


def test_the_impossible_leashed_challenge_is_proved_by_the_checker():
    c = BY_ID["leashed-no-loss"]
    b = c.board
    result = check(make_model(b["protocol"], b["threads"], b["updates"]))
    assert result.violations[LOST_UPDATE] == 0 and result.schedule == []
    assert "teach-sgd check --protocol leashed --threads 2 --updates 2" in c.proof


def test_the_memory_challenges_need_what_the_checker_needs():
    for cid, protocol in (("use-after-free", "leashed-no-recheck"), ("aba", "leashed-untagged")):
        c = BY_ID[cid]
        shortest = check(make_model(protocol, c.board["threads"], c.board["updates"])).schedule
        assert 0 < len(shortest) <= c.limit


def test_a_win_is_scored_replayed_and_kept(tmp_path):
    c = BY_ID["lose-update"]
    scores = Scores.load(tmp_path / "challenges.json")
    attempt = Attempt(c, scores)
    for tid in [0, 0, 0, 1, 1, 1, 1, 0]:
        attempt.step(tid)
    v = attempt.verdict
    assert v.won and v.new_best and v.best == 8 and v.schedule == (0, 0, 0, 1, 1, 1, 1, 0)
    assert "erased 1 write" in v.replay[-1]
    with pytest.raises(AttemptOver):
        attempt.step(1)
    assert attempt.undo() and attempt.verdict is None           # undo takes the verdict back
    assert Scores.load(tmp_path / "challenges.json").best(c.id) == 8
    worse = Attempt(c, Scores.load(tmp_path / "challenges.json"))
    assert not worse.scores.record(c.id, [0] * 9)               # more steps never replace a best


def test_running_out_of_steps_on_an_impossible_challenge_shows_the_proof():
    c = BY_ID["no-diverge"]
    attempt = Attempt(c)
    for _ in range(c.limit // 3):
        for tid in (0, 0, 0):                                    # one thread after the other, in turn
            attempt.step(tid)
    assert attempt.verdict is not None and not attempt.verdict.won
    assert attempt.verdict.message == c.proof


def test_hints_come_in_order_then_a_winning_next_step():
    c = BY_ID["cas-fail"]
    attempt = Attempt(c)
    assert [attempt.hint() for _ in c.hints] == list(c.hints)
    assert attempt.hint().startswith("step thread ")


def test_a_thread_the_leash_refuses_cannot_step():
    attempt = Attempt(BY_ID["diverge"])
    # 1, 2 and 3 start; thread 0 completes once (delaying each of them by one) and starts again
    for tid in (0, 0, 1, 2, 3, 0, 0, 0):
        attempt.step(tid)
    # a second completion of thread 0 now would leave 1, 2 and 3 (delay 2 each) unable to all finish within 3
    assert attempt.game.enabled() == [1, 2, 3]
    with pytest.raises(ValueError):
        attempt.step(0)
    assert attempt.steps == 8


def test_a_damaged_scores_file_is_set_aside(tmp_path):
    path = tmp_path / "challenges.json"
    path.write_text("{not json")
    scores = Scores.load(path)
    assert scores.challenges == {} and "unreadable" in scores.warning and (tmp_path / "challenges.json.bad").exists()


def test_cli_lists_challenges_with_best_scores(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TEACH_SGD_DATA_DIR", str(tmp_path))
    scores = Scores.load()
    scores.record("torn-read", [0] * 7)
    scores.save()
    assert main(["challenges"]) == 0
    out = capsys.readouterr().out
    for c in CHALLENGES:
        assert c.id in out
    row = next(line for line in out.splitlines() if line.startswith("torn-read"))
    assert row.split()[-2:] == ["8", "7"]
