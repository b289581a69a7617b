"""Read lesson files: Markdown with TOML front matter between `+++` lines → Lesson objects.

    lessons, errors = load_lessons(extra_dir=None)     # the shipped lessons (+ an instructor's folder)
    lesson = load_lesson(path)                         # one file; raises LessonLoadError (with .errors)
    lesson = resolve(extra_dir, "3")                   # what `teach-sgd lesson 3` means (or LessonNotFound)

Loading never raises for a bad file: every problem becomes a LessonError(file, line, message), and the
other lessons still load. Line numbers are lines of the lesson file (1-based): TOML syntax errors carry
tomllib's line, shifted past the opening `+++`; semantic errors point at the line of the offending key.
"""
from __future__ import annotations

import keyword
import re
import sys
from dataclasses import replace
from pathlib import Path

from teach_sgd.engine.config import SETTINGS as RUN_SETTINGS
from teach_sgd.engine.config import RunConfig, repeat_count
from teach_sgd.engine.sharing import SETTINGS as SHARING_SETTINGS
from teach_sgd.engine.sharing import SharingConfig
from teach_sgd.errors import ConfigError, UsageError
from teach_sgd.lessons import rules
from teach_sgd.lessons.machine import machine_text
from teach_sgd.lessons.races import RACES
from teach_sgd.sim.challenges.catalog import BY_ID as CHALLENGES_BY_ID
from teach_sgd.sim.config import SWEEP_SETTINGS, SweepConfig
from teach_sgd.lessons.schema import (
    ASK_WHEN, CHANGE_SETTINGS, EXPERIMENT_KINDS, HEADLESS_KINDS, SWEEP_OVER, Change, Checkpoint, Experiment, Lesson,
    LessonError, RunSpec, Step,
)
from teach_sgd.lessons.checkpoints import check

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10: the tomli backport, if installed
    try:
        import tomli as tomllib
    except ImportError:
        tomllib = None

FENCE = "+++"
MARKER = re.compile(r"^\s*<!--\s*(?P<kind>experiment|race)\s*:\s*(?P<id>[^\s>]*)\s*-->\s*$")
ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
RESERVED = set(rules.FUNCTIONS) | set(rules.REPEAT_FUNCTIONS) | set(rules.CONSTANTS) | {"at", "correct", "correct_text", "chosen", "chosen_text"}

LESSON_KEYS = {"id", "title", "minutes", "summary", "order", "papers", "challenges", "class_file", "experiments",
               "checkpoints"}
EXPERIMENT_KEYS = {"id", "kind", "title", "note", "base", "runs", "over", "values", "sim", "sharing", "export",
                   "repeat", "change"}
CHANGE_KEYS = {"run", "setting", "values", "prompt"}
CHECKPOINT_KEYS = {"id", "experiment", "question", "choices", "answer", "explain", "explain_when", "undecided",
                   "ask"}


class LessonLoadError(Exception):
    def __init__(self, errors: list[LessonError]):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


# ---- where lessons live -----------------------------------------------------------------------------------
def builtin_dirs() -> list[Path]:
    """The shipped lessons: `lessons/` beside the package (a source checkout or editable install), or the
    copy packaged inside it (`teach_sgd/lessons_builtin/`, for wheels)."""
    pkg = Path(__file__).resolve().parent.parent  # teach_sgd/
    out = []
    for d in (pkg.parent / "lessons", pkg / "lessons_builtin"):
        if d.is_dir() and any(d.glob("*.md")):
            out.append(d)
            break
    return out


def lesson_files(folder: Path) -> list[Path]:
    """Every `*.md` in the folder except README.md (documentation, not a lesson)."""
    return sorted(p for p in Path(folder).glob("*.md") if p.name.lower() != "readme.md")


