"""A deterministic simulator of asynchronous shared-memory SGD (Alistarh, De Sa and Konstantinov, PODC 2018).

n virtual threads run SGD on one shared model, one instruction per step; a scheduler, a saved schedule or a
learner decides who steps next. Modules: program (the instructions), machine (the step machine), delay (what
τ_max bounds and the leash that keeps it), schedulers, objectives, run (iterations to ε), sweep (τ_max × α),
report (table and plot), cli (`teach-sgd simulate`).
"""
from .events import CasFailed, Completed, Dropped, LostUpdate
from .machine import Machine, StepRefused, ThreadInfo
from .objectives import Logistic, Quadratic
from .run import Outcome, run_until
from .schedulers import BoundedDelay, Random, Replay, RoundRobin, StaleRead, make_scheduler
from .sweep import SweepConfig, SweepResult, predicted_threshold, sweep

__all__ = ["BoundedDelay", "CasFailed", "Completed", "Dropped", "Logistic", "LostUpdate", "Machine", "Outcome",
           "Quadratic", "Random", "Replay", "RoundRobin", "StaleRead", "StepRefused", "SweepConfig", "SweepResult",
           "ThreadInfo", "make_scheduler", "predicted_threshold", "run_until", "sweep"]
