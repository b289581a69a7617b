"""Each setting declared once (teach_sgd/settings.py): the command line, the forms, the help screen and the
README's option lists come from the declarations, a config is valid by construction, and ∞ is one thing."""
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from teach_sgd.commands.main import build_parser, main
from teach_sgd.engine.config import FORM, SETTINGS, RunConfig, delay_text
from teach_sgd.errors import ConfigError
from teach_sgd.settings import bound_number, bound_text
from teach_sgd.sim.check import CHECK_SETTINGS, CheckConfig
from teach_sgd.sim.config import SIM_SETTINGS, SWEEP_SETTINGS, SimConfig, SweepConfig

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def _paragraph(start: str) -> str:
    i = README.index(start)
    return README[i:README.index("\n\n", i)]


def _options(command: str) -> set[str]:
    """Every option the command's parser accepts, but --help."""
    sub = next(a for a in build_parser()._actions if a.dest == "command").choices[command]
    return {o for a in sub._actions for o in a.option_strings if o.startswith("--")} - {"--help"}


def _flags(text: str) -> set[str]:
    return set(re.findall(r"`(--[a-z][a-z-]*)", text))


def test_readme_option_lists_are_the_commands_options():
    run_text, compare_text = _paragraph("Run options (").split("`compare` takes")
    but, plus = compare_text.split("plus", 1)
    listed = {"run": _flags(run_text), "compare": (_flags(run_text) - _flags(but)) | _flags(plus),
              "simulate": _flags(_paragraph("Simulate options (")), "check": _flags(_paragraph("Check options ("))}
    for command, declared in (("run", SETTINGS), ("compare", SETTINGS), ("simulate", SWEEP_SETTINGS),
                              ("check", CHECK_SETTINGS)):
        options = _options(command)
        assert {s.cli_flag for s in declared.values() if s.cli_flag and s.key != "algo"} <= options
        assert listed[command] == options, \
            f"{command}: README lists {sorted(listed[command] - options)} too many, {sorted(options - listed[command])} missing"


def test_help_text_gives_the_declared_default():
    sub = next(a for a in build_parser()._actions if a.dest == "command").choices["run"]
    helps = {a.dest: a.help for a in sub._actions}
    assert helps["threads"].endswith(f"(default {RunConfig().threads})")
    assert helps["persistence"].endswith("(default ∞)")