def load_lessons(extra_dir: str | Path | None = None, include_builtin: bool = True
                 ) -> tuple[list[Lesson], list[LessonError]]:
    """All lessons, sorted by (order, id), and every error found. A lesson in `extra_dir` replaces a shipped
    lesson with the same id (an instructor's edited copy). A missing `extra_dir` is one error."""
    found: dict[str, Lesson] = {}
    errors: list[LessonError] = []
    dirs = list(builtin_dirs()) if include_builtin else []
    if extra_dir is not None:
        d = Path(extra_dir).expanduser()
        if not d.is_dir():
            errors.append(LessonError(str(d), 0, "lesson folder not found"))
        else:
            dirs.append(d)
    for d in dirs:
        seen_here: dict[str, Path] = {}
        for path in lesson_files(d):
            try:
                lesson = load_lesson(path)
            except LessonLoadError as e:
                errors.extend(e.errors)
                continue
            except Exception as e:  # a loader bug must not hide the other lessons
                errors.append(LessonError(str(path), 0, f"could not be read ({type(e).__name__}: {e})"))
                continue
            if lesson.id in seen_here:
                errors.append(LessonError(str(path), 1, f"lesson id {lesson.id!r} is already used by "
                                                        f"{seen_here[lesson.id].name}"))
                continue
            seen_here[lesson.id] = path
            found[lesson.id] = lesson
    return sorted(found.values(), key=lambda l: (l.order, l.id)), errors


def find_lesson(lessons: list[Lesson], wanted: str) -> Lesson | None:
    """By id ('03-hogwild'), by number ('3'), or by a unique id prefix ('03', 'hog…' after the number)."""
    wanted = str(wanted).strip()
    for l in lessons:
        if l.id == wanted:
            return l
    if wanted.isdigit():
        hits = [l for l in lessons if l.number == int(wanted)]
        if len(hits) == 1:
            return hits[0]
    hits = [l for l in lessons if l.id.startswith(wanted) or l.id.split("-", 1)[-1].startswith(wanted)]
    return hits[0] if len(hits) == 1 else None


class LessonNotFound(UsageError):
    """`teach-sgd lesson ID` named no loadable lesson: one line on stderr, exit status 2."""


def resolve(extra_dir, wanted: str) -> Lesson:
    """The lesson `teach-sgd lesson ID` means (by id, number or unique prefix)."""
    lessons, errors = load_lessons(extra_dir)
    lesson = find_lesson(lessons, wanted)
    if lesson is None:
        bad = [e for e in errors if wanted in e.file]
        if bad:
            raise LessonNotFound(f"lesson {wanted!r} has errors: {bad[0]}")
        raise LessonNotFound(f"no lesson {wanted!r}; the lessons are {', '.join(l.id for l in lessons)} "
                             "(see `teach-sgd lessons`)")
    return lesson


# ---- one file ---------------------------------------------------------------------------------------------
class _Ctx:
    """Collects errors for one file and maps TOML key paths to file lines."""

    def __init__(self, path: Path, fm_first_line: int, fm_text: str):
        self.path, self.offset = path, fm_first_line - 1
        self.errors: list[LessonError] = []
        self.lines = _KeyLines(fm_text)

    def line(self, *keypath) -> int:
        return self.offset + self.lines.find(keypath)

    def err(self, keypath: tuple, message: str) -> None:
        self.errors.append(LessonError(str(self.path), self.line(*keypath), message))

    def unknown_keys(self, here: tuple, raw: dict, allowed, what: str) -> None:
        """One error per key `raw` has but `allowed` does not, with a close match if there is one."""
        for k in raw:
            if k not in allowed:
                self.err(here + (k,), f"unknown key {k!r}{what}{rules._suggest(k, allowed)}; "
                                      f"{what.strip().removeprefix('in ') or 'a lesson'} has "
                                      f"{', '.join(sorted(allowed))}")


def load_lesson(path: str | Path) -> Lesson:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise LessonLoadError([LessonError(str(path), 0, f"cannot read the file: {e}")]) from None
    return parse_lesson(text, path)


