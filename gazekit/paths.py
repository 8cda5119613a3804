"""Expanding the files and directories a user names into the list of files to read.

Shared by the scanpath reader (:func:`gazekit.io.find_inputs`), the loader of human recordings
(:mod:`gazekit.human`) and the commands that take paths; a problem with a path is a one-line
:class:`gazekit.schema.ScanpathError` naming it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from gazekit.schema import ScanpathError

__all__ = ["PathLike", "Paths", "expand_paths", "path_list"]

PathLike = str | os.PathLike
Paths = PathLike | Sequence[PathLike]


def path_list(paths: Paths) -> list[PathLike]:
    """``paths`` (one path, or a sequence of them) as a list.

    Examples
    --------
    >>> path_list("a.csv"), path_list(("a.csv", "b.csv"))
    (['a.csv'], ['a.csv', 'b.csv'])
    """
    return [paths] if isinstance(paths, str | os.PathLike) else list(paths)


def expand_paths(paths: Paths, suffixes: Sequence[str], *, given: str, empty: str,
                 recursive: bool = False, ignore_case: bool = False,
                 check_files: bool = True) -> list[Path]:
    """Expand files and directories into the list of files to read.

    Parameters
    ----------
    paths : path or sequence of paths
        Files and/or directories.
    suffixes : sequence of str
        Extensions (with the dot, e.g. ``".csv"``) of the files taken from a directory.
    given : str
        What the paths name, for the error when there are none: ``"no {given} given"``.
    empty : str
        Error message for a directory that holds no file with one of ``suffixes``.
    recursive : bool, default False
        Search directories recursively; otherwise only the files directly inside them.
    ignore_case : bool, default False
        Match ``suffixes`` in any letter case.
    check_files : bool, default True
        Reject a file given directly whose extension is not one of ``suffixes``.

    Returns
    -------
    list of pathlib.Path
        The files, in the order given (directory contents sorted).

    Raises
    ------
    ScanpathError
        If no path is given, a path does not exist, a directory holds no such file or (with
        ``check_files``) a file has another extension; the message names the path.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     (Path(tmp) / "sub").mkdir()
    ...     for name in ("a.TSV", "sub/b.tsv", "c.txt"):
    ...         _ = (Path(tmp) / name).write_text("")
    ...     files = expand_paths(tmp, [".tsv"], given="recording", empty="no .tsv file",
    ...                          recursive=True, ignore_case=True)
    ...     print([path.relative_to(tmp).as_posix() for path in files])
    ['a.TSV', 'sub/b.tsv']
    """
    items = path_list(paths)
    if not items:
        raise ScanpathError(f"no {given} given (expected files or directories)")

    def suffix(path: Path) -> str:
        return path.suffix.lower() if ignore_case else path.suffix

    files: list[Path] = []
    for item in map(Path, items):
        if item.is_dir():
            found = sorted(p for p in (item.rglob("*") if recursive else item.iterdir())
                           if p.is_file() and suffix(p) in suffixes)
            if not found:
                raise ScanpathError(empty, str(item))
            files.extend(found)
        elif not item.exists():
            raise ScanpathError(_why_missing(item), str(item))
        elif check_files and suffix(item) not in suffixes:
            raise ScanpathError(
                f"unsupported file type {item.suffix!r} (expected one of {', '.join(suffixes)})",
                str(item))
        else:
            files.append(item)
    return files


def _why_missing(path: Path) -> str:
    """Why ``path``, which does not exist for :meth:`Path.exists`, cannot be read."""
    try:
        path.stat()
    except FileNotFoundError:
        return "symbolic link to a missing file" if path.is_symlink() else "file not found"
    except OSError as exc:  # e.g. a loop of symbolic links, a folder without permission
        return f"cannot open ({exc.strerror or exc})"
    return "file not found"  # it has appeared meanwhile; report what was seen
