"""Building engine Runners from the UI: the step every screen that runs training takes alike (stopping one is
teach_sgd.runs.session.stop_runner; what the keys then do, RunSession).

    runners = await build_runners(app, config_a, config_b, say=screen.say)  # None if they could not be built
"""
from __future__ import annotations

import asyncio

from teach_sgd.engine.runner import WORKER_NICE, Runner


async def build_runners(app, *configs, say) -> list | None:
    """One Runner per config, built side by side in threads (loading the data and the model takes a while, and
    the UI must keep drawing meanwhile), then registered with the app so that quitting stops them.

    Kernels not yet compiled for these configs are compiled first, in a subprocess, with the status line
    showing progress. If any cannot be built (a data error, say), that is said in one sentence with
    `say(text, style)`, not as a traceback, and the result is None: then none is registered."""
    with app.runs_wanted():  # no background compile starts meanwhile (TeachSGDApp.prepare_kernels)
        # a CNN kernel is compiled on first use (the app warms the MLP's at start): never inside a run's thread
        if not await app.ensure_kernels({(c.algo, c.model) for c in configs}):
            say("✗ the kernels failed to compile, so nothing can run: see the status line", "bold red")
            return None
        try:
            runners = await asyncio.gather(*(asyncio.to_thread(Runner, c, WORKER_NICE) for c in configs))
        except Exception as e:
            say(f"✗ {e}", "bold red")
            return None
    for runner in runners:
        app.register_runner(runner)
    return list(runners)