def parse_lesson(text: str, path: Path) -> Lesson:
    """Parse one lesson's text; raises LessonLoadError listing every problem found."""
    path = Path(path)
    if tomllib is None:  # pragma: no cover
        raise LessonLoadError([LessonError(str(path), 1, "reading lessons needs Python ≥ 3.11 (tomllib) or the "
                                                         "'tomli' package on Python 3.10")])
    lines = machine_text(text).lstrip("\ufeff").split("\n")   # {cores} → this machine's count (machine.py)
    first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if first is None or lines[first].strip() != FENCE:
        raise LessonLoadError([LessonError(str(path), (first or 0) + 1,
                                           "a lesson starts with TOML front matter: a line '+++', the TOML, "
                                           "then a closing '+++' (see lessons/README.md)")])
    close = next((i for i in range(first + 1, len(lines)) if lines[i].strip() == FENCE), None)
    if close is None:
        raise LessonLoadError([LessonError(str(path), first + 1, "the front matter opened here is never closed: "
                                                                 "add a line '+++' after the TOML")])
    fm_text = "\n".join(lines[first + 1:close])
    try:
        data = tomllib.loads(fm_text)
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        if m:
            line = first + 1 + int(m.group(1))
            msg = msg[:m.start()].strip() + f" (column {m.group(2)})"
        else:
            m = re.search(r"\(at end of document\)", msg)
            line = close + 1
            msg = msg.replace("(at end of document)", "(at the end of the front matter)").strip()
        raise LessonLoadError([LessonError(str(path), line, f"TOML: {msg}")]) from None
    ctx = _Ctx(path, first + 2, fm_text)
    lesson = _build_lesson(ctx, data, lines, close, path)
    if ctx.errors or lesson is None:
        raise LessonLoadError(sorted(dict.fromkeys(ctx.errors), key=lambda e: e.line))
    return lesson


def _build_lesson(ctx: _Ctx, data: dict, lines: list[str], close: int, path: Path) -> Lesson | None:
    ctx.unknown_keys((), data, LESSON_KEYS, "")
    lesson_id = data.get("id", path.stem)
    if not isinstance(lesson_id, str) or not ID_RE.match(lesson_id):
        ctx.err(("id",), f"id must be lower-case letters, digits, '-' or '_' (e.g. '03-hogwild'), got {lesson_id!r}")
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        ctx.err(("title",) if "title" in data else (), "missing title: add title = \"…\" to the front matter")
    minutes = data.get("minutes")
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= 240:
        ctx.err(("minutes",) if "minutes" in data else (),
                "minutes (the time the lesson takes) must be a whole number from 1 to 240"
                + ("" if "minutes" in data else ": add minutes = 10 to the front matter"))
    summary = data.get("summary", "")
    if not isinstance(summary, str):
        ctx.err(("summary",), "summary must be a string")
        summary = ""
    order = data.get("order", 1000)
    if isinstance(order, bool) or not isinstance(order, (int, float)):
        ctx.err(("order",), "order must be a number")
        order = 1000
    papers = data.get("papers", [])
    if not isinstance(papers, list) or not all(isinstance(p, str) for p in papers):
        ctx.err(("papers",), "papers must be a list of strings, e.g. [\"A\", \"B\"]")
        papers = []
    challenges = data.get("challenges", [])
    if not isinstance(challenges, list) or not all(isinstance(c, str) for c in challenges):
        ctx.err(("challenges",), "challenges must be a list of challenge ids, e.g. [\"lose-update\"]")
        challenges = []
    for c in challenges:
        if c not in CHALLENGES_BY_ID:
            ctx.err(("challenges",), f"no challenge {c!r}{rules._suggest(c, CHALLENGES_BY_ID)}; the challenges are "
                                     f"{', '.join(CHALLENGES_BY_ID)} (see `teach-sgd challenges`)")
    challenges = [c for c in challenges if c in CHALLENGES_BY_ID]
    class_file = data.get("class_file")
    if class_file is not None and (not isinstance(class_file, str) or not class_file.strip()):
        ctx.err(("class_file",), "class_file must be a file name, e.g. \"our-class.class.json\" (beside the lesson)")
        class_file = None

    experiments = []
    raw_exps = data.get("experiments", [])
    if not isinstance(raw_exps, list) or not all(isinstance(e, dict) for e in raw_exps):
        ctx.err(("experiments",), "experiments must be declared as [[experiments]] tables")
        raw_exps = []
    for i, raw in enumerate(raw_exps):
        exp = _build_experiment(ctx, i, raw)
        if exp is not None:
            if any(e.id == exp.id for e in experiments):
                ctx.err(("experiments", i, "id"), f"experiment id {exp.id!r} is used twice")
            else:
                experiments.append(exp)

    checkpoints = []
    raw_cps = data.get("checkpoints", [])
    if not isinstance(raw_cps, list) or not all(isinstance(c, dict) for c in raw_cps):
        ctx.err(("checkpoints",), "checkpoints must be declared as [[checkpoints]] tables")
        raw_cps = []
    n_exp_declared = len(raw_exps)
    for i, raw in enumerate(raw_cps):
        cp = _build_checkpoint(ctx, i, raw, experiments, n_exp_declared)
        if cp is not None:
            if any(c.id == cp.id for c in checkpoints):
                ctx.err(("checkpoints", i, "id"), f"checkpoint id {cp.id!r} is used twice")
            else:
                checkpoints.append(cp)

    body_lines = lines[close + 1:]
    steps, body = _build_steps(ctx, body_lines, close + 2, experiments, checkpoints)
    if ctx.errors:
        return None
    return Lesson(id=lesson_id, title=title.strip(), minutes=minutes, summary=summary.strip(), path=path,
                  order=float(order), body=body, experiments=tuple(experiments), checkpoints=tuple(checkpoints),
                  steps=tuple(steps), papers=tuple(papers), challenges=tuple(challenges),
                  class_file=path.parent / Path(class_file).expanduser() if class_file else None)


