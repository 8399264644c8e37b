"""``python -m ls_model_providers`` and the ``ls-model-providers`` console script.

Nothing heavy is imported before ``main`` runs (the package's ``__init__`` imports its names
lazily), and a Ctrl-C that lands while the command's modules are imported is held until they
are (a signal landing inside a C extension's import turns into an ImportError, not a
KeyboardInterrupt), then ends the command: the same one line, "interrupted", and exit 130, as
one that lands later. Never a traceback.
"""

import signal
import sys

EXIT_INTERRUPTED = 130


def main() -> int:
    """Run the command line (``ls_model_providers.cli.main``); Ctrl-C at any point is 130."""
    held: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
    try:
        from .cli import main as command
    finally:
        signal.signal(signal.SIGINT, previous)
    try:
        if held:
            raise KeyboardInterrupt
        return command()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