def test_simulate_without_alphas_sweeps_the_declared_default(tmp_path):
    """The command line has no default of its own: `simulate` sweeps SweepConfig's alphas."""
    out = tmp_path / "s.json"
    assert main(["simulate", "--tau-max", "0", "--max-iters", "20", "--no-plot", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["config"]["alphas"] == sorted(SweepConfig().alphas)
    assert len(SweepConfig().alphas) == 25


def test_forms_show_every_declared_form_setting_in_order():
    assert [s.key for s in FORM] == ["algo", "threads", "model", "hidden", "dataset", "lr", "batch", "persistence",
                                     "writes", "step", "budget", "seed", "delay"]
    assert all(s.label and s.width for s in FORM)
    assert all(s.label and s.width for s in SIM_SETTINGS.values())


# what a learner types in each restricted form field, and keys it must leave to the screen (the thread keys)
TYPED = {"hidden": (["128,64", "1"], "bfouBFU."), "persistence": (["inf", "∞", "12", ""], "bouBFU,."),
         "budget": (["3000", "10s", "2ep", "0.5ep", "1e6", "1.5s"], "bfouBFU,"),
         "delay": (["0:4", "12:100", ""], "bfouBFU,.")}


@pytest.mark.parametrize("key", sorted(TYPED))
def test_a_restricted_field_takes_its_values_and_leaves_the_thread_keys(key):
    """A field's `restrict` must match every prefix of what it holds (the field checks each key as it is typed),
    its default as the form shows it, and no thread key the value cannot hold."""
    s = next(s for s in FORM if s.key == key)
    for value in [*TYPED[key][0], s.text(s.default)]:
        assert all(re.fullmatch(s.restrict, value[:k]) for k in range(len(value) + 1)), value
    assert not any(re.fullmatch(s.restrict, c) or re.fullmatch(s.restrict, "1" + c) for c in TYPED[key][1])


def test_a_budget_starts_with_a_number_so_s_and_e_over_its_whole_text_are_the_screens_keys():
    budget = next(s for s in FORM if s.key == "budget")
    assert not any(re.fullmatch(budget.restrict, c) for c in "sep")  # Start, Export: not the start of a budget
    assert all(re.fullmatch(budget.restrict, v) for v in ("", "1", "1e", "20s", "2e", "2ep", ".5"))


def test_the_delay_is_typed_and_shown_one_way():
    assert RunConfig.from_mapping({"algo": "hogwild", "delay": "0:4"}, source="ui").delay == (0, 4)
    assert RunConfig.from_mapping({"algo": "hogwild", "delay": ""}, source="ui").delay is None  # the empty field
    assert [delay_text(d) for d in (None, (1, 16))] == ["", "1:16"]
    for written, words in [("0:4", "threads m 2 or more"), ("1:4", "threads m 2 or more")]:
        with pytest.raises(ConfigError, match=words):
            RunConfig.from_mapping({"algo": "hogwild", "threads": "1", "delay": written}, source="ui")
    for algo in ("seq", "sync"):
        with pytest.raises(ConfigError, match=f"^delay 0:4 needs lock, hogwild or leashed: {algo}'s updates are never stale$"):
            RunConfig.from_mapping({"algo": algo, "threads": "1" if algo == "seq" else "2", "delay": "0:4"}, "ui")


def test_help_screen_rows_come_from_the_declarations():
    from teach_sgd.tui.screens.help import HELP

    for s in [*FORM, *SIM_SETTINGS.values()]:
        assert f"| {s.label} | {s.help_with_default()} |" in HELP


@pytest.mark.parametrize("build", [
    lambda: RunConfig(threads=0),
    lambda: RunConfig(threads=2.5),
    lambda: RunConfig(algo="seq", threads=4),
    lambda: RunConfig(algo="lock", writes="sparse"),
    lambda: replace(RunConfig(), persistence=-1),
    lambda: SimConfig(threads=12),
    lambda: SimConfig(scheduler="stale-read", tau_max=None),
    lambda: SweepConfig(taus=(4,), threads=2),
    lambda: CheckConfig(protocol="hogwild", persistence=1),
    lambda: CheckConfig(protocol="leashed", threads=3, updates=3),
])
def test_a_config_that_cannot_run_cannot_be_built(build):
    with pytest.raises(ConfigError):
        build()


def test_errors_name_settings_as_the_user_sees_them():
    with pytest.raises(ConfigError, match="^--threads "):
        RunConfig.from_mapping({"threads": "0"}, source="cli")
    with pytest.raises(ConfigError, match="^threads m "):
        RunConfig.from_mapping({"threads": "0"}, source="ui")
    with pytest.raises(ConfigError, match="^threads "):
        RunConfig.from_mapping({"threads": "0"}, source="lesson")
    with pytest.raises(ConfigError, match="raise --threads"):
        SweepConfig.from_mapping({"taus": "4", "threads": "2"}, source="cli")


@pytest.mark.parametrize("written", ["inf", "∞", "none", "", None, float("inf")])
def test_infinity_is_one_value_shown_one_way(written):
    c = RunConfig.from_mapping({"persistence": written}, source="cli")
    assert c.persistence is None and bound_text(c.persistence) == "∞" and bound_number(c.persistence) == float("inf")
    assert RunConfig.from_mapping({"persistence": bound_text(c.persistence)}).persistence is None  # shown → read back
    assert c.to_dict()["persistence"] is None  # JSON null


def test_a_config_is_checked_once_on_its_way_to_the_runner(monkeypatch):
    """Parsed from text, budget filled, handed on: one check (it was three: from_mapping, budget, Runner)."""
    import teach_sgd.engine.config as config

    calls = []
    real = config.check_fields
    monkeypatch.setattr(config, "check_fields", lambda *a: calls.append(1) or real(*a))
    c = RunConfig.from_mapping({"threads": "4", "algo": "hogwild"}, source="cli")
    assert c.budget() is c and c.updates == 2000
    assert len(calls) == 1