# ---- experiments --------------------------------------------------------------------------------------------
def _build_experiment(ctx: _Ctx, i: int, raw: dict) -> Experiment | None:
    here = ("experiments", i)
    n_before = len(ctx.errors)
    ctx.unknown_keys(here, raw, EXPERIMENT_KEYS, " in an experiment")
    eid = raw.get("id")
    if not isinstance(eid, str) or not NAME_RE.match(eid):
        ctx.err(here + (("id",) if "id" in raw else ()),
                f"experiment {i + 1} needs an id: a name like 'race' (letters, digits, _), got {eid!r}")
        eid = f"experiment{i + 1}"
    kind = raw.get("kind", "run")
    if kind not in EXPERIMENT_KINDS:
        ctx.err(here + ("kind",), f"experiment kind must be one of {', '.join(EXPERIMENT_KINDS)}, got {kind!r}")
        return None
    title = raw.get("title", eid)
    note = raw.get("note", "")
    if not isinstance(title, str) or not isinstance(note, str):
        ctx.err(here + ("title" if not isinstance(title, str) else "note",), "title and note must be strings")
        title, note = str(title), str(note)
    export = raw.get("export", False)
    if not isinstance(export, bool):
        ctx.err(here + ("export",), "export must be true or false")
        export = False

    repeat = 1
    if "repeat" in raw:
        if kind in HEADLESS_KINDS:
            ctx.err(here + ("repeat",), "repeat belongs to run and sweep experiments")
        else:
            try:
                repeat = repeat_count(raw["repeat"], "repeat")
            except ConfigError as e:
                ctx.err(here + ("repeat",), str(e))

    if kind in HEADLESS_KINDS:
        table = "sim" if kind == "simulate" else "sharing"
        for k in ("base", "runs", "over", "values"):
            if k in raw:
                ctx.err(here + (k,), f"{k!r} belongs to run and sweep experiments; a {kind} experiment has an "
                                     f"[experiments.{table}] table")
        sim = _build_sim(ctx, here, raw.get("sim")) if kind == "simulate" else _build_sharing(ctx, here, raw.get("sharing"))
        if len(ctx.errors) > n_before or sim is None:
            return None
        return Experiment(id=eid, kind=kind, title=title, note=note, sim=sim, export=export,
                          line=ctx.line(*here))

    if "sim" in raw:
        ctx.err(here + ("sim",), "a [experiments.sim] table belongs to kind = \"simulate\" experiments")
    if "sharing" in raw:
        ctx.err(here + ("sharing",), "an [experiments.sharing] table belongs to kind = \"sharing\" experiments")
    base = raw.get("base", {})
    if not isinstance(base, dict):
        ctx.err(here + ("base",), "base must be a table of RunConfig settings, e.g. base = { updates = 2000 }")
        base = {}
    runs_raw = raw.get("runs")
    if not isinstance(runs_raw, dict) or not runs_raw:
        ctx.err(here + (("runs",) if "runs" in raw else ()),
                "an experiment needs runs: a table of named runs, e.g. runs.leashed = { algo = \"leashed\" }")
        return None
    over, values = None, ()
    if kind == "sweep":
        over = raw.get("over")
        if over not in SWEEP_OVER:
            ctx.err(here + (("over",) if "over" in raw else ()),
                    f"a sweep needs over = one of {', '.join(repr(o) for o in SWEEP_OVER)}, got {over!r}")
            return None
        values = raw.get("values")
        if not isinstance(values, list) or not values:
            ctx.err(here + (("values",) if "values" in raw else ()),
                    f"a sweep needs values = [ … ], the {over} values to run")
            return None
        values = _distinct_values(ctx, here, over, values)
        if values is None:
            return None
    else:
        for k in ("over", "values"):
            if k in raw:
                ctx.err(here + (k,), f"{k!r} belongs to kind = \"sweep\" experiments")

    specs = []
    for name, settings in runs_raw.items():
        where = here + ("runs", name)
        if not NAME_RE.match(name) or keyword.iskeyword(name) or name in RESERVED or name.startswith("tau"):
            ctx.err(where, f"run name {name!r} cannot be used in rules: use letters, digits and _, not a keyword "
                           "or a rule function, and not starting with 'tau'")
            continue
        if not isinstance(settings, dict):
            ctx.err(where, f"runs.{name} must be a table of RunConfig settings, e.g. {{ algo = \"lock\" }}")
            continue
        merged = {**base, **settings}
        if kind == "sweep" and over in merged:
            ctx.err(where, f"runs.{name} sets {over}, which this experiment sweeps over: remove it")
            continue
        probe = dict(merged)
        if kind == "sweep":
            probe[over] = values[0]
        config = _run_config(ctx, where, probe, own=set(settings), base_where=here + ("base",))
        if config is not None:
            if kind == "sweep":
                for v in values[1:]:
                    try:
                        replace(config, source="lesson", **{over: v})
                    except ConfigError as e:
                        ctx.err(here + ("values",), f"runs.{name} at {over} = {v}: {e}")
            specs.append(RunSpec(name=name, config=config, line=ctx.line(*where)))
    if kind == "sweep" and over == "seed" and repeat > 1:
        ctx.err(here + ("repeat",), "a sweep over seed already runs every seed: remove repeat")
    change = None
    if "change" in raw:
        if kind != "run":
            ctx.err(here + ("change",), "change belongs to kind = \"run\" experiments")
        else:
            change = _build_change(ctx, here + ("change",), raw["change"], specs, repeat)
    for spec in specs if repeat > 1 else ():
        try:
            spec.config.repeats(repeat, "lesson")
        except ConfigError as e:
            ctx.err(here + ("repeat",), f"runs.{spec.name} repeated {repeat} times: {e}")
    if len(ctx.errors) > n_before:
        return None
    return Experiment(id=eid, kind=kind, title=title, note=note, runs=tuple(specs), over=over, values=values,
                      export=export, line=ctx.line(*here), repeat=repeat, change=change)


