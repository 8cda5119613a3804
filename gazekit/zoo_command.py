"""Entry point of the ``zoo`` console script, importable without PyTorch.

The model zoo (:mod:`zoo`) needs torch, an optional extra of gazekit, and ``import zoo`` without
it fails. The console script therefore starts here, outside the ``zoo`` package: without torch
the ``zoo`` command ends with one line naming the extra and exit status 2 instead of a
traceback; with torch it is :func:`zoo.cli.main`::

    $ zoo list            # without torch
    zoo: error: zoo needs PyTorch, an optional extra of gazekit: pip install 'gazekit[zoo]' ...
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run :func:`zoo.cli.main` with ``argv`` (default ``sys.argv[1:]``); returns the exit
    status, 2 with one line ``zoo: error: ...`` on stderr where torch is not installed."""
    try:
        from zoo.cli import main as zoo_main  # here: it imports torch
    except ModuleNotFoundError as exc:
        if exc.name != "torch":
            raise
        print(f"zoo: error: {' '.join(str(exc).split())}", file=sys.stderr)  # zoo's one line
        return 2
    return zoo_main(argv)
