"""Outside CPU load for benchmarks: n busy processes for the duration of a with-block, as on a busy laptop.

    with Busy(2):
        ...   # measured while two other processes compete for the cores
"""
from __future__ import annotations

import multiprocessing


def _spin() -> None:
    while True:
        pass


class Busy:
    def __init__(self, n: int):
        self.n = n
        self.procs: list[multiprocessing.Process] = []

    def __enter__(self) -> "Busy":
        self.procs = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(self.n)]
        for p in self.procs:
            p.start()
        return self

    def __exit__(self, *exc) -> None:
        for p in self.procs:
            p.terminate()
            p.join()
