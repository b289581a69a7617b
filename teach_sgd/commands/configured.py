"""Commands whose options are one configuration's declared settings plus `--json` (`check`, `simulate`): the
parser is declared, the configuration read and the JSON written the same way for each.

    parser = add_configured(sub, "simulate", SWEEP_SETTINGS, run, "also write … to PATH", metavar="PATH", help=…)
    config = configured(args, SweepConfig, SWEEP_SETTINGS)   # parsed and checked once; --json checked writable
    write_json(args, data)                                    # after the work, if --json was given
"""
from __future__ import annotations

import json

from teach_sgd.output import check_outputs, write_text
from teach_sgd.settings import add_options


def add_configured(sub, name: str, settings, run, json_help: str, metavar: str = "OUT", **kwargs):
    parser = sub.add_parser(name, **kwargs)
    parser.set_defaults(run=run)
    add_options(parser, settings.values())
    parser.add_argument("--json", default=None, metavar=metavar, help=json_help)
    return parser


def configured(args, config_class, settings):
    """The configuration the options describe (a bad value: one ConfigError naming its flag), and --json checked
    before any work starts, so a wrong path costs no exploration or sweep."""
    config = config_class.from_mapping({key: getattr(args, key) for key in settings}, source="cli")
    check_outputs([(args.json, "--json")])
    return config


def write_json(args, data) -> None:
    if args.json:
        write_text(args.json, json.dumps(data, indent=1) + "\n", "--json")
