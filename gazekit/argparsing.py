"""An argument parser whose rejections are one line, as every other error of the commands.

argparse prints the whole usage (a dozen lines for ``gazekit analyze``) before an error about
one argument; :class:`OneLineParser` prints only ``PROG: error: MESSAGE (see PROG --help)``
and exits with status 2. ``--help`` still prints the usage. Used by the ``gazekit`` and
``zoo`` commands (subcommand parsers inherit the class).

>>> parser = OneLineParser(prog="demo")
>>> _ = parser.add_argument("--n", type=int)
>>> parser.parse_args(["--n", "3"]).n
3
"""

from __future__ import annotations

import argparse
from typing import NoReturn

__all__ = ["OneLineParser"]

#: Characters of an argparse message printed (a pasted value can be megabytes long).
_MAX_CHARS = 300


class OneLineParser(argparse.ArgumentParser):
    """:class:`argparse.ArgumentParser` that reports a bad command line in one line, exit 2."""

    def error(self, message: str) -> NoReturn:
        text = " ".join(message.split())
        if len(text) > _MAX_CHARS:
            text = f"{text[:_MAX_CHARS - 3]}..."
        self.exit(2, f"{self.prog}: error: {text} (see {self.prog} --help)\n")

