"""Entry point for ``python -m runsift`` and the ``runsift`` console script."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from runsift.tui.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
