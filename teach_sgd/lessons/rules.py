"""The rule language of checkpoints: small, safe expressions over what a run measured.

A rule is one expression in Python's expression syntax, but only a small part of it is allowed, and it is
never handed to `eval`: it is parsed with `ast.parse(mode="eval")` and walked by the interpreter below,
which knows only these forms:

    numbers, 'strings', true/false (also True/False), none
    run.metric                      a measured number, e.g. leashed.cas_fail, hogwild.lost_fraction
    at(group, value).metric         one run of a sweep, e.g. at(hogwild, 0.5).loss_final
    group.metric                    a sweep group's own numbers, e.g. hogwild.first_unstable
    + - * /  and unary -            arithmetic (x / 0 gives inf, or nan for 0 / 0)
    < <= > >= == !=                 comparisons (chains allowed: 0 < x < 1)
    and  or  not                    logic
    A if COND else B                a choice between two values
    f(...)                          one of FUNCTIONS below

A value that a run did not measure (a HOGWILD! lost fraction on a Leashed run, a time to target that was
never reached) is `none`. Arithmetic or a comparison on `none` stops the rule with `Undecided`, which the
checkpoint turns into an honest "this run did not measure …" instead of a wrong answer; `argmax`/`argmin`
skip `none` values, and `known(x)` / `default(x, v)` test and replace them.

Names are checked before anything runs (`check`), so an instructor who writes `leashed.cas_fails` gets
"unknown metric 'cas_fails' (did you mean cas_fail?)" with the file and line, at load time.
"""
from __future__ import annotations

import ast
import difflib
import math
import re
from dataclasses import dataclass
from typing import Any, Callable


class RuleError(ValueError):
    """The rule is malformed or names something that does not exist (an author's error)."""


class Undecided(Exception):
    """The rule needs a number this run did not measure (a `none`)."""

    def __init__(self, what: str):
        super().__init__(what)
        self.what = what


@dataclass(frozen=True)
class Measured:
    """A number together with the run and metric it came from, so argmax/argmin can say *which* run."""

    value: Any
    run: str | None = None
    metric: str | None = None

    def __repr__(self) -> str:
        return f"{self.run}.{self.metric}={self.value!r}"


def unwrap(v):
    return v.value if isinstance(v, Measured) else v


def _label(v) -> str:
    if isinstance(v, Measured) and v.run:
        return f"{v.run}.{v.metric}"
    return repr(unwrap(v))


# ---- the environment a rule is evaluated in ------------------------------------------------------------
class Scope:
    """What names mean. Subclassed by checkpoints.py for real results and by `check` for validation.

    lookup(name) returns a run/group object (anything with `.metric(name)`), or a plain value.
    """

    def lookup(self, name: str):  # pragma: no cover - interface
        raise NotImplementedError

    def names(self) -> list[str]:  # pragma: no cover - interface
        return []

    def repeat_scopes(self) -> list["Scope"]:
        """One scope per repeat of the experiment, each naming that repeat's runs (no repeats: this one)."""
        return [self]


class Obj:
    """Something with metrics: a run, a sweep group, a simulator τ row."""

    name: str
    kind: str  # "run", "group", "tau"

    def metric(self, attr: str):  # pragma: no cover - interface
        raise NotImplementedError

    def at(self, value):  # groups only
        raise RuleError(f"at() needs a sweep group, and {self.name!r} is a single {self.kind}")


# ---- functions ------------------------------------------------------------------------------------------
def _need(v, fn: str):
    x = unwrap(v)
    if x is None:
        raise Undecided(f"{_label(v)} (needed by {fn})")
    return x


