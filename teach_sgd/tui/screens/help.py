"""HelpScreen: what every panel shows and every key does."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Markdown

from teach_sgd.engine.config import FORM
from teach_sgd.sim.config import SIM_SETTINGS
from teach_sgd.tui.widgets.dashboard import SAMPLE_HZ
from teach_sgd.tui.widgets.too_small import TooSmall


def _rows(settings) -> str:
    """One table row per declared form setting: its label and what it means."""
    return "\n".join(f"| {s.label} | {s.help_with_default()} |" for s in settings)


HELP = f"""\
# teach-sgd — help

Real threads race through asynchronous SGD. Every number on the dashboard is read live from the engine
({SAMPLE_HZ:g} times a second); nothing is simulated.

## Screens
- **Home** — lessons, the Playground, Compare, this help.
- **Playground** — one run, your settings, watched live.
- **Compare** — two runs on the same seed and data (HOGWILD! vs Leashed-SGD by default), side by side,
  ending with a results table.
- **Simulator** — not the native engine but a deterministic model of it: virtual threads take one
  instruction per step, a scheduler (or you) decides who goes next, and every step can be undone.
- Press **Ctrl+P** for the command palette: every screen and lesson is there.

## Settings (the toolbar)
| field | meaning |
|---|---|
{_rows(FORM)}

Press **Enter** in a field (or **s** elsewhere) to start; starting again restarts with the new settings.

## The dashboard
- **Status line** — state (RUNNING, PAUSED, FINISHED, STOPPED, DIVERGED, COLLAPSED), seconds, published
  updates, updates/s, current loss (and the initial loss), accuracy (training samples while running, the
  test split at the end).
- **threads** — one row per worker thread, with the columns its algorithm has (no column of zeros).
  Every algorithm: *state* (what the thread is doing now), *updates* it published, *τ mean / τ max*: the
  staleness of its updates.
  LOCK: *lock wait s*, seconds spent waiting for the lock; *µs/upd*, that wait per published update.
  HOGWILD!: *torn*: reads of θ during which another thread applied an update (the copy may be part old, part
  new); *obs writes*: coordinate writes watched for being lost (every 797th cache line of θ, 16 coordinates, a
  different set each update, is written with atomic exchanges); *lost wr*: of those, coordinate writes that overwrote another thread's write;
  *≈lost wr all*: the lost coordinate writes over every coordinate, estimated as lost / observed ×
  coordinates written, with only the digits its sample supports (one from fewer than 10 lost writes seen,
  two from fewer than 100). The unit is one coordinate's write, not an update: an update writes every
  coordinate (dense), and a lost write takes away one coordinate of it.
  Leashed-SGD: *CAS ok / CAS fail*, successful and failed compare-and-swaps on the version pointer (a failure
  means another thread published first: the update is rebuilt on the newer version, or at the bound Tp
  dropped); *fail/upd*, failed CAS per published update (at Tp = 0 each failure dropped a gradient, none is
  retried); *dropped*, gradients thrown away after Tp failed retries. With the delay adversary (the *delay*
  field) the table's subtitle names the delayed thread: "t0 delayed τ=4".
  Each bar is scaled to the largest value in its column; the thread holding that maximum is drawn bright, so
  the busiest and the most-retrying thread stand out. Move the cursor (↑/↓) to select a thread.
- **staleness τ** — histogram of τ = the number of versions published between the one a thread read and
  the one its update landed on. Left: all threads; right: the selected thread. The last row folds the tail.
- **live versions** — how many parameter vectors exist over time. Leashed-SGD builds a new version per
  update and frees old ones when no thread reads them: the red line is the bound 2m+1, the yellow line the
  peak so far. LOCK and HOGWILD! hold θ plus one private copy per thread (m+1), constant.
