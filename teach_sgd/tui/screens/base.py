"""SteadyFooterScreen: a Screen whose footer is rebuilt only when the keys it shows change.

Textual's Footer recomposes every key it shows (mounting a widget per key and styling each) whenever the screen
publishes `bindings_updated`, and a screen publishes it on every `refresh_bindings()`, changed or not. The run
screens refresh their bindings on every pause, resume, start and finish, so each space press rebuilt the
footer: on a busy 2-core machine with 64 workers that took tens of milliseconds of a UI thread which had only a
fifth of a core, and keys lagged behind it (benchmarks/bench_tui.py, part 3). Here a refresh goes through only
when the footer would show something else: another key, description, key label or enabled state.
"""
from __future__ import annotations

from textual.binding import Binding
from textual.screen import Screen

# The app's quit and help keys, bound again by every screen with many keys right after its back key (h/Esc), at
# the head of its BINDINGS: Textual's footer lists the focused widget's keys, then the screen's, then the app's,
# and cuts what does not fit, so at 80 or 120 columns a live run's keys pushed these three off the end.
QUIT_HELP = [Binding("q", "app.quit", "Quit"), Binding("question_mark,f1", "app.help", "Help", key_display="?")]


class SteadyFooterScreen(Screen):
    _footer_shows: tuple | None = None

    def refresh_bindings(self) -> None:
        if self not in self.app.screen_stack:  # being removed (the app closing): no footer to show, and reading
            return                             # the keys would ask for the current screen of an empty stack
        shows = tuple((key, b.binding.description, b.binding.key_display, b.binding.show, b.enabled)
                      for key, b in self.active_bindings.items())
        if shows != self._footer_shows:
            self._footer_shows = shows
            super().refresh_bindings()