def _extreme(args, kw, pick_max: bool, fn: str):
    tie = kw.pop("tie", None)
    rtol = unwrap(kw.pop("rtol", 0.0))
    atol = unwrap(kw.pop("atol", 0.0))
    if kw:
        raise RuleError(f"{fn}() takes only tie=, rtol= and atol= keywords, not {', '.join(kw)}")
    if len(args) < 2:
        raise RuleError(f"{fn}() compares at least two measured values, e.g. {fn}(lock.cas_fail, leashed.cas_fail)")
    for a in args:
        if not (isinstance(a, Measured) and a.run):
            raise RuleError(f"{fn}() takes run metrics like leashed.cas_fail, not {_label(a)}")
    known = [a for a in args if a.value is not None and not (isinstance(a.value, float) and math.isnan(a.value))]
    if not known:
        raise Undecided(f"{fn}(): none of {', '.join(_label(a) for a in args)} was measured")
    ordered = sorted(known, key=lambda a: float(a.value), reverse=pick_max)
    best = ordered[0]
    if tie is not None and len(ordered) > 1:
        b, s = float(best.value), float(ordered[1].value)
        scale = max(abs(b), abs(s))
        if b == s or abs(b - s) <= float(atol) or (scale > 0 and abs(b - s) <= float(rtol) * scale):
            return unwrap(tie)
    return best.run


def _argmax(args, kw):
    return _extreme(list(args), dict(kw), True, "argmax")


def _argmin(args, kw):
    return _extreme(list(args), dict(kw), False, "argmin")


def _nearest(args, kw):
    if len(args) != 1 or not kw:
        raise RuleError("nearest() takes one value and choices as keywords, e.g. nearest(x, a=2.0, b=1.0)")
    x = float(_need(args[0], "nearest"))
    return min(kw, key=lambda k: abs(float(unwrap(kw[k])) - x))


def _plain(name: str, f: Callable, arity: tuple[int, int]):
    def call(args, kw):
        if kw:
            raise RuleError(f"{name}() takes no keywords")
        if not arity[0] <= len(args) <= arity[1]:
            want = str(arity[0]) if arity[0] == arity[1] else f"{arity[0]} to {arity[1]}"
            raise RuleError(f"{name}() takes {want} values, got {len(args)}")
        return f(*args)
    return call


def _f_default(x, v):
    return unwrap(v) if unwrap(x) is None else unwrap(x)


def _f_known(x):
    v = unwrap(x)
    return v is not None and not (isinstance(v, float) and math.isnan(v))


def _num_fn(name, f):
    def g(*xs):
        vals = [float(_need(x, name)) for x in xs]
        return f(vals)
    return g


FUNCTIONS: dict[str, Callable] = {
    "argmax": _argmax,     # argmax(a.m, b.m, …, tie='same', rtol=0.1, atol=0) → the run with the largest value
    "argmin": _argmin,     # the same, smallest
    "nearest": _nearest,   # nearest(x, a=2.0, b=1.0) → the keyword whose number is closest to x
    "max": _plain("max", _num_fn("max", max), (1, 99)),
    "min": _plain("min", _num_fn("min", min), (1, 99)),
    "abs": _plain("abs", lambda x: abs(float(_need(x, "abs"))), (1, 1)),
    "sum": _plain("sum", _num_fn("sum", sum), (1, 99)),
    "mean": _plain("mean", _num_fn("mean", lambda v: sum(v) / len(v)), (1, 99)),
    "ratio": _plain("ratio", lambda a, b: _div(float(_need(a, "ratio")), float(_need(b, "ratio"))), (2, 2)),
    "known": _plain("known", _f_known, (1, 1)),
    "default": _plain("default", _f_default, (2, 2)),
}
FUNCTION_HELP = {
    "argmax": "argmax(run.metric, run.metric, …[, tie='key', rtol=0.1, atol=0.02]): the run with the largest value",
    "argmin": "argmin(run.metric, run.metric, …[, tie='key', rtol=0.1, atol=0.02]): the run with the smallest value",
    "nearest": "nearest(x, key=number, …): the key whose number is closest to x",
    "at": "at(group, value): the run of a sweep group at one swept value",
    "max": "max(x, y, …)", "min": "min(x, y, …)", "abs": "abs(x)", "sum": "sum(x, y, …)", "mean": "mean(x, y, …)",
    "ratio": "ratio(x, y): x / y (inf when y = 0)",
    "known": "known(x): whether x was measured (not none)",
    "default": "default(x, v): x, or v when x was not measured",
}
# Functions over the repeats of an experiment (`repeat = N`): the argument is evaluated once per repeat, with
# every run name meaning that repeat's run (same seed offset), so `fraction(sparse.lost_fraction <
# dense.lost_fraction)` compares the two runs of each seed. Repeats where the argument is undecided are left out.
REPEAT_FUNCTIONS = {
    "fraction": "fraction(condition): the share of repeats in which the condition held (0–1)",
    "count": "count(condition): in how many repeats the condition held",
    "median": "median(x): the median of x over the repeats",
}


