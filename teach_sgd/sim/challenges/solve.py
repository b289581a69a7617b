"""Bounded search for a winning schedule: breadth first over boards, each board visited once (by its key).

Used by the hints ("a step that still wins within the limit") and by the tests, which prove every challenge
solvable within its step limit — and the impossible machine challenge unsolvable within it.
"""
from __future__ import annotations

import copy

from teach_sgd.lessons import rules


def shortest_win(game, goal: str, limit: int) -> list[int] | None:
    """The fewest further steps (thread ids) from `game`'s board that reach `goal` within `limit` steps in
    all, or None if no schedule does. `game` itself is not changed."""
    tree = rules.parse(goal)
    if reached(game, tree):
        return []
    frontier = [(game, [])]
    seen = {game.key()}
    while frontier and len(game.schedule) + len(frontier[0][1]) < limit:
        nxt = []
        for board, path in frontier:
            for tid in board.enabled():
                child = copy.deepcopy(board)
                child.step(tid)
                if reached(child, tree):
                    return path + [tid]
                key = child.key()
                if key not in seen:
                    seen.add(key)
                    nxt.append((child, path + [tid]))
        frontier = nxt
    return None


def reached(game, tree) -> bool:
    return bool(rules.evaluate(tree, Facts(game.facts())))


class Facts(rules.Scope):
    """A board's facts as the names a goal rule may use."""

    def __init__(self, facts: dict):
        self.facts = facts

    def lookup(self, name: str):
        if name not in self.facts:
            raise rules.RuleError(f"unknown fact {name!r}: a goal may name {', '.join(self.facts)}")
        return self.facts[name]

    def names(self) -> list[str]:
        return list(self.facts)
