"""Objectives for the simulator: c-strongly convex, with known minimiser x*, and a stochastic gradient.

An objective is immutable; all randomness comes from the generator the caller passes, so a thread's k-th
gradient depends only on the seed, the thread and its view — never on how the threads were interleaved.
"""
from __future__ import annotations

import numpy as np

OBJECTIVES = ("quadratic", "logistic")


class Quadratic:
    """f(x) = (c/2)‖x‖², x* = 0; the stochastic gradient is c·x + noise·ξ with ξ ~ N(0, I).

    With noise 0 one step is x ↦ (1 − α·c)·x, which makes the stale-read threshold exactly derivable.
    """

    name = "quadratic"

    def __init__(self, d: int = 4, c: float = 1.0, noise: float = 0.0):
        if d < 1 or not c > 0 or not noise >= 0:
            raise ValueError("the quadratic needs d ≥ 1, c > 0 and noise ≥ 0")
        self.d, self.c, self.noise = int(d), float(c), float(noise)
        self.x_star = np.zeros(self.d)

    def loss(self, x: np.ndarray) -> float:
        return 0.5 * self.c * float(x @ x)

    def gradient(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        g = self.c * x
        if self.noise:
            g = g + self.noise * rng.standard_normal(self.d)
        return g

    def default_x0(self) -> np.ndarray:
        return np.ones(self.d)

    def spec(self) -> dict:
        return {"name": self.name, "d": self.d, "c": self.c, "noise": self.noise}


class Logistic:
    """L2-regularised logistic regression on a small synthetic dataset, one sample per gradient.

    f(w) = (1/m)·Σ log(1 + exp(−y_i·a_i·w)) + (c/2)‖w‖², so the regulariser c is the strong-convexity
    constant. The dataset (m points in d dimensions, labels from a random hyperplane with label noise) is a
    pure function of `data_seed`; x* is found by Newton's method at construction.
    """

    name = "logistic"

    def __init__(self, d: int = 4, c: float = 0.1, samples: int = 64, data_seed: int = 0):
        if d < 1 or not c > 0 or samples < 1:
            raise ValueError("logistic regression needs d ≥ 1, c > 0 and at least one sample")
        self.d, self.c, self.samples, self.data_seed = int(d), float(c), int(samples), int(data_seed)
        rng = np.random.default_rng(self.data_seed)
        self.a = rng.standard_normal((self.samples, self.d))
        w_true = rng.standard_normal(self.d)
        self.y = np.where(self.a @ w_true + 0.5 * rng.standard_normal(self.samples) >= 0, 1.0, -1.0)
        self.x_star = self._newton()

    def loss(self, x: np.ndarray) -> float:
        return float(np.mean(np.logaddexp(0.0, -self.y * (self.a @ x)))) + 0.5 * self.c * float(x @ x)

    def gradient(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        i = rng.integers(self.samples)
        margin = self.y[i] * (self.a[i] @ x)
        return -self.y[i] * _sigmoid(-margin) * self.a[i] + self.c * x

    def default_x0(self) -> np.ndarray:
        return np.zeros(self.d)

    def spec(self) -> dict:
        return {"name": self.name, "d": self.d, "c": self.c, "samples": self.samples, "data_seed": self.data_seed}

    def _newton(self) -> np.ndarray:
        # f is c-strongly convex and smooth, so undamped Newton from 0 converges quadratically here;
        # 50 steps is far more than the ~10 it needs to reach machine precision.
        w = np.zeros(self.d)
        for _ in range(50):
            p = _sigmoid(-self.y * (self.a @ w))
            grad = -(self.a.T @ (self.y * p)) / self.samples + self.c * w
            hess = (self.a.T * (p * (1 - p))) @ self.a / self.samples + self.c * np.eye(self.d)
            w = w - np.linalg.solve(hess, grad)
            if np.linalg.norm(grad) < 1e-14:
                break
        return w


def _sigmoid(z):
    return np.exp(-np.logaddexp(0.0, -z))


def make_objective(spec: dict):
    """Rebuild an objective from its `spec()` (used to save and replay runs)."""
    kwargs = {k: v for k, v in spec.items() if k != "name"}
    if spec.get("name") == "quadratic":
        return Quadratic(**kwargs)
    if spec.get("name") == "logistic":
        return Logistic(**kwargs)
    raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}, not {spec.get('name')!r}")