def _over_repeats(fn: str, node, scope: Scope):
    if len(node.args) != 1 or node.keywords:
        raise RuleError(f"{fn}() takes one expression: {REPEAT_FUNCTIONS[fn]}")
    values = []
    for s in scope.repeat_scopes():
        try:
            values.append(_eval(node.args[0], s))
        except Undecided:
            pass
    if not values:
        raise Undecided(f"{ast.unparse(node.args[0])} (in every repeat)")
    if fn == "median":
        xs = sorted(_number(v, "median") for v in values)
        mid = len(xs) // 2
        return xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2
    held = sum(_truth(v) for v in values)
    return held if fn == "count" else held / len(values)


CONSTANTS = {"true": True, "false": False, "none": None, "True": True, "False": False, "None": None,
             "inf": math.inf}


def _div(a: float, b: float) -> float:
    if b == 0:
        return math.nan if a == 0 else math.copysign(math.inf, a)
    return a / b


_BINOPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
           ast.Div: _div}
_CMPOPS = {ast.Lt: lambda a, b: a < b, ast.LtE: lambda a, b: a <= b, ast.Gt: lambda a, b: a > b,
           ast.GtE: lambda a, b: a >= b, ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b}
_SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">",
           ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}


# ---- parsing --------------------------------------------------------------------------------------------
def parse(text: str) -> ast.Expression:
    """Parse and check the *form* of a rule (not its names). Raises RuleError with a readable message."""
    if not isinstance(text, str) or not text.strip():
        raise RuleError("the rule is empty")
    src = " ".join(text.strip().splitlines())  # rules may be written over several lines in TOML '''…'''
    try:
        tree = ast.parse(src, mode="eval")
    except SyntaxError as e:
        col = f" at column {e.offset}" if e.offset else ""
        raise RuleError(f"cannot read the rule {text.strip()!r}{col}: {e.msg}") from None
    for node in ast.walk(tree):
        _check_form(node)
    return tree


_ALLOWED = (ast.Expression, ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Compare, ast.IfExp, ast.Call, ast.Name,
            ast.Attribute, ast.Constant, ast.keyword, ast.Load, ast.And, ast.Or, ast.Not, ast.USub, ast.UAdd,
            *_BINOPS, *_CMPOPS)


def _check_form(node) -> None:
    if not isinstance(node, _ALLOWED):
        what = type(node).__name__
        hint = {"Subscript": "indexing [..] is not part of the rule language",
                "Lambda": "lambda is not part of the rule language",
                "List": "lists are not part of the rule language: pass values to the function directly",
                "Tuple": "tuples are not part of the rule language",
                "Dict": "dicts are not part of the rule language"}.get(what, f"{what} is not allowed in a rule")
        raise RuleError(hint)
    if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float, str, bool, type(None))):
        raise RuleError(f"the constant {node.value!r} is not allowed in a rule")
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            raise RuleError("only the rule language's functions can be called, e.g. argmax(…)")
        known = [*FUNCTIONS, *REPEAT_FUNCTIONS, "at"]
        if node.func.id not in known:
            raise RuleError(f"unknown function {node.func.id!r}{_suggest(node.func.id, known)}; "
                            f"the functions are {', '.join(sorted(known))}")
    if isinstance(node, ast.Attribute):
        if node.attr.startswith("_"):
            raise RuleError(f"{node.attr!r} is not a metric")
        if isinstance(node.value, ast.Attribute):
            raise RuleError(f"write run.metric (one dot), not {ast.unparse(node)}")


def _suggest(word: str, options) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def outcomes(tree: ast.Expression) -> list[str]:
    """The answers a rule can name outright: its string constants and the keywords of nearest(), in order.
    (argmax/argmin answer with run names, checked against the choices when the rule is evaluated.)"""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append(node.value)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "nearest":
            found += [k.arg for k in node.keywords if k.arg]
    return list(dict.fromkeys(found))


