"""``python -m foldwise COMMAND`` (and the ``foldwise`` console script): the package's subcommands.

    foldwise init DIR [-o config.yaml] [--preset quick|strong] [--budget MINUTES]
    foldwise demo NAME OUT     (the demo folders: digits, multilabel-digits, basicmotions, video-digits)
"""

from __future__ import annotations

import sys


def _init(argv: list[str]) -> int:
    from foldwise.init.cli import main

    return main(argv)


def _demo(argv: list[str]) -> int:
    from foldwise.demo import main

    return main(argv)


COMMANDS = {"init": _init, "demo": _demo}


def main(argv: list[str] | None = None) -> int:
    """Dispatch ``argv[0]`` to its subcommand; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    command = COMMANDS.get(argv[0])
    if command is None:
        print(f"foldwise: unknown command {argv[0]!r}; valid: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    return command(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
