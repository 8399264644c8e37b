"""The ``ls-model-providers`` command.

    ls-model-providers get ID [--base-url URL] [--api-key KEY] [--timeout S] [--deadline S]
                           [--cacert FILE | --insecure]
    ls-model-providers mock [--host H] [--port N] [--certfile PEM [--keyfile PEM]] [--api-key KEY]
                            [--data FILE] [--faults SPEC] [--model-params string|object] [--defect NAME]
                            [--snapshot FILE]
    ls-model-providers conformance [--base-url URL] [--api-key KEY] [--id N] [--max-examples K]
                            [--max-requests N] [--rate R] [--timeout S] [--deadline S] [--seed S]
                            [--junit-xml PATH] [--json-report PATH] [--cacert FILE | --insecure]
                            [--baseline FILE]
    ls-model-providers spec-diff (--base-url URL | --against FILE_OR_URL) [--cacert FILE | --insecure]
    ls-model-providers snapshot [--base-url URL] [--api-key KEY] (--ids 1,2,... | --all) -o FILE ...
    ls-model-providers snapshot-diff OLD NEW
    ls-model-providers [COMMAND] --version

Every command exits with the same codes (``toolkit/exits.py``): 0 ok, 1 the deployment
answered wrongly, 2 usage or configuration, 3 the endpoint is not served, 4 the credentials
were rejected, 5 the deployment is unreachable, 6 inconclusive (rate limits or a failing
connection kept a run from finishing its checks); 130 when interrupted (Ctrl-C: one line,
never a traceback). One module per command (``_get``, ``_mock``, ``_conformance``,
``_spec_diff``, ``_snapshot``), each with its parser and its run. Every option is checked before any output; a bad one shows the command's usage.
URL and key default to ``LABEL_STUDIO_URL`` and ``LABEL_STUDIO_API_KEY``. Output never holds
the key; text a server sent is made safe for the terminal and never starts a line of its own.
A reader that goes away (``| head``) ends the output, not the command: its exit code stands.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from ls_model_providers.toolkit.exits import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE

from . import _conformance, _get, _mock, _snapshot, _spec_diff
from ._shared import EXIT_CODES, HELP_FORMAT, VARIABLES, epilog, interrupts_kept, pipe_guard

__all__ = ["build_parser", "main"]

#: Each command: its name, how it adds its parser, and what runs it.
_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "get": _get.run,
    "mock": _mock.run,
    "conformance": _conformance.run,
    "spec-diff": _spec_diff.run,
    "snapshot": _snapshot.snapshot_command,
    "snapshot-diff": _snapshot.snapshot_diff_command,
}


class _Parser(argparse.ArgumentParser):
    """argparse, whose usage errors never echo a value that could be a key: an option's
    ``=value`` (``--api-kye=KEY``, ``--ap=KEY`` when ambiguous) is shown as ``=...``."""

    def error(self, message: str) -> NoReturn:
        super().error(_OPTION_VALUE.sub(r"\1=...", message))


#: ``--name=value`` in an argparse message.
_OPTION_VALUE = re.compile(r"(--?[\w-]+)=\S+")


def _unrecognized(words: Sequence[str]) -> str:
    """Unknown words as a usage error shows them: options by name, values as ``...`` (a value
    after a mistyped option is as likely a key as anything else)."""
    return " ".join(w.split("=", 1)[0] if w.startswith("-") else "..." for w in words)


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The parser, and each command's own (to show its usage for a flag it does not know)."""
    from ls_model_providers import __version__

    parser = _Parser(
        prog="ls-model-providers",
        description="Label Studio Enterprise model provider connections: client, mock, conformance.",
        formatter_class=HELP_FORMAT,
        epilog=epilog(
            tuple(EXIT_CODES), tuple(VARIABLES),
            "ls-model-providers mock --port 8080     # a mock to try things on; it prints its export lines",
            "ls-model-providers get 1                # LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY set",
            "ls-model-providers conformance --help",
        ),
    )  # fmt: skip
    version = f"ls-model-providers {__version__}"  # not %(prog)s: "get" is not its name
    parser.add_argument("--version", action="version", version=version)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    by_name = {
        "get": _get.add_parser(commands),
        "mock": _mock.add_parser(commands),
        "conformance": _conformance.add_parser(commands),
        "spec-diff": _spec_diff.add_parser(commands),
        **_snapshot.add_snapshot_parsers(commands),
    }
    for command in by_name.values():  # `get --version` too, whatever else is missing
        command.add_argument("--version", action="version", version=version)
    return parser, by_name


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code.

    Ctrl-C ends any command with one line, "interrupted", and exit 130 (a shell's code for
    it); ``conformance`` writes both reports first; a serving ``mock`` stops, exit 0. Output to a pipe that closes early
    (``| head``) is dropped from then on, and the command still exits with its own code.
    """
    with pipe_guard() as lost:
        try:
            with interrupts_kept():  # a Ctrl-C landing in a finalizer is not lost, any command
                code = _dispatch(argv)
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            code = EXIT_INTERRUPTED
    if lost and code == EXIT_OK:  # the answer never reached its reader (a full disk)
        with contextlib.suppress(OSError, AttributeError):
            print(f"error: the output could not be written ({lost[0].strerror})", file=sys.stderr)
        return EXIT_USAGE
    return code


def _dispatch(argv: Sequence[str] | None) -> int:
    parser, commands = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # shown with the command's own usage, not the top-level one
        commands[args.command].error(f"unrecognized arguments: {_unrecognized(unknown)}")
    return _COMMANDS[args.command](args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