# ---- evaluation -----------------------------------------------------------------------------------------
def evaluate(tree: ast.Expression | str, scope: Scope):
    """Evaluate a parsed rule in a scope; returns a plain value (Measured is unwrapped)."""
    if isinstance(tree, str):
        tree = parse(tree)
    return unwrap(_eval(tree.body, scope))


def evaluate_measured(tree: ast.Expression | str, scope: Scope):
    if isinstance(tree, str):
        tree = parse(tree)
    return _eval(tree.body, scope)


def _eval(node, scope: Scope):
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        if node.id in FUNCTIONS or node.id in REPEAT_FUNCTIONS or node.id == "at":
            raise RuleError(f"{node.id} is a function: call it, e.g. "
                            f"{FUNCTION_HELP.get(node.id) or REPEAT_FUNCTIONS[node.id]}")
        return scope.lookup(node.id)
    if isinstance(node, ast.Attribute):
        base = _eval(node.value, scope)
        if not isinstance(base, Obj):
            raise RuleError(f"{ast.unparse(node.value)} has no metrics (write run.metric)")
        return base.metric(node.attr)
    if isinstance(node, ast.Call):
        fn = node.func.id
        if fn in REPEAT_FUNCTIONS:
            return _over_repeats(fn, node, scope)
        if fn == "at":
            if len(node.args) != 2 or node.keywords:
                raise RuleError("at() takes a sweep group and one swept value, e.g. at(hogwild, 0.5)")
            group = _eval(node.args[0], scope)
            if not isinstance(group, Obj):
                raise RuleError(f"at() needs a sweep group, not {ast.unparse(node.args[0])}")
            return group.at(unwrap(_eval(node.args[1], scope)))
        args = [_eval(a, scope) for a in node.args]
        kw = {k.arg: _eval(k.value, scope) for k in node.keywords}
        if None in kw:
            raise RuleError("**keywords are not part of the rule language")
        return FUNCTIONS[fn](args, kw)
    if isinstance(node, ast.UnaryOp):
        v = _eval(node.operand, scope)
        if isinstance(node.op, ast.Not):
            return not _truth(v)
        x = _number(v, "-")
        return -x if isinstance(node.op, ast.USub) else x
    if isinstance(node, ast.BinOp):
        a, b = _eval(node.left, scope), _eval(node.right, scope)
        sym = _SYMBOL[type(node.op)]
        return _BINOPS[type(node.op)](_number(a, sym), _number(b, sym))
    if isinstance(node, ast.Compare):
        left = _eval(node.left, scope)
        for op, right_node in zip(node.ops, node.comparators):
            right = _eval(right_node, scope)
            if isinstance(op, (ast.Eq, ast.NotEq)):
                a, b = _comparable(left, "=="), _comparable(right, "==")
            else:
                sym = _SYMBOL[type(op)]
                a, b = _number(left, sym), _number(right, sym)
            if not _CMPOPS[type(op)](a, b):
                return False
            left = right
        return True
    if isinstance(node, ast.BoolOp):
        if isinstance(node.op, ast.And):
            for v in node.values:
                if not _truth(_eval(v, scope)):
                    return False
            return True
        for v in node.values:
            if _truth(_eval(v, scope)):
                return True
        return False
    if isinstance(node, ast.IfExp):
        return _eval(node.body, scope) if _truth(_eval(node.test, scope)) else _eval(node.orelse, scope)
    raise RuleError(f"{type(node).__name__} is not allowed in a rule")  # pragma: no cover (parse checks)


def _number(v, op: str) -> float:
    x = unwrap(v)
    if x is None:
        raise Undecided(f"{_label(v)} (used with {op})")
    if isinstance(x, Obj):
        raise RuleError(f"{x.name} is a {x.kind}, not a number: write {x.name}.metric")
    if isinstance(x, bool):
        return float(x)
    if isinstance(x, (int, float)):
        return float(x)
    raise RuleError(f"{x!r} is not a number and cannot be used with {op}")


def _comparable(v, op: str):
    x = unwrap(v)
    if x is None:
        raise Undecided(f"{_label(v)} (used with {op})")
    if isinstance(x, Obj):
        raise RuleError(f"{x.name} is a {x.kind}, not a value: write {x.name}.metric")
    return float(x) if isinstance(x, (bool, int, float)) else x