def _build_change(ctx, here, raw, specs, repeat) -> Change | None:
    """`change = { run = "after", setting = "lr", values = [0.05, 0.5], prompt = "…" }`: every value is validated
    on that run's RunConfig (and its repeats), so whatever the learner picks runs."""
    if not isinstance(raw, dict):
        ctx.err(here, "change must be a table: { run = \"NAME\", setting = \"lr\", values = [ … ], prompt = \"…\" }")
        return None
    for k in sorted(set(raw) - CHANGE_KEYS):
        ctx.err(here + (k,), f"unknown key {k!r} in change; the keys are {', '.join(sorted(CHANGE_KEYS))}")
    spec = next((s for s in specs if s.name == raw.get("run")), None)
    setting, values, prompt = raw.get("setting"), raw.get("values"), raw.get("prompt")
    if spec is None:
        ctx.err(here, f"change needs run = the name of one of this experiment's runs "
                      f"({', '.join(s.name for s in specs)}), got {raw.get('run')!r}")
    if setting not in CHANGE_SETTINGS:
        ctx.err(here, f"change needs setting = one of {', '.join(repr(s) for s in CHANGE_SETTINGS)}, got {setting!r}")
    if not isinstance(values, list) or len(values) < 2:
        ctx.err(here, "change needs values = [ … ]: at least two values the learner can pick from")
    if not isinstance(prompt, str) or not prompt.strip():
        ctx.err(here, "change needs prompt = \"…\": what the step asks the learner to pick")
    if spec is None or setting not in CHANGE_SETTINGS or not isinstance(values, list) or len(values) < 2 \
            or not isinstance(prompt, str):
        return None
    parsed = _distinct_values(ctx, here, setting, values)
    if parsed is None or len(set(parsed)) != len(parsed):
        return None
    for v in parsed:
        try:
            replace(spec.config, source="lesson", **{setting: v}).repeats(repeat, "lesson")
        except ConfigError as e:
            ctx.err(here + ("values",), f"runs.{spec.name} with {setting} = {v}: {e}")
            return None
    return Change(run=spec.name, setting=setting, values=parsed, prompt=prompt.strip())


