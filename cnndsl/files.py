"""The user's files, read and written safely.

Reads take regular files only and stop at a size limit, so `/dev/zero`, a FIFO
or a huge file cannot hang cnndsl or fill its memory. Writes go to a temporary
file beside the target and are renamed over it, so a reader never sees half a
file; they keep the user's umask (or the replaced file's mode), write *through*
a symlink to its target instead of replacing the link, and refuse a target that
is not a regular file (a device, a FIFO, a directory). Every operating-system
failure becomes a `FileProblem`: one sentence for the user, naming the path.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

#: A spec is text a person wrote: the largest real one (ResNet-50) is 1 KB.
MAX_SPEC_BYTES = 1 << 20   # 1 MiB
#: How much of an existing file is read to recognise one that cnndsl wrote.
MARK_BYTES = 4096


class FileProblem(Exception):
    """A file cannot be written (or is not what it should be); the message says
    why, in words. `status` is the exit status a command gives for it."""

    status = 1


class UnreadableFile(FileProblem):
    """An input file cannot be read: a usage error (exit status 2)."""

    status = 2


def show_path(path: str | os.PathLike) -> str:
    """A path as it may be printed: control, bidi and undecodable characters escaped."""
    return printable(os.fsdecode(path))


def printable_lines(text: str) -> str:
    """`text` escaped line by line: its own line breaks (a `= help:` line) are kept,
    every other control character is shown escaped."""
    return "\n".join(printable(line) for line in text.split("\n"))


def printable(text: str) -> str:
    """`text` with every character a terminal would interpret shown escaped
    (`\\x1b`, `\\u202e`, `\\udcff`): nothing a file holds or a path spells can
    move the cursor, change colours or reorder what is shown."""
    if text.isprintable():
        return text
    return "".join(_escape(c) for c in text)


def _escape(char: str) -> str:
    if char.isprintable():         # False for controls, format (bidi) and surrogates
        return char
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 \
        else f"\\U{code:08x}"


def _describe(error: OSError, path: Path, verb: str) -> FileProblem:
    cls = UnreadableFile if verb == "read" else FileProblem
    return cls(f"cannot {verb} `{show_path(path)}`: {_reason(error)}")


def _reason(error: OSError) -> str:
    """An operating-system error in words, without the path."""
    reasons = {
        errno.ENOENT: "no such file or directory",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.EROFS: "the file system is read-only",
        errno.ENOSPC: "no space left on the device",
        errno.EDQUOT: "the disk quota is exceeded",
        errno.ENOTDIR: "a part of the path is a file, not a directory",
        errno.EISDIR: "it is a directory",
        errno.ENAMETOOLONG: "the name is too long",
        errno.ELOOP: "too many levels of symbolic links (a link loop?)",
        errno.EFBIG: "the file is too large",
        errno.EIO: "an input/output error",
    }
    return reasons.get(error.errno or 0) or (error.strerror or type(error).__name__).lower()


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


# ---- reading ------------------------------------------------------------------------

def read_bytes(path: str | os.PathLike, limit: int = MAX_SPEC_BYTES, *,
               what: str = "file") -> bytes:
    """The bytes of a regular file of at most `limit` bytes.

    The file is opened without blocking (a FIFO with no writer would otherwise
    hang here) and checked to be a regular file before anything is read.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except ValueError:   # a NUL in the name: no file system has one
        raise UnreadableFile(f"cannot read `{show_path(path)}`: the name holds a NUL "
                             "character") from None
    except OSError as exc:
        if exc.errno == errno.EISDIR:
            raise UnreadableFile(f"`{show_path(path)}` is a directory, not a {what}") from None
        raise _describe(exc, path, "read") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFile(f"`{show_path(path)}` is {_kind(info.st_mode)}, not a {what}")
        if info.st_size > limit:
            raise UnreadableFile(f"`{show_path(path)}` is {info.st_size:,} bytes; a {what} may be "
                              f"at most {limit:,}")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            # sized by the file, not the limit: read(n) reserves n bytes before reading
            data = handle.read(min(limit, info.st_size) + 1)
            if len(data) > info.st_size:     # it grew since fstat
                data += handle.read(limit + 1 - len(data))
    except OSError as exc:
        raise _describe(exc, path, "read") from None
    finally:
        os.close(fd)
    if len(data) > limit:   # it grew while we read
        raise UnreadableFile(f"`{show_path(path)}` is over {limit:,} bytes; a {what} may be at "
                          f"most {limit:,}")
    return data


