"""Challenges: play the scheduler to reach a goal within a step limit (catalog, game, play, solve, progress)."""
from .catalog import BY_ID, CHALLENGES, Challenge
from .play import Attempt, AttemptOver, Verdict
from .progress import Scores

__all__ = ["BY_ID", "CHALLENGES", "Attempt", "AttemptOver", "Challenge", "Scores", "Verdict"]
