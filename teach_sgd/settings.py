"""Each setting declared once: its name, type, parser with limits, default, command-line flag, help, form widget.

A configuration (RunConfig, SimConfig, SweepConfig, CheckConfig) is a frozen dataclass whose fields are made
with `setting(default, parse, help, …)`. The field gives the name, the type and the default; its metadata holds
the rest. Everything that shows or reads a setting takes it from there:

    SETTINGS = declared(RunConfig)          # {key: Setting}, in declaration order
    add_options(parser, SETTINGS)           # the command line's options and --help   (commands/)
    s.show(value)                           # a value as a form or the help shows it (∞ for an unbounded bound)
    s.widget, s.label, s.width, s.choices   # the form's field                          (tui/widgets/*_form.py)
    parse_mapping(SETTINGS, data, source)   # what a user wrote → typed values          (from_mapping, lessons)

A configuration checks itself once, when it is built (`__post_init__`, also on `dataclasses.replace`): a config
that exists is valid. `source` ("cli", "ui", "lesson", "code") only changes how a setting is named in an error:
`--target-loss` on the command line, the form's label in the app, the key in a lesson file.

"A bound or ∞" (Leashed-SGD's Tp, the simulator's τ_max) is an `int | None`, None being ∞ (JSON null); it is
parsed by `values.bound_or_inf` and shown by `bound_text` ("∞"), nowhere else.
"""
from __future__ import annotations

import argparse
import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from teach_sgd.errors import ConfigError

Parser = Callable[[object, str], object]  # (value as written, its label in messages) -> typed value
Bound = int | None  # a bound 0, 1, 2, … or ∞ (None)
INF: Bound = None


def bound_text(b: Bound) -> str:
    """A bound as people read it: '∞' or the number (every screen, report and message)."""
    return "∞" if b is None else str(b)


def bound_number(b: Bound) -> float | int:
    """A bound as a number (∞ = float inf): lesson metrics and CSV, where numbers are compared or plotted."""
    return math.inf if b is None else b


def show(value: object) -> str:
    """A typed value written back as a user would type it: 128,64 · 0.05 · 2000."""
    if isinstance(value, (tuple, list)):
        return ",".join(show(x) for x in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@dataclass(frozen=True)
class Setting:
    key: str
    parse: Parser
    help: str                                  # what it means, without its default (the default is added)
    default: object = None
    flag: str | None = ""                      # "" → --key-with-dashes; None → not a command-line option
    metavar: str | None = None
    label: str | None = None                   # the form's label; None → not in a form
    widget: str = "input"                      # input · integer · number · select
    restrict: str | None = None                # an input's text, as typed, must match this regex: the field takes
                                               # only such keys, and the screen gets the others (settings_row.py)
    width: int | None = None                   # the form field's width in cells
    choices: Sequence[tuple[str, str]] = ()    # a select's (shown, value) pairs
    text: Callable[[object], str] = show       # how a value is shown in a form, help or message
    optional: bool = False                     # None is allowed (and means "not given" or ∞)
    exclusive: str | None = None               # command-line options of one group exclude each other
    shown_default: bool = True                 # add "(default …)" to the help (False: the help says it)

    @property
    def cli_flag(self) -> str | None:
        return None if self.flag is None else (self.flag or "--" + self.key.replace("_", "-"))

    def name(self, source: str) -> str:
        """How this setting is named to the user from `source`."""
        if source == "cli" and self.cli_flag:
            return self.cli_flag
        if source == "ui" and self.label:
            return self.label
        return self.key

    def help_with_default(self) -> str:
        if not self.shown_default or (self.default is None and self.text is show):  # None: "not given"
            return self.help
        return f"{self.help} (default {self.text(self.default)})"


def setting(default, parse: Parser, help: str, **declaration) -> dataclasses.Field:
    """A configuration field and its declaration (the keyword arguments are Setting's)."""
    return dataclasses.field(default=default, metadata={"setting": (parse, help, declaration)})


def declared(cls) -> dict[str, Setting]:
    """The settings of a configuration class, in declaration order, with their names and defaults filled in."""
    out = {}
    for f in dataclasses.fields(cls):
        if "setting" in f.metadata:
            parse, text, declaration = f.metadata["setting"]
            out[f.name] = Setting(f.name, parse, text, default=f.default, **declaration)
    return out


def parse_mapping(settings: Mapping[str, Setting], data: Mapping[str, object], source: str,
                  what: str = "setting") -> dict[str, object]:
    """What a user wrote (command-line or form text, TOML values) → typed values; None means not given."""
    out = {}
    for key, x in data.items():
        if x is None:
            continue
        if key not in settings:
            raise ConfigError(f"unknown {what} {key!r}; the settings are {', '.join(settings)}", key)
        out[key] = settings[key].parse(x, settings[key].name(source))
    return out


def check_fields(config, settings: Mapping[str, Setting], source: str) -> None:
    """Every field of a built config passes its own parser unchanged (a config built in code is held to the
    rules a user's text is): 2.5 threads, a list for a tuple, or a value past a limit is a ConfigError."""
    for key, s in settings.items():
        x = getattr(config, key)
        if x is None and s.optional:
            continue
        parsed = s.parse(x, s.name(source))
        given = tuple(x) if isinstance(x, list) else x
        if parsed != given or (isinstance(parsed, int) and not isinstance(given, int)):
            raise ConfigError(f"{s.name(source)} must be given as {parsed!r}, not {x!r}", key)


def add_options(parser: argparse.ArgumentParser, settings: Sequence[Setting]) -> None:
    """The command-line options of these settings: text in, parsed later by the configuration."""
    groups = {}
    for s in settings:
        if not s.cli_flag:
            continue
        target = parser
        if s.exclusive:
            if s.exclusive not in groups:
                groups[s.exclusive] = parser.add_mutually_exclusive_group()
            target = groups[s.exclusive]
        target.add_argument(s.cli_flag, dest=s.key, metavar=s.metavar, help=s.help_with_default())


def option_list(settings: Sequence[Setting]) -> list[str]:
    """The flags these settings have on the command line (the README's option lists are checked against it)."""
    return [s.cli_flag for s in settings if s.cli_flag]
