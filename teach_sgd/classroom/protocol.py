"""What crosses the network in a class, and the checks every request passes before anything is stored.

Every request is a POST with a JSON object body of at most MAX_BODY bytes, and carries the class's join code:

    /join     {code, nickname}                                  → {student, nickname}
    /state    {code, student}                                   → {question: {seq, lesson, checkpoint} | null,
                                                                   revealed: bool, class_runs: int}
    /predict  {code, student, id, seq, choice}                  → {stored: bool}  (false: a resend, kept once)
    /result   {code, student, id, experiment, machine, summary,
               seq?, measured?}                                 → {stored: bool}
    /export   {code}                                            → {results: [{nickname, machine, summary, …}]}

`class_runs` counts the instructor's requests to run the class experiment: a student's app runs it once for
each. `id` is a record id the *client* draws once (32 hex digits) and sends again on every retry, so a record that
arrives twice (the answer to the first send was lost) is stored once. `student` is the token /join gave.

Nothing sent names a file, a path or code to run: every string is checked against a closed set of values
(algorithms, models, datasets, statuses, lesson and checkpoint ids that exist) or cut down to a small
alphabet with no markup characters (nicknames, the CPU model, the OS). Numbers must be finite or null.
A request that breaks any rule raises Refused (HTTP 4xx, one sentence); nothing of it is stored.
"""
from __future__ import annotations

import math
import re
import secrets
import unicodedata

from teach_sgd.engine.config import ALGOS, DATASETS, MAX_THREADS, MODELS

MAX_BODY = 64 * 1024                 # bytes per request; a run's summary is ≈ 1 KB
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud and typed from a projector
CODE_LENGTH = 6                      # 31⁶ ≈ 8.9 × 10⁸ codes; the rate limit makes guessing hopeless
NICKNAME_MAX = 24
TEXT_MAX = 60                        # CPU model and OS strings
RECORD_ID = re.compile(r"[0-9a-f]{32}")
STUDENT_ID = re.compile(r"[0-9a-f]{32}")
CODE_RE = re.compile(f"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}")
# what a displayed string may keep: letters and digits of any script, space and a few marks. No [ ] (Rich and
# Textual markup), no < > & (HTML through `teach-sgd serve`), no / \ (paths), no control characters.
_SAFE_EXTRA = set(" -_.'()@+,:#")

STATUSES = ("finished", "stopped", "diverged", "collapsed", "error")
# the class's own many-machine experiment, or a lesson question's (then `seq` and `measured` say which)
EXPERIMENTS = ("class", "question")


