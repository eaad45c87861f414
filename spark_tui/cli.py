"""Command line: `spark-tui` runs the dashboard; subcommands run headless and exit.

Each headless command lives in spark_tui/commands/<name>.py with
`register(subparsers)` that adds its parser and sets `run=<function(args, config) -> int>`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from spark_tui import __version__
from spark_tui.models.settings import Config, ConfigError
from spark_tui.commands import seconds_arg
from spark_tui.config import load_config, resolve_config_path

COMMAND_MODULES = (
    "spark_tui.commands.snapshot",
    "spark_tui.commands.probe",
    "spark_tui.commands.profiles",
    "spark_tui.commands.bench",
    "spark_tui.commands.inference",
)
OPTIONS_WITH_VALUES = {"--config", "--interval"}

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


positive_float = seconds_arg(3600)


def names_a_command(argv: Sequence[str]) -> bool:
    """Whether argv goes beyond the dashboard's own options (a subcommand, a typo, or help)."""
    skip = False
    for token in argv:
        if skip:
            skip = False
        elif token in OPTIONS_WITH_VALUES:
            skip = True
        elif token in ("-h", "--help") or not token.startswith("-"):
            return True
    return False


def build_parser(with_commands: bool = True) -> argparse.ArgumentParser:
    """The parser; `with_commands=False` skips importing the headless commands (and their
    Docker/HTTP libraries), which the dashboard's start-up does not need."""
    parser = argparse.ArgumentParser(
        prog="spark-tui",
        description="Terminal dashboard for the NVIDIA DGX Spark: GPU, unified memory, CPU, containers, services.",
    )
    parser.add_argument("--version", action="version", version=f"spark-tui {__version__}")
    parser.add_argument("--config", metavar="PATH", help="config file (default: $XDG_CONFIG_HOME/spark-tui/config.toml; env SPARK_TUI_CONFIG)")
    parser.add_argument("--demo", action="store_true", help="simulate a DGX Spark (GB10) instead of reading this machine's GPU")
    parser.add_argument("--interval", type=positive_float, metavar="SECONDS", help="seconds between samples (default 1)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES if with_commands else ():
        importlib.import_module(name).register(subparsers)
    return parser


def load_settings(args: argparse.Namespace) -> Config:
    path, required = resolve_config_path(args.config)
    config = load_config(path, required=required)
    if args.interval is not None:
        import msgspec

        config = msgspec.structs.replace(config, dashboard=msgspec.structs.replace(config.dashboard, interval=args.interval))
    return config


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(with_commands=names_a_command(argv))
    args = parser.parse_args(argv)
    try:
        config = load_settings(args)
    except ConfigError as exc:
        print(f"spark-tui: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        if args.command:
            return args.run(args, config)
        return run_dashboard(args, config)
    except KeyboardInterrupt:
        return 130


def run_dashboard(args: argparse.Namespace, config: Config) -> int:
    from spark_tui.ui.app import make_app

    try:
        app = make_app(config, demo=args.demo)
    except ConfigError as exc:  # found while building the app, e.g. two [[probes]] with one name
        print(f"spark-tui: {exc}", file=sys.stderr)
        return EXIT_USAGE
    app.run()
    return app.return_code or EXIT_OK