def _distinct_values(ctx, here, setting, values):
    """A sweep's or a change's values, each parsed as `setting`; None when one does not parse (said). A value that
    repeats is said too; the caller decides whether the rest can still be read."""
    n_errors = len(ctx.errors)
    parsed = tuple(_sweep_value(ctx, here, setting, v) for v in values)
    if len(ctx.errors) > n_errors:
        return None
    if len(set(parsed)) != len(parsed):
        ctx.err(here + ("values",), "values must not repeat")
    return parsed


def _sweep_value(ctx, here, over, v):
    try:
        return RUN_SETTINGS[over].parse(v, over)
    except ConfigError as e:
        ctx.err(here + ("values",), str(e))
        return v


def _run_config(ctx: _Ctx, where: tuple, settings: dict, own: set, base_where: tuple):
    def at(k):
        return where + (k,) if k in own else base_where + (k,)

    unknown = [k for k in settings if k not in RUN_SETTINGS]
    for k in unknown:
        ctx.err(at(k), f"unknown run setting {k!r}{rules._suggest(k, RUN_SETTINGS)}; the settings are "
                       f"{', '.join(sorted(RUN_SETTINGS))}")
    if unknown:
        return None
    try:
        return RunConfig.from_mapping(settings, source="lesson")
    except ConfigError as e:
        ctx.err(at(e.key) if e.key in settings else where, str(e))
    return None


def _build_sharing(ctx: _Ctx, here: tuple, raw):
    """kind = "sharing": an optional [experiments.sharing] table of SharingConfig settings."""
    where = here + ("sharing",)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        ctx.err(where, f"[experiments.sharing] must be a table of settings: {', '.join(SHARING_SETTINGS)}")
        return None
    try:
        return SharingConfig.from_mapping(raw, source="lesson")
    except ConfigError as e:
        ctx.err(where + ((e.key,) if e.key in raw else ()), str(e))
    return None


def _build_sim(ctx: _Ctx, here: tuple, raw):
    where = here + ("sim",)
    if not isinstance(raw, dict):
        ctx.err(where if raw is not None else here, "a simulate experiment needs an [experiments.sim] table, "
                                                   "e.g. taus = [0, 1, 3], alphas = [0.25, 0.5, 1.0]")
        return None
    unknown = [k for k in raw if k not in SWEEP_SETTINGS]
    for k in unknown:
        ctx.err(where + (k,), f"unknown simulator setting {k!r}{rules._suggest(k, SWEEP_SETTINGS)}; the settings are "
                              f"{', '.join(sorted(SWEEP_SETTINGS))}")
    if unknown:
        return None
    try:
        return SweepConfig.from_mapping(raw, source="lesson")
    except ConfigError as e:
        ctx.err(where + ((e.key,) if e.key in raw else ()), str(e))
    return None