class Refused(Exception):
    """A request the class server will not store: `status` is the HTTP status, the message one sentence."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def new_id() -> str:
    """A record or student id: 128 random bits as 32 hex digits."""
    return secrets.token_hex(16)


def clean_text(value, limit: int) -> str:
    """`value` cut down to what may be displayed anywhere: NFKC-normalised, safe characters only, spaces
    collapsed, at most `limit` characters. Markup ([b], [@click=…]) loses its brackets and so its meaning."""
    if not isinstance(value, str):
        return ""
    text = unicodedata.normalize("NFKC", value)
    kept = "".join(ch for ch in text if ch in _SAFE_EXTRA or (ch.isalnum() and unicodedata.category(ch)[0] in "LN"))
    return " ".join(kept.split())[:limit].strip()


def nickname(value) -> str:
    name = clean_text(value, NICKNAME_MAX)
    if not name:
        raise Refused("a nickname needs at least one letter or digit (up to 24 characters)", 422)
    return name


def code_of(body: dict) -> str:
    code = body.get("code")
    if not isinstance(code, str) or not CODE_RE.fullmatch(code.upper()):
        raise Refused("wrong join code", 403)
    return code.upper()


def token(body: dict, key: str, pattern: re.Pattern, what: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise Refused(f"{what} missing or malformed", 422)
    return value


def _number(d: dict, key: str, low: float = 0.0, high: float = 1e15, integer: bool = False, null: bool = True):
    v = d.get(key)
    if v is None and null:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not low <= v <= high:
        raise Refused(f"summary field {key!r} must be a number from {low:g} to {high:g}", 422)
    if integer:
        if not float(v).is_integer():
            raise Refused(f"summary field {key!r} must be a whole number", 422)
        return int(v)
    return float(v)


def _choice(d: dict, key: str, allowed, null: bool = False):
    v = d.get(key)
    if v is None and null:
        return None
    if v not in allowed:
        raise Refused(f"summary field {key!r} must be one of {', '.join(map(str, allowed))}", 422)
    return v


def summary(run: dict) -> dict:
    """The part of one run's `--json` (RunResult.to_json) a class shares, flattened and checked: the settings,
    the counts the class plots, and nothing else (no loss curve, no per-thread table, no data folder)."""
    if not isinstance(run, dict):
        raise Refused("a result must be one run's JSON object (`teach-sgd run --json`)", 422)
    flat = {k: run.get(k) for k in FLAT}
    for key, (group, field) in NESTED.items():
        inner = run.get(group)
        flat[key] = inner.get(field) if isinstance(inner, dict) else None
    per_thread = run.get("per_thread")
    for key in TOTALS:  # totals over the threads
        if isinstance(per_thread, list) and all(isinstance(t, dict) for t in per_thread):
            counts = [t.get(key, 0) for t in per_thread]
            ok = all(isinstance(c, int) and not isinstance(c, bool) for c in counts)
            flat[key] = sum(counts) if ok else "?"
    return check_summary(flat)


# the summary on the wire: flat, every key checked by check_summary
FLAT = ("algo", "threads", "model", "dataset", "params", "lr", "batch", "persistence", "seed", "status", "updates",
        "wall_s", "updates_per_s", "loss_initial", "loss_final", "accuracy_final", "diverged")
NESTED = {"staleness_mean": ("staleness", "mean"), "staleness_max": ("staleness", "max"),
          "versions_peak": ("versions", "peak"), "versions_bound": ("versions", "bound"),
          "lost_sampled": ("lost_updates", "lost_sampled"), "sampled_writes": ("lost_updates", "sampled_writes")}
TOTALS = ("cas_fail", "cas_success", "dropped")


def check_summary(d) -> dict:
    """A summary as it arrives: exactly the known keys, each of its kind; Refused (422) naming the first that
    is not. Unknown keys are dropped, so nothing else is ever stored."""
    if not isinstance(d, dict):
        raise Refused("summary must be an object", 422)
    out = {
        "algo": _choice(d, "algo", ALGOS),
        "threads": _number(d, "threads", 1, MAX_THREADS, integer=True, null=False),
        "model": _choice(d, "model", MODELS),
        "dataset": _choice(d, "dataset", DATASETS),
        "params": _number(d, "params", 1, 1e9, integer=True),
        "lr": _number(d, "lr", 0, 1e6),
        "batch": _number(d, "batch", 1, 1e6, integer=True),
        "persistence": _number(d, "persistence", 0, 1e9, integer=True),
        "seed": _number(d, "seed", 0, 2 ** 63, integer=True),
        "status": _choice(d, "status", STATUSES),
        "updates": _number(d, "updates", 0, 1e15, integer=True, null=False),
        "wall_s": _number(d, "wall_s", 0, 1e7, null=False),
        "updates_per_s": _number(d, "updates_per_s", 0, 1e12),
        "loss_initial": _number(d, "loss_initial", 0, 1e30),
        "loss_final": _number(d, "loss_final", 0, 1e30),
        "accuracy_final": _number(d, "accuracy_final", 0, 1),
        "diverged": _flag(d, "diverged"),
        "staleness_mean": _number(d, "staleness_mean", 0, 1e12),
        "staleness_max": _number(d, "staleness_max", 0, 1e15, integer=True),
        "versions_peak": _number(d, "versions_peak", 0, 1e9, integer=True),
        "versions_bound": _number(d, "versions_bound", 0, 1e9, integer=True),
        "lost_sampled": _number(d, "lost_sampled", 0, 1e15, integer=True),
        "sampled_writes": _number(d, "sampled_writes", 0, 1e15, integer=True),
    }
    for key in TOTALS:
        out[key] = _number(d, key, 0, 1e15, integer=True)
    return out


def _flag(d: dict, key: str) -> bool:
    v = d.get(key)
    if not isinstance(v, bool):
        raise Refused(f"summary field {key!r} must be true or false", 422)
    return v


def machine(value) -> dict:
    """{cores, cpu, os}: cores a whole number, the two strings cut to the safe alphabet."""
    if not isinstance(value, dict):
        raise Refused("machine must be an object {cores, cpu, os}", 422)
    cores = value.get("cores")
    if isinstance(cores, bool) or not isinstance(cores, int) or not 1 <= cores <= 4096:
        raise Refused("machine cores must be a whole number from 1 to 4096", 422)
    return {"cores": cores, "cpu": clean_text(value.get("cpu"), TEXT_MAX) or "unknown CPU",
            "os": clean_text(value.get("os"), TEXT_MAX) or "unknown OS"}


# ---- what the instructor's screen computes from a stored summary -----------------------------------------
def lost_per_write(s: dict) -> float | None:
    """HOGWILD!: lost writes per observed write (the shadow audit's fraction, engine/state.py), or None."""
    if s.get("algo") != "hogwild" or not s.get("sampled_writes"):
        return None
    return s["lost_sampled"] / s["sampled_writes"]


def cas_fail_per_update(s: dict) -> float | None:
    """Leashed-SGD: failed CAS per published update, or None."""
    if s.get("algo") != "leashed" or not s.get("updates") or s.get("cas_fail") is None:
        return None
    return s["cas_fail"] / s["updates"]
