"""HelpScreen: what every panel shows and every key does."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Markdown

from teach_sgd.tui.widgets.too_small import TooSmall

HELP = """\
# teach-sgd — help

Real threads race through asynchronous SGD. Every number on the dashboard is read live from the engine
(10–20 times a second); nothing is simulated.

## Screens
- **Home** — lessons, the Playground, Compare, this help.
- **Playground** — one run, your settings, watched live.
- **Compare** — two runs on the same seed and data (HOGWILD! vs Leashed-SGD by default), side by side,
  ending with a results table.
- Press **Ctrl+P** for the command palette: every screen and lesson is there.

## Settings (the toolbar)
| field | meaning |
|---|---|
| algorithm | SEQ (one thread), LOCK (one global lock), HOGWILD! (no lock, racy writes), Leashed-SGD (lock-free, CAS on a version pointer) |
| threads m | worker threads, each a real native thread |
| model / hidden | MLP (hidden layer widths, e.g. `128,64`) or the small CNN |
| step lr | the step size η; too large and the loss explodes |
| batch | mini-batch size per gradient |
| persist Tp | Leashed-SGD persistence bound: failed CAS retries before a gradient is dropped (`inf` = never drop) |
| budget | `3000` updates, `10s` seconds, or `2ep` epochs |
| seed | the same seed gives the same data order and initial model |

Press **Enter** in a field (or **s** elsewhere) to start; starting again restarts with the new settings.

## The dashboard
- **Status line** — state (RUNNING, PAUSED, FINISHED, STOPPED, DIVERGED), seconds, published updates,
  updates/s, current loss (and the initial loss), accuracy on held-out samples.
- **threads** — one row per worker thread. *updates*: updates it published. *CAS ok / CAS fail*:
  successful and failed compare-and-swaps on the version pointer (Leashed-SGD only; a failure means another
  thread published first, so the update is rebuilt on the newer version). *dropped*: gradients thrown away
  after Tp failed retries. *τ mean / τ max*: staleness of its updates. *lock wait s*: seconds spent waiting
  for the lock (LOCK only). Each bar is scaled to the largest value in its column; the thread holding that
  maximum is drawn bright, so the busiest and the most-retrying thread stand out. Move the cursor (↑/↓) to
  select a thread.
- **staleness τ** — histogram of τ = the number of versions published between the one a thread read and
  the one its update landed on. Left: all threads; right: the selected thread. The last row folds the tail.
- **live versions** — how many parameter vectors exist over time. Leashed-SGD builds a new version per
  update and frees old ones when no thread reads them: the red line is the bound 2m+1, the yellow line the
  peak so far. LOCK and HOGWILD! hold θ plus one private copy per thread (m+1), constant.
- **loss** — training loss over wall-clock seconds, log scale (plotext).
- **updates/s** — throughput over time (sparkline), now and mean.
- A **DIVERGED** banner appears when the loss becomes non-finite or explodes; the run is stopped.

## Keys
| key | action |
|---|---|
| s / Enter | start or restart with the settings shown |
| space | pause / resume |
| x | stop the run |
| e | export the finished run: JSON, CSV and an SVG screenshot (the path is shown) |
| ↑ ↓ | select a thread (histogram) |
| Tab | move between fields and panels |
| h / Esc | back to Home |
| ? / F1 | this help |
| Ctrl+P | command palette |
| q / Ctrl+C | quit (running threads are stopped first) |
"""


class HelpScreen(ModalScreen):
    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("question_mark", "dismiss", "Close", show=False),
        Binding("f1", "dismiss", "Close", show=False),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90%; height: 90%; border: thick $primary; background: $surface; }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown(HELP)
        yield Footer()
        yield TooSmall()