- **loss** — training loss over wall-clock seconds, log scale (plotext).
- **updates/s** — throughput over time (sparkline), now and mean.
- **timeline** — a lane per thread from the run's real events: an update is a bar from the version it read to
  the one it published (its length is τ + 1); ✗ failed CAS, ⊘ dropped, w lock wait, ! HOGWILD! lost write.
  Tab to it: p follow/hold · ←→ scroll · +- zoom · [ ] select an event and read its story · {{ }} jump to
  the previous/next ✗ ! ⊘ in the whole run · v axis.
- A **DIVERGED** banner appears when the loss becomes non-finite or explodes; the run is stopped.
- A **COLLAPSED** banner appears when a run ends no better than chance with its loss stuck near ln(classes)
  (ln 10 ≈ 2.30), and says why: too large a step killed the ReLUs (the loss had moved more than 1% from its
  start), or it never moved (a deep MLP from the paper's tiny initial weights: too little signal gets through).
- **results** (Compare) — one column per run: status, throughput, loss, accuracy, then the columns of both
  algorithms as totals ("—" where a run's algorithm has no such number; lost writes and torn reads are 0
  by construction for LOCK and Leashed-SGD), peak versions, diverged, collapsed.

## Keys
| key | action |
|---|---|
| s / Enter | start or restart with the settings shown |
| space | pause / resume |
| x | stop the run |
| e | export the finished run: JSON, CSV and an SVG screenshot (the path is shown) |
| R | record the ended run(s): every event, the snapshots and the result (`teach-sgd replay FILE` plays it) |
| > < | slow motion: 1×, 10×, 100×, 1000× — the windows that decide races last that much longer; staleness and torn reads keep their rate, while lost writes and failed CAS rise and lock waits fall (measured: README, Slow motion); a breakpoint makes one race on demand |
| P | presenter view (projector): the race in big digits, loss curves, big timelines, high contrast (t: theme) |
| c | in a lesson: the same run recorded on 16 real cores (shown only when such a recording is installed) |
| K | in a lesson that names a class file: your class's machines plotted, read-only (h/Esc back to the lesson) |
| ↑ ↓ | select a thread (histogram), with the thread table focused |
| , . | select the previous / next thread from anywhere (Compare: A's threads, then B's) — live runs only |
| b / B | breakpoint: the selected thread (B: every thread) stops at its algorithm's next protocol point; each press moves it on, after the last point none |
| f / F | freeze the selected thread where it is, or let it go if it is held (F: every thread of its run) |
| o | step: the selected thread goes on to its next protocol point and stops there |
| u / U | continue: every held thread goes on, breakpoints stay (U: clear every breakpoint and freeze) |
| Tab | move between fields and panels |
| h / Esc | back to Home |
| ? / F1 | this help |
| Ctrl+P | command palette |
| q / Ctrl+C | quit (running threads are stopped first) |

**Breakpoints on real threads** (Playground, Compare, a lesson's live run, the presenter view; the footer
shows , . b f o u while a run is live, from every panel and field; a field types only what its value can
hold — "," in hidden, "." in step lr and budget — and the footer then leaves that key out: Enter hands it on).
Each algorithm's threads pass named protocol points: SEQ start, computed, applied · LOCK start, holding,
copied, read, computed, waiting, applied (it holds the lock at holding, copied and applied) · HOGWILD! start, read,
computed, writing (its coordinates read, not yet written), counted · Leashed-SGD start, read, computed, cas
(the candidate built, its CAS next), retry · SYNC start, computed, barrier, applied. A held thread's *state*
reads `@point` (e.g. `@cas`), its timeline lane ends in "■ held at point", Compare's thread tables say
"held @cas: t0". While a thread is held the status line gives the others' measured rate (their published
updates since it was held, per second) and the algorithm's progress guarantee: LOCK and SYNC are
**blocking** (a thread held inside the lock, or before the barrier, stops every other — the others queue at
*lock wait*); Leashed-SGD is **lock-free** (a held thread stops no one; some thread always publishes, but one
thread's CAS can fail again and again); HOGWILD! is **wait-free**, trivially, because it does not
synchronise at all (which is why it loses writes). Held threads never outlive their run: x, Ctrl+C and the
budget still end it. In slow motion with more threads than cores the status line adds "N threads on K
cores": each thread computes about 1/S of its time, so together they need about N/S cores; whether they
then race as on N real cores is not measured here. On a busy machine (Linux) the run's status line adds "busy
machine: threads had a core N% of their ready time": the workers waited for a core that much more than their
number explains, and its rates and races are the load's as much as the algorithm's (the app's workers run below
every other program, so that these keys stay quick). Lessons 2, 3, 5, 6 and 16 have race steps (✋ in the
outline): r starts real threads held where the race begins, the text says which of these keys to press next
and quotes the engine's counters after each, and a key that would spoil the race is refused, with the reason.

**Replay** (`teach-sgd replay FILE`): space play/pause · , . one sample back/on · < > speed 0.1×–50× ·
0–9 jump to 0–90 % · Home/End · g jump to a typed time · e export JSON, events CSV, timeline SVG · P presenter
view (same player) · h/Esc back.

**A class** (`teach-sgd class host --ui`; students: Join a class on Home, or `teach-sgd --class HOST:PORT CODE`):
the instructor's o asks the highlighted lesson question · r reveals it (every student's machine runs its
experiment) · c closes it · x has every machine run the class experiment · m cycles the machines plot ·
e exports JSON, CSV and a class file. A student's Enter sends the highlighted prediction · x runs the class
experiment here (3 runs of 3 s) and sends the results.

