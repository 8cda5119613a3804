"""Atomic outputs: files and directories that appear whole or not at all, never over an input.

A writer fills a hidden temporary sibling of its destination (``.NAME.<pid>-<host>.<hex>.tmp``)
and renames it into place when done, so readers see the old content or the complete new one,
and a failure leaves no trace: no temporary file, no half-written output, no folder that the
write created. Where a write may not replace its destination (a file with
``overwrite=False``; a directory that was missing or empty when the write began), one that
another writer creates meanwhile is left alone and the write refused (``FileExistsError``)
instead of silently replacing the other's result.

A process that is killed cannot clean up. Its hidden siblings name the process (id and a tag
of the host), so the next write of the same destination removes those whose process is gone
(:func:`remove_debris`); an old version moved aside (``.NAME....old``) whose destination has
since vanished is put back instead, as the write that would have replaced it never finished.

:func:`write_atomically` extends this to several files (all or nothing), and
:func:`check_outputs` refuses, before anything is written, an output that would replace or
delete an input. Used by gazekit's commands and by :mod:`zoo` (checkpoints, exports, cards).

>>> import pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> with atomic_file(folder / "out.txt") as tmp:
...     _ = tmp.write_text("done")
>>> sorted(p.name for p in folder.iterdir())
['out.txt']
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import socket
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager, suppress
from itertools import takewhile
from pathlib import Path

__all__ = ["atomic_file", "atomic_output_dir", "check_outputs", "final_path", "remove_debris",
           "write_atomically"]

PathLike = str | os.PathLike


#: Tag of this host in the names of hidden siblings: a process id means nothing elsewhere.
_HOST = f"{zlib.crc32(socket.gethostname().encode()):08x}"


def _sibling(path: Path, kind: str) -> Path:
    """A unique hidden name next to ``path`` that names this process (created by the caller,
    so the umask applies)."""
    return path.with_name(f".{path.name}.{os.getpid()}-{_HOST}.{uuid.uuid4().hex[:12]}.{kind}")


#: Temporary directory -> destination of each :func:`atomic_output_dir` in progress.
_PENDING: dict[Path, Path] = {}


def final_path(path: PathLike) -> Path:
    """The name ``path`` will have once the :func:`atomic_output_dir` writes that hold it are
    in place: what a report should name, not the temporary that is gone after the run.

    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as parent:
    ...     with atomic_output_dir(Path(parent) / "out") as tmp:
    ...         print(final_path(tmp / "exports" / "a.parquet").parts[-3:])
    ('out', 'exports', 'a.parquet')
    """
    path = Path(path)
    # Innermost first: a pending directory may lie inside another.
    for tmp, destination in sorted(_PENDING.items(), key=lambda item: -len(item[0].parts)):
        if path == tmp or tmp in path.parents:
            return final_path(destination / path.relative_to(tmp))
    return path


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host (a zombie counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process
        return True
    return True


def remove_debris(path: PathLike) -> list[Path]:
    """Remove the hidden siblings of ``path`` left by writers that were killed.

    A sibling ``.NAME.<pid>-<host>.<hex>.tmp`` or ``.old`` (see the module docstring) is debris
    when it was made on this host by a process that no longer exists; siblings of live
    processes, of other hosts and of other names are left alone. A temporary is removed. An
    old version is put back where ``path`` no longer exists (its replacement never arrived),
    else removed. Called by :func:`atomic_file` and :func:`atomic_output_dir` before they
    write.

    Parameters
    ----------
    path : path
        The destination whose debris to remove.

    Returns
    -------
    list of pathlib.Path
        The siblings removed or put back.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     remove_debris(Path(tmp) / "results")  # nothing left by a killed writer
    []
    """
    path = Path(path)
    pattern = re.compile(rf"\.{re.escape(path.name)}\.(\d+)-{_HOST}\.[0-9a-f]{{12}}\.(tmp|old)")
    try:
        entries = list(path.parent.iterdir())
    except OSError:  # no parent folder yet: no debris
        return []
    found = []
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None or _alive(int(match[1])):
            continue
        with suppress(OSError):  # another process may be cleaning up the same debris
            if match[2] == "old" and not (path.exists() or path.is_symlink()):
                os.rename(entry, path)
            elif entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            found.append(entry)
    return found


def _appeared(path: Path) -> FileExistsError:
    return FileExistsError(
        f"{path}: appeared while this run was writing it (another run with the same output?); "
        "left as it is, nothing written")


def _rename_new(tmp: Path, path: Path) -> None:
    """Rename file ``tmp`` to ``path`` unless ``path`` exists (a hard link, which refuses an
    existing name, then unlink; where the file system has no hard links, check and rename)."""
    try:
        os.link(tmp, path, follow_symlinks=False)
    except FileExistsError:
        raise _appeared(path) from None
    except OSError:  # no hard links here (e.g. FAT, some network file systems)
        if path.exists() or path.is_symlink():
            raise _appeared(path) from None
        os.replace(tmp, path)
        return
    tmp.unlink()


@contextmanager
def _as_destination(path: Path, *hidden: Path) -> Iterator[None]:
    """Re-raise an OSError that names one of the ``hidden`` siblings of ``path`` (or a file in
    one) as the same error (errno, reason) about ``path``: that is what the user asked for, and
    a message naming the hidden name would send them looking for a file they never named.
    Other exceptions pass unchanged.
    """
    try:
        yield
    except OSError as exc:
        def user(text: str) -> str:
            for name in hidden:
                text = text.replace(str(name), str(path))
            return text

        reason = str(exc) if exc.errno is None else exc.strerror or os.strerror(exc.errno)
        texts = [reason, *(str(name) for name in (exc.filename, exc.filename2) if name)]
        renamed = [user(text) for text in texts]
        if renamed == texts:
            raise  # about another file
        if exc.errno is None:
            raise OSError(renamed[0]) from exc
        # Each name once: a rename of a hidden sibling onto `path` is an error about `path`.
        names = list(dict.fromkeys(renamed[1:]))
        args = [exc.errno, renamed[0], *names[:1]]
        if len(names) > 1:
            args += [None, names[1]]  # OSError(errno, strerror, filename, winerror, filename2)
        raise OSError(*args) from exc  # OSError(errno, ...) makes the subclass of the errno


@contextmanager
def _parent_dirs(path: Path) -> Iterator[None]:
    """Create the missing parent directories of ``path``; remove them again if the body (or
    the creation) fails, so that a failed write leaves no trace.

    The body must have removed what it wrote there. Folders are removed innermost first and
    only while empty: one that another writer has put a file into meanwhile stays.
    """
    missing = list(takewhile(lambda parent: not parent.exists(), path.parents))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        yield
    except BaseException:
        for folder in missing:
            try:
                folder.rmdir()
            except OSError:  # not empty (or never made): leave it and its parents
                break
        raise


@contextmanager
def atomic_file(path: PathLike, overwrite: bool = True) -> Iterator[Path]:
    """Write a file atomically: yield a temporary sibling path, rename it to ``path`` on success.

    Readers of ``path`` see either its old content or the complete new one, never a partly
    written file, even if the writer is killed.

    Parameters
    ----------
    path : path
        Final file. Missing parent directories are created (and removed again if the body
        fails).
    overwrite : bool, default True
        Replace an existing ``path``; if False, an existing ``path`` raises before the body
        runs, and one that another writer creates while the body runs raises at the end.

    Yields
    ------
    pathlib.Path
        A unique hidden path next to ``path`` that does not exist yet; the body must create the
        file there (it gets the permissions the body gives it, e.g. the umask's for ``open``).
        On success it is flushed to disk and renamed to ``path``; if the body raises, it is
        removed and the exception propagates.

    Raises
    ------
    FileExistsError
        If ``path`` exists (or appears meanwhile) and ``overwrite`` is False.
    FileNotFoundError
        If the body did not create the temporary file.
    OSError
        An OSError (of the body too) about the temporary file is raised as one about ``path``.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "notes.txt"
    ...     with atomic_file(path) as part:
    ...         _ = part.write_text("complete")
    ...         print(path.exists())  # nothing at the destination until the body is done
    ...     print(path.read_text(), [p.name for p in Path(tmp).iterdir()])
    False
    complete ['notes.txt']
    """
    path = Path(path)
    remove_debris(path)
    if not overwrite and path.exists():
        raise FileExistsError(f"{path}: file exists (use --overwrite, or overwrite=True, to "
                              "replace it)")
    tmp = _sibling(path, "tmp")
    with _as_destination(path, tmp), _parent_dirs(path):
        try:
            yield tmp
            # fsync before the rename: otherwise a crash can leave `path` renamed but empty.
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
            if overwrite:
                os.replace(tmp, path)
            else:
                _rename_new(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


@contextmanager
def atomic_output_dir(path: PathLike, overwrite: bool = False) -> Iterator[Path]:
    """Write a directory atomically: yield a temporary sibling, rename it to ``path`` on success.

    Parameters
    ----------
    path : path
        Final output directory. Missing parent directories are created (and removed again if
        the body fails).
    overwrite : bool, default False
        Replace an existing non-empty ``path``. An existing empty directory is always replaced.
        Either way, a non-empty ``path`` that another writer creates while the body runs is
        not replaced: the body's output is discarded and ``FileExistsError`` raised.

    Yields
    ------
    pathlib.Path
        An empty temporary directory next to ``path``; write the outputs there.

    Raises
    ------
    FileExistsError
        If ``path`` is a non-empty directory and ``overwrite`` is False, or is a file; or if
        it was missing or empty and another writer has filled it meanwhile.
    OSError
        An OSError (of the body too) about the temporary directory or a file in it is raised
        as one about ``path`` (or the same file in ``path``).

    Examples
    --------
    A body that fails leaves no output directory:

    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     with atomic_output_dir(Path(tmp) / "results") as out:
    ...         _ = (out / "summary.csv").write_text("group,n\\nall,3\\n")
    ...     try:
    ...         with atomic_output_dir(Path(tmp) / "failed") as out:
    ...             _ = (out / "summary.csv").write_text("half")
    ...             raise RuntimeError("the analysis failed")
    ...     except RuntimeError:
    ...         pass
    ...     print(sorted(p.name for p in Path(tmp).iterdir()),
    ...           [p.name for p in (Path(tmp) / "results").iterdir()])
    ['results'] ['summary.csv']
    """
    path = Path(path)
    remove_debris(path)
    if path.exists() and not path.is_dir():
        raise FileExistsError(f"{path}: exists and is not a directory")
    replace = path.is_dir() and any(path.iterdir())
    if replace and not overwrite:
        raise FileExistsError(f"{path}: output directory exists and is not empty "
                              "(use --overwrite, or overwrite=True, to replace it)")
    tmp, old = _sibling(path, "tmp"), _sibling(path, "old")
    with _as_destination(path, tmp, old):
        with _parent_dirs(path):
            tmp.mkdir()
            _PENDING[tmp] = path
            try:
                yield tmp
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            finally:
                del _PENDING[tmp]
        try:
            if replace:  # move the old directory aside first: `path` is never half-written
                os.replace(path, old)
            # A rename onto a non-empty directory fails: what another writer has put at
            # `path` meanwhile (or put back from `old`) stays.
            os.rename(tmp, path)
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            if replace and old.exists():  # put the old version back, unless another's is there
                if path.exists():
                    shutil.rmtree(old, ignore_errors=True)
                else:
                    os.rename(old, path)
            if exc.errno in (errno.ENOTEMPTY, errno.EEXIST) or (
                    isinstance(exc, FileNotFoundError) and replace):
                raise _appeared(path) from None
            raise
    if replace:
        shutil.rmtree(old)


def write_atomically(writers: Mapping[str | os.PathLike, Callable[[Path], object]]
                     ) -> list[Path]:
    """Write several files all or nothing, each atomically (:func:`atomic_file`).

    Every writer fills a temporary file before any is renamed into place, so a failure while
    writing leaves no file (and no folder this call created). If a rename fails after others
    succeeded, those are undone: a file that existed before is restored (its old version was
    kept as a hard link, or a copy where the file system has none), a new one removed, with
    the folders created for it.

    Parameters
    ----------
    writers : mapping of path to callable
        Final path -> function writing that file's content to the temporary path it is given.

    Returns
    -------
    list of pathlib.Path
        The paths written, in the order of ``writers``.

    Raises
    ------
    IsADirectoryError
        If a path is a directory (checked before anything is written).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     written = write_atomically({Path(tmp) / "a.txt": lambda p: p.write_text("a"),
    ...                                 Path(tmp) / "b.txt": lambda p: p.write_text("b")})
    ...     print([p.name for p in written], [p.read_text() for p in written])
    ['a.txt', 'b.txt'] ['a', 'b']
    """
    paths = [Path(p) for p in writers]
    for path in paths:
        if path.is_dir():
            raise IsADirectoryError(f"{path}: is a directory (expected the name of a file)")
    created = {folder for p in paths for folder in p.parents if not folder.exists()}
    backups: dict[Path, Path] = {}
    renaming = False
    try:
        with ExitStack() as stack:  # renames on exit, last path first
            for path, write in zip(paths, writers.values(), strict=True):
                write(stack.enter_context(atomic_file(path)))
            for path in paths:
                if path.exists() or path.is_symlink():
                    backups[path] = _keep(path)
            renaming = True
    except BaseException:
        if renaming:
            _undo(paths, backups, created)
        raise
    finally:
        for backup in backups.values():  # restored ones are gone already
            backup.unlink(missing_ok=True)
    return paths


def _keep(path: Path) -> Path:
    """A hidden second name of ``path`` that keeps its current version: a hard link (no copy),
    or a copy where the file system has no hard links."""
    backup = _sibling(path, "old")
    try:
        os.link(path, backup, follow_symlinks=False)
    except OSError:
        shutil.copy2(path, backup, follow_symlinks=False)
    return backup


def _undo(paths: list[Path], backups: dict[Path, Path], created: set[Path]) -> None:
    """Undo the renames of :func:`write_atomically` that took place: a path that is no longer
    its backup (or exists without one) was replaced."""
    for path in paths:
        backup = backups.get(path)
        if backup is None:
            path.unlink(missing_ok=True)
        elif not (path.exists() and os.path.samefile(path, backup)):
            os.replace(backup, path)
    for folder in sorted(created, key=lambda f: len(f.parts), reverse=True):  # innermost first
        with suppress(OSError):  # not empty (another writer's file) or gone already
            folder.rmdir()


def check_outputs(inputs: Iterable[str | os.PathLike], *,
                  files: Iterable[str | os.PathLike] = (),
                  dirs: Iterable[str | os.PathLike] = ()) -> None:
    """Refuse outputs that would replace or delete an input, before anything is written.

    Paths are compared resolved (absolute, symbolic links followed); existing files also by
    identity (:func:`os.path.samefile`, e.g. on case-insensitive file systems).

    Parameters
    ----------
    inputs : iterable of path
        Input files and directories (as given and as expanded).
    files : iterable of path
        Output files: none may be an input, and none may be named twice.
    dirs : iterable of path
        Output directories (replaced as a whole): none may be, contain or lie inside an
        input.

    Raises
    ------
    ValueError
        Naming the output and the input it would replace or delete.

    Examples
    --------
    >>> inputs = ["data/scanpaths.csv", "data"]
    >>> check_outputs(inputs, files=["out/sweep.csv"], dirs=["out/results"])  # fine
    >>> check_outputs(inputs, dirs=["data/results"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    ValueError: output directory data/results lies inside the input data (replacing ...
    """
    given = [(Path(p), Path(p).resolve()) for p in inputs]

    def same(a: Path, b: Path) -> bool:
        return a == b or (a.exists() and b.exists() and os.path.samefile(a, b))

    seen: dict[Path, Path] = {}
    for out in map(Path, files):
        real = out.resolve()
        for path, source in given:
            if same(real, source):
                raise ValueError(f"output file {out} is the input {path} (writing it would "
                                 "replace the input); choose another output path")
        other = next((p for r, p in seen.items() if same(real, r)), None)
        if other is not None:
            raise ValueError(f"output file {out} is also output {other}; choose distinct "
                             "output paths")
        seen[real] = out
    for out in map(Path, dirs):
        real = out.resolve()
        for path, source in given:
            relation = ("is" if same(real, source) else "contains" if real in source.parents
                        else "lies inside" if source in real.parents else None)
            if relation is not None:
                raise ValueError(f"output directory {out} {relation} the input {path} "
                                 "(replacing the directory would delete or change the "
                                 "input); choose an output directory apart from the inputs")
