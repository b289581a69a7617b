"""What the Pilot tests of the Textual app share (test_tui, test_tui_lesson, test_tui_simulator).

Imported as `from tui_helpers import ...`: tests/ has no __init__.py, so pytest puts tests/ itself on sys.path
(and conftest.py has pytest rewrite the asserts in here, as in a test module).
"""
from __future__ import annotations

import asyncio
import functools
import inspect
import time

SIZE = (120, 40)   # the terminal the tests run in: above the app's 80×24 minimum, with room for every panel


def sync(fn):
    """Run an async test with asyncio.run (the project has no pytest async plugin)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return asyncio.run(fn(*args, **kwargs))
    wrapper.__signature__ = inspect.signature(fn)
    return wrapper


async def until(cond, timeout: float = 30.0, poll: float = 0.05, why=None) -> None:
    """Wait, letting the app run, until `cond()` is true; fail after `timeout` seconds, saying `why()` (what was
    last seen) when given."""
    t0 = time.monotonic()
    while not cond():
        assert time.monotonic() - t0 < timeout, why() if why else "timed out"
        await asyncio.sleep(poll)


async def open_screen(app, pilot, key: str, screen_type):
    """Press `key` (on the home screen) and return the screen it opened, which must be a `screen_type`."""
    await pilot.press(key)
    screen = app.screen
    assert isinstance(screen, screen_type)
    return screen


SIZES = ((80, 24), (120, 40), (200, 55))   # every screen has a layout for each (issue 16 point 11)


def screen_lines(app) -> list[str]:
    """What the terminal shows now, as plain text lines (the compositor's strips, modal screens included)."""
    return [strip.text for strip in app.screen._compositor.render_strips()]