## The simulator
The asynchronous shared-memory model of Alistarh, De Sa and Konstantinov (PODC 2018), stepped one
instruction at a time. *n* virtual threads each repeat: read the model coordinate by coordinate (so a view
can mix old and new values), compute a stochastic gradient on that view, write it back. A **scheduler**
decides which thread takes the next step. Everything is seeded: the same settings and keys give the same run.

| setting | meaning |
|---|---|
{_rows(SIM_SETTINGS.values())}

Enter in a field, or a new choice in a drop-down, applies the settings (a new machine at step 0 if
anything but the scheduler changed); **r** resets with the settings shown.

- **Status line** — MANUAL, RUNNING, PAUSED or DIVERGED; the scheduler and its speed; what the last key did
  (which instruction ran, a lost update or failed CAS it caused, or why the leash refused a step).
- **shared memory X** — the shared model (in Leashed mode: the version *v* that P points to), the coordinate
  written by the last step in yellow, the minimiser x\\*, ‖X−x\\*‖², f(X)−f\\*, the largest delay so far and
  the counters: steps, completed iterations, lost writes (coordinate writes a STORE erased), failed CAS,
  dropped gradients. Its bottom line
  gives the stale-read threshold: against that adversary, with exact gradients, the run diverges iff
  α ≥ 2/((τ+1)c).
- **thread k · key k+1** — one panel per thread. First line: its program (R = read x[j], ∇g = gradient,
  F = fetch-and-add, L/S = load/store, P→t0 / P→t1 = read the pointer, build, CAS), done instructions dim,
  the next one highlighted. *next*: the instruction it will run, with a warning when that STORE will erase
  writes or that CAS will fail. *view*: its local copy of the model (· = not read yet in this iteration).
  *g*: its gradient. *delay*: how many other iterations completed since its iteration started, as a bar
  against τ_max. The panel of the thread that took the last step is highlighted; a red panel is refused
  by the leash right now.
- **convergence** — ‖X−x\\*‖² (green) and f(X)−f\\* (magenta) after each completed iteration, log scale.
- **event log** — newest at the bottom: ✓ iterations completed (with their delay), ✗ lost writes,
  ✗ failed CAS, ✗ dropped gradients; the counters are on its bottom border.

| key | action |
|---|---|
| space | run / pause the scheduler |
| . | one step of the scheduler's choice |
| 1 … 9 | manual scheduler: step thread 0 … 8 |
| u | undo the last step (exact: the run is replayed up to there) |
| r | reset to step 0 with the settings shown |
| w | save the machine and its schedule as JSON (the path is shown; `Machine.load(path)` replays it) |
| + / − | run faster / slower (1 to 10,000 steps a second) |
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