def _truth(v) -> bool:
    x = unwrap(v)
    if x is None:
        raise Undecided(f"{_label(v)} (used as a condition)")
    if isinstance(x, Obj):
        raise RuleError(f"{x.name} is a {x.kind}, not a condition: write {x.name}.metric")
    return bool(x)


# ---- templates ------------------------------------------------------------------------------------------
def split_template(text: str) -> list[tuple[str, str | None, str | None]]:
    """'a {x.m:.2f} b' → [('a ', None, None), ('', 'x.m', '.2f'), (' b', None, None)].

    `{{` and `}}` are literal braces. The format spec follows the last ':' outside quotes and parentheses.
    Raises RuleError for an unclosed brace.
    """
    parts: list[tuple[str, str | None, str | None]] = []
    buf = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "{" and text.startswith("{{", i):
            buf.append("{"); i += 2; continue
        if ch == "}" and text.startswith("}}", i):
            buf.append("}"); i += 2; continue
        if ch == "}":
            raise RuleError("a '}' without its '{' (write }} for a literal brace)")
        if ch == "{":
            j, depth, quote, colon = i + 1, 0, None, None
            while j < n:
                c = text[j]
                if quote:
                    if c == quote:
                        quote = None
                elif c in "'\"":
                    quote = c
                elif c == "(":
                    depth += 1
                elif c == ")":
                    depth -= 1
                elif c == ":" and depth == 0:
                    colon = j
                elif c == "}" and depth == 0:
                    break
                j += 1
            if j >= n:
                raise RuleError(f"a '{{' without its '}}' in {text[i:i + 30]!r}… (write {{{{ for a literal brace)")
            inner = text[i + 1:j]
            expr, spec = (inner[:colon - i - 1], inner[colon - i:]) if colon else (inner, None)
            if not expr.strip():
                raise RuleError("an empty {} in the text: put a metric inside, e.g. {leashed.cas_fail}")
            if buf:
                parts.append(("".join(buf), None, None)); buf = []
            parts.append(("", expr.strip(), spec))
            i = j + 1
            continue
        buf.append(ch)
        i += 1
    if buf:
        parts.append(("".join(buf), None, None))
    return parts


_FIXED = re.compile(r"(?P<head>[^.]*)\.(?P<decimals>\d+)(?P<kind>[f%])")


def _significant(x, spec: str) -> str:
    """format(x, spec), except that a fixed-point spec which would print a non-zero x as nothing but zeros
    ("0%" for a loss at 0.4% of its start, "0.00" for a loss of 0.0012) gets the decimals for two significant
    digits: a number is shown, never cut to a false 0."""
    text = format(x, spec)
    m = _FIXED.fullmatch(spec)
    if m is None or not isinstance(x, (int, float)) or x == 0 or any(c in "123456789" for c in text):
        return text
    shown = abs(x) * (100 if m["kind"] == "%" else 1)
    decimals = max(int(m["decimals"]), 1 - math.floor(math.log10(shown)))
    return format(x, f"{m['head']}.{decimals}{m['kind']}")


def format_value(v, spec: str | None) -> str:
    x = unwrap(v)
    if x is None:
        return "not measured"
    if isinstance(x, Obj):
        return x.name
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, float) and math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if isinstance(x, float) and math.isnan(x):
        return "n/a"
    if spec:
        try:
            return _significant(x, spec)
        except (ValueError, TypeError):
            raise RuleError(f"the format ':{spec}' does not apply to {x!r}") from None
    if isinstance(x, float):
        return f"{x:.4g}" if abs(x) < 1e6 else f"{x:,.0f}"
    if isinstance(x, int):
        return f"{x:,}"
    return str(x)


def render(text: str, scope: Scope) -> str:
    """Fill a template's {expressions} from the scope. An unmeasured value prints as 'not measured'."""
    out = []
    for literal, expr, spec in split_template(text):
        if expr is None:
            out.append(literal)
            continue
        try:
            out.append(format_value(evaluate_measured(expr, scope), spec))
        except Undecided:
            out.append("not measured")
    return "".join(out)


def template_exprs(text: str) -> list[tuple[str, str | None]]:
    return [(e, s) for _, e, s in split_template(text) if e is not None]