# ---- checkpoints --------------------------------------------------------------------------------------------
def _build_checkpoint(ctx: _Ctx, i: int, raw: dict, experiments: list[Experiment], n_declared: int):
    here = ("checkpoints", i)
    n_before = len(ctx.errors)
    ctx.unknown_keys(here, raw, CHECKPOINT_KEYS, " in a checkpoint")
    cid = raw.get("id", f"checkpoint{i + 1}")
    if not isinstance(cid, str) or not NAME_RE.match(cid):
        ctx.err(here + ("id",), f"checkpoint id must be a name like 'cas' (letters, digits, _), got {cid!r}")
    exp_id = raw.get("experiment")
    if exp_id is None:
        if n_declared == 1 and experiments:
            exp_id = experiments[0].id
        elif n_declared == 1:
            return None  # the one experiment has errors of its own, reported above
        else:
            ctx.err(here, "a checkpoint needs experiment = \"ID\": the experiment whose results answer it")
            return None
    exp = next((e for e in experiments if e.id == exp_id), None)
    if exp is None:
        if n_declared > len(experiments) and isinstance(exp_id, str):
            return None  # its experiment has errors of its own, reported above
        ctx.err(here + ("experiment",), f"unknown experiment {exp_id!r}"
                f"{rules._suggest(str(exp_id), [e.id for e in experiments])}; this lesson declares "
                f"{', '.join(e.id for e in experiments) or 'no experiments'}")
        return None
    question = raw.get("question")
    if not isinstance(question, str) or not question.strip():
        ctx.err(here + (("question",) if "question" in raw else ()), "a checkpoint needs question = \"…\"")
    choices = raw.get("choices")
    if not isinstance(choices, dict) or len(choices) < 2 or not all(isinstance(v, str) for v in choices.values()):
        ctx.err(here + (("choices",) if "choices" in raw else ()),
                "choices must be a table of at least two key = \"text\" pairs, e.g. "
                "choices = { lock = \"LOCK\", leashed = \"Leashed-SGD\" }")
        choices = None
    ask = raw.get("ask", "before")
    if ask not in ASK_WHEN:
        ctx.err(here + ("ask",), f"ask must be \"before\" (a prediction) or \"after\" the run, got {ask!r}")
    texts = {}
    for k in ("answer", "explain", "undecided"):
        v = raw.get(k, "" if k == "undecided" else None)
        if not isinstance(v, str) or (k != "undecided" and not v.strip()):
            ctx.err(here + ((k,) if k in raw else ()),
                    {"answer": "a checkpoint needs answer = \"RULE\": an expression over the measured results "
                               "that gives the correct choice, e.g. argmax(lock.lock_wait_s, leashed.cas_fail)",
                     "explain": "a checkpoint needs explain = \"…\": the explanation, quoting measured numbers "
                                "like {leashed.cas_fail}",
                     "undecided": "undecided must be a string"}[k])
        texts[k] = v if isinstance(v, str) else ""
    explain_when = raw.get("explain_when", {})
    if not isinstance(explain_when, dict) or not all(isinstance(v, str) for v in explain_when.values()):
        ctx.err(here + ("explain_when",), "explain_when must be a table: choice key = \"text\"")
        explain_when = {}
    if choices:
        for k in explain_when:
            if k not in choices:
                ctx.err(here + ("explain_when", k), f"explain_when.{k}: {k!r} is not a choice key "
                                                    f"({', '.join(choices)})")
    if len(ctx.errors) > n_before:
        return None
    cp = Checkpoint(id=cid, experiment=exp.id, question=question.strip(), choices=tuple(choices.items()),
                    answer=texts["answer"].strip(), explain=texts["explain"], explain_when=dict(explain_when),
                    undecided=texts["undecided"], ask=ask, line=ctx.line(*here))
    try:
        rules.parse(cp.answer)
    except rules.RuleError as e:
        ctx.err(here + ("answer",), f"answer: {e}")
        return None
    try:
        check(cp, exp)
    except rules.RuleError as e:
        msg = str(e)
        key = "answer" if not msg.startswith("in ") else msg[3:].split(":", 1)[0].split(",", 1)[0]
        keypath = here + tuple(key.split(".")) if key != "answer" else here + ("answer",)
        ctx.err(keypath, msg if msg.startswith("in ") else f"answer: {msg}")
        return None
    return cp


