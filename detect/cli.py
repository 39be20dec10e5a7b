"""Command line: ``detect run``, ``detect benford``, ``detect review``, ``detect report``.

Exit codes: 0 ok; 1 findings at or above ``--fail-on``; 2 bad input or usage (one message on
stderr, no traceback unless ``--debug``); 3 an internal error (a bug: rerun with ``--debug``).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from typing import Sequence

from detect import __version__
from detect.exceptions import DetectError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3

#: Modules that add a subcommand: each has ``add_parser(subparsers)`` setting ``func=handler(args) -> int``.
_COMMAND_MODULES: tuple[str, ...] = (
    "detect.cli_run",
    "detect.digits.cli",
    "detect.review.cli",
    "detect.report.cli",
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # exit 2 with one line, like every usage error
        self.print_usage(sys.stderr)
        sys.stderr.write(f"detect: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="detect", description="Screen regional statistics for falsification and reckless borrowing.")
    parser.add_argument("--version", action="version", version=f"detect {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for mod in _COMMAND_MODULES:
        importlib.import_module(mod).add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``detect`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    parser = build_parser()
    args = parser.parse_args(argv)
    if not debug:  # numerical warnings (all-NaN slices of gappy series) are handled; keep stderr for messages
        warnings.filterwarnings("ignore", category=RuntimeWarning)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.func(args) or 0)
    except DetectError as exc:
        if debug:
            raise
        sys.stderr.write(f"detect: {exc}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("detect: interrupted\n")
        return 130
    except BrokenPipeError:  # output piped into `head` that stopped reading: not a bug; exit like SIGPIPE
        import os

        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit's flush
        except (OSError, ValueError, AttributeError):  # stdout replaced (tests): nothing to flush there
            pass
        return 141
    except Exception as exc:  # a bug: say so plainly, no traceback unless --debug
        if debug:
            raise
        sys.stderr.write(f"detect: internal error: {type(exc).__name__}: {exc} "
                         "(rerun with --debug for the traceback, and please report it)\n")
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