class Unopened(UnreadableFile):
    """An input file that could not be opened as a regular file; `reason` says why in
    words without the path (for a caller that names the file itself)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def open_regular(path: str | os.PathLike, *, what: str = "file"):
    """`path` opened for reading (binary) if it is a regular file; `Unopened` otherwise.
    A FIFO is opened without blocking and refused, as are a directory, a device, a
    socket, a link loop, and a missing or unreadable file."""
    path = Path(path)
    shown = show_path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except ValueError:   # a NUL in the name
        raise Unopened(f"cannot read `{shown}`: the name holds a NUL character",
                       "the name holds a NUL character") from None
    except OSError as exc:
        raise Unopened(f"cannot read `{shown}`: {_reason(exc)}", _reason(exc)) from None
    try:
        mode = os.fstat(fd).st_mode
    except OSError as exc:
        os.close(fd)
        raise Unopened(f"cannot read `{shown}`: {_reason(exc)}", _reason(exc)) from None
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise Unopened(f"`{shown}` is {_kind(mode)}, not a {what}",
                       f"it is {_kind(mode)}, not a {what}")
    return os.fdopen(fd, "rb")


def read_head(path: Path, size: int = MARK_BYTES, *, tail: bool = False) -> bytes | None:
    """The first (or, with `tail`, the last) bytes of an existing regular file;
    None for anything else."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        if tail:
            os.lseek(fd, max(0, info.st_size - size), os.SEEK_SET)
        return os.read(fd, size)
    except OSError:
        return None
    finally:
        os.close(fd)


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_marked(path: Path, mark: str) -> bool:
    """True when `path` is a PNG whose `Software` text chunk is exactly `mark`: how
    cnndsl recognises a picture it wrote itself (and so may replace)."""
    head = read_head(path)
    body = b"tEXt" + b"Software\x00" + mark.encode("latin-1")
    # the chunk's length field first, so that a longer text with `mark` as its prefix is not it
    chunk = (len(body) - 4).to_bytes(4, "big") + body
    return head is not None and head.startswith(PNG_SIGNATURE) and chunk in head


# ---- writing ------------------------------------------------------------------------

def target_of(path: str | os.PathLike) -> Path:
    """Where a write to `path` lands: a symlink's final target (the link itself
    stays); refuses anything that exists and is not a regular file."""
    path = Path(path)
    try:
        os.lstat(path)
    except FileNotFoundError:
        pass
    except ValueError:   # a NUL in the name
        raise FileProblem(f"cannot write `{show_path(path)}`: the name holds a NUL "
                          "character") from None
    except OSError as exc:    # a name too long, a loop, a file where a directory should be
        if exc.errno != errno.ENOTDIR:
            raise _describe(exc, path, "write") from None
    try:
        real = Path(os.path.realpath(path)) if path.is_symlink() else path
        info = os.stat(path) if os.path.lexists(real) else None
    except OSError as exc:
        raise _describe(exc, path, "write") from None
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise FileProblem(f"`{show_path(path)}` is {_kind(info.st_mode)}; cnndsl writes only "
                          "regular files")
    return real


def is_directory(path: str | os.PathLike) -> bool:
    """True for an existing directory; False for anything else, including a
    path the system cannot even look up (a name too long)."""
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: str | os.PathLike, data: bytes | str, *,
                 before: Callable[[Path], None] | None = None) -> Path:
    """Write `data` to `path` atomically; returns the file actually written.

    A new file gets the permissions the user's umask gives (`0666 & ~umask`), a
    replaced file keeps its own. `before(target)`, if given, runs once the target
    is known and may raise `FileProblem` (the overwrite guard).
    """
    target = target_of(path)
    if before is not None:
        before(target)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode) if target.exists() else 0o666 & ~_umask()
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise _describe(exc, Path(path), "write") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())   # the data reaches the disk before the rename
        os.chmod(tmp, mode)
        os.replace(tmp, target)
        _sync_folder(target.parent)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise _describe(exc, Path(path), "write") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _sync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (a crash could otherwise leave the old
    or an empty file); a file system that cannot sync a folder is left as it is."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def guard(recognise: Callable[[Path], bool], force: bool, *,
          hint: str = "pass `-o` with another path, or `--force` to replace it"):
    """An overwrite guard for `write_atomic(before=...)`: an existing file is
    replaced only when `recognise(path)` says cnndsl wrote it, or `force`."""
    def check(target: Path) -> None:
        if force or not os.path.lexists(target):
            return
        if not recognise(target):
            raise FileProblem(f"`{show_path(target)}` exists and was not written by cnndsl; "
                              f"not overwriting it\n  = help: {hint}")
    return check


def csv_text(rows) -> str:
    """Rows as CSV text, one `\\n` per row, every name exact: a row with a carriage
    return in a cell is written fully quoted, since the `csv` module quotes only the
    characters of its own line ending and every reader ends a line at a bare `\\r`.
    Cells are not prefixed against spreadsheet formulas (`=cmd|...`): a program reads
    the name it wrote; open the file in a spreadsheet as text."""
    import csv
    import io

    buffer = io.StringIO()
    plain = csv.writer(buffer, lineterminator="\n")
    quoted = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
    for row in rows:
        cells = list(row)
        (quoted if any("\r" in str(cell) for cell in cells) else plain).writerow(cells)
    return buffer.getvalue()