# ---- the narrative and its steps ---------------------------------------------------------------------------
def _build_steps(ctx: _Ctx, body_lines: list[str], first_line: int, experiments, checkpoints):
    """Split the Markdown at `<!-- experiment: ID -->` markers (experiments without a marker go last) and at
    `<!-- race: NAME -->` markers (a race the learner makes, teach_sgd/lessons/races.py)."""
    by_id = {e.id: e for e in experiments}
    placed: list[str] = []
    placed_races: list[str] = []
    steps: list[Step] = []
    buf: list[str] = []
    kept: list[str] = []

    def flush():
        text = "\n".join(buf).strip("\n")
        if text.strip():
            steps.append(Step("narrative", text=text))
        buf.clear()

    for n, ln in enumerate(body_lines):
        m = MARKER.match(ln)
        if not m:
            buf.append(ln)
            kept.append(ln)
            continue
        eid = m.group("id")
        line_no = first_line + n
        if m.group("kind") == "race":
            if eid not in RACES:
                ctx.errors.append(LessonError(str(ctx.path), line_no, f"no race {eid!r}{rules._suggest(eid, RACES)}; "
                                              f"the races are {', '.join(RACES)}"))
            elif eid in placed_races:
                ctx.errors.append(LessonError(str(ctx.path), line_no, f"race {eid!r} is placed twice"))
            else:
                flush()
                placed_races.append(eid)
                steps.append(Step("race", race=RACES[eid]))
            continue
        if eid not in by_id:
            ctx.errors.append(LessonError(str(ctx.path), line_no, f"the marker names experiment {eid!r}, which the "
                                          f"front matter does not declare"
                                          f"{rules._suggest(eid, list(by_id))}"))
            continue
        if eid in placed:
            ctx.errors.append(LessonError(str(ctx.path), line_no, f"experiment {eid!r} is placed twice"))
            continue
        flush()
        placed.append(eid)
        steps.extend(_experiment_steps(by_id[eid], checkpoints))
    flush()
    for e in experiments:
        if e.id not in placed:
            steps.extend(_experiment_steps(e, checkpoints))
    return steps, "\n".join(kept).strip("\n") + "\n"


def _experiment_steps(e: Experiment, checkpoints) -> list[Step]:
    mine = [c for c in checkpoints if c.experiment == e.id]
    out = [Step("change", experiment=e)] if e.change is not None else []  # the learner's change, then predictions
    out += [Step("predict", checkpoint=c) for c in mine if c.ask == "before"]
    out.append(Step("run", experiment=e))
    for c in mine:
        if c.ask == "after":
            out.append(Step("predict", checkpoint=c))
        out.append(Step("verdict", checkpoint=c))
    return out


# ---- mapping key paths to lines ------------------------------------------------------------------------------
_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*(\]\]?)\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\.\"' ]+?)\s*=")


def _split_key(k: str) -> tuple[str, ...]:
    return tuple(p.strip().strip("\"'") for p in k.split("."))


class _KeyLines:
    """Line (1-based, within the front matter) of every table header and key, by key path.

    Array-of-tables elements get an index: the third `[[checkpoints]]` is ("checkpoints", 2). Lines inside
    multi-line strings are skipped. Good enough for error messages; never used to read values.
    """

    def __init__(self, text: str):
        self.at: dict[tuple, int] = {}
        counts: dict[tuple, int] = {}
        current: tuple = ()
        in_str = None
        for n, ln in enumerate(text.split("\n"), start=1):
            if in_str:
                if ln.count(in_str) % 2 == 1:
                    in_str = None
                continue
            h = _HEADER.match(ln)
            if h and not ln.lstrip().startswith("#") and "=" not in ln.split("]")[0]:
                parts = _split_key(h.group(2))
                if h.group(1) == "[[":
                    counts[parts] = counts.get(parts, -1) + 1
                    current = self._resolve(parts[:-1], counts) + (parts[-1], counts[parts])
                else:
                    current = self._resolve(parts, counts)
                self.at.setdefault(current, n)
                continue
            k = _KEY.match(ln)
            if k and not ln.lstrip().startswith("#"):
                path = current + _split_key(k.group(1))
                self.at.setdefault(path, n)
                for j in range(len(current) + 1, len(path)):
                    self.at.setdefault(path[:j], n)
                rest = ln[k.end():]
                for q in ('"""', "'''"):
                    if rest.count(q) % 2 == 1:
                        in_str = q
                        break

    @staticmethod
    def _resolve(parts: tuple, counts: dict) -> tuple:
        """[experiments.base] inside the second [[experiments]] → ("experiments", 1, "base")."""
        out: tuple = ()
        for j, p in enumerate(parts):
            out += (p,)
            key = parts[:j + 1]
            if key in counts:
                out += (counts[key],)
        return out

    def find(self, keypath: tuple) -> int:
        path = tuple(keypath)
        while path:
            if path in self.at:
                return self.at[path]
            path = path[:-1]
        return 0


__all__ = ["load_lessons", "load_lesson", "parse_lesson", "find_lesson", "builtin_dirs", "LessonLoadError",
           "LessonError", "Lesson"]
