"""The run folder: chosen, created, locked, and its record (`config.json`) read back.

A run holds an exclusive lock on `.lock` inside its folder (`filelock`: `flock`
on POSIX, `msvcrt.locking` on Windows) for as long as it runs, and removes the
file as it lets go (so a finished run leaves none), so a second `train` on the
same `--out` refuses instead of both writing;
the lock also makes it safe to remove a killed save's temporaries. A numbered
folder (`runs/<model>-<n>/`) is made by `mkdir` (atomic: two runs never take the
same number) only once the run is ready to start, and removed again if the start
fails before anything was written, so `--resume` never picks an empty one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from filelock import FileLock, Timeout

from cnndsl.files import FileProblem, read_bytes, show_path, write_atomic

LOCK = ".lock"
_LOCK_TRIES = 20
#: the locks this process holds (a forked worker closes its copies)
_HELD: set[FileLock] = set()
CONFIG = "config.json"
MAX_CONFIG_BYTES = 16 << 20


class FolderError(Exception):
    """A run folder problem, in words."""


def latest_run(model: str, base: Path = Path("runs")) -> Path:
    """The newest `runs/<model>-<n>/` that holds a checkpoint (for `--resume`)."""
    runs = sorted((p for p in base.glob(f"{model}-*") if (p / "last.pt").is_file()),
                  key=run_number)
    if not runs:
        raise FolderError(f"--resume: no run of {model} with a last.pt under "
                          f"{show_path(base)}/; pass --out DIR")
    return runs[-1]


def run_number(path: Path) -> int:
    tail = path.name.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else 0


class RunFolder:
    """A locked run folder; `release()` (or the end of the process) unlocks it."""

    def __init__(self, path: Path, created: bool) -> None:
        self.path = path
        self.created = created      # made by this run: removed if the start fails
        self._lock: FileLock | None = None

    @classmethod
    def open_new(cls, out: str | None, model: str, base: Path = Path("runs")) -> RunFolder:
        """`--out DIR` (new or empty), or the next free `runs/<model>-<n>/`."""
        if out:
            path = Path(out)
            if path.exists() and not path.is_dir():
                raise FolderError(f"--out `{show_path(path)}` is a file, not a folder")
            _refuse_taken(path)       # before the lock: no `.lock` left in someone's folder
            created = not path.exists()
            _mkdir(path, parents=True, exist_ok=True)
            folder = cls(path, created)
            folder.lock()
            try:
                _refuse_taken(path)   # again under the lock: another run may have started
            except FolderError:
                folder.release()
                raise
            return folder
        return cls._numbered(model, base)

    @classmethod
    def _numbered(cls, model: str, base: Path) -> RunFolder:
        _mkdir(base, parents=True, exist_ok=True)
        number = max((run_number(p) for p in base.glob(f"{model}-*")), default=0) + 1
        while True:
            path = base / f"{model}-{number}"
            try:
                path.mkdir()
            except FileExistsError:   # another run took this number first
                number += 1
                continue
            except OSError as exc:
                raise FolderError(f"cannot create `{show_path(path)}`: {exc.strerror}") \
                    from None
            folder = cls(path, True)
            folder.lock()
            return folder

    @classmethod
    def open_existing(cls, path: Path) -> RunFolder:
        if not (path / "last.pt").is_file():
            raise FolderError(f"--resume: `{show_path(path / 'last.pt')}` does not exist")
        folder = cls(path, False)
        folder.lock()
        return folder

    def lock(self) -> None:
        """Take the folder's lock. The lock file is removed when a run releases it,
        so a lock taken on a file already removed is let go and taken again."""
        path = self.path / LOCK
        for _ in range(_LOCK_TRIES):
            lock = FileLock(path, timeout=0, mode=0o644)
            try:
                lock.acquire()
            except Timeout:
                raise FolderError(f"`{show_path(self.path)}` is in use by another cnndsl "
                                  "train run; wait for it, or pass another --out") from None
            except OSError as exc:
                raise FolderError(f"cannot lock `{show_path(self.path)}`: "
                                  f"{exc.strerror or exc}") from None
            fd = _descriptor(lock)
            if fd is None or _is_file(fd, path):
                self._lock = lock
                _HELD.add(lock)
                return
            lock.release()   # a run released (and removed) it meanwhile: take the new one
        raise FolderError(f"cannot lock `{show_path(self.path)}`: its lock keeps changing")

    def release(self) -> None:
        """Unlock, removing the lock file first (while still holding it), so a
        finished run leaves no empty `.lock` behind (Windows refuses to remove a
        locked file: there it stays, harmless)."""
        if self._lock is not None:
            fd = _descriptor(self._lock)
            if fd is not None and _is_file(fd, self.path / LOCK):
                try:
                    (self.path / LOCK).unlink()
                except OSError:
                    pass
            _HELD.discard(self._lock)
            self._lock.release()
            self._lock = None

    def abandon(self) -> None:
        """After a failed start: remove the folder if this run made it and it holds
        nothing but the lock, then unlock."""
        empty = self.created and self._lock is not None and \
            all(p.name == LOCK for p in self.path.iterdir())
        if empty:
            for remove in (self.path / LOCK).unlink, self.path.rmdir:
                try:    # Windows refuses both while the lock is held
                    remove()
                except OSError:
                    pass
        self.release()
        if empty and os.name == "nt" and self.path.is_dir():
            try:        # its filelock removed `.lock` on release
                self.path.rmdir()
            except OSError:
                pass

    # ---- the record ----------------------------------------------------------------

    def read_config(self) -> dict:
        path = self.path / CONFIG
        try:
            record = json.loads(read_bytes(path, MAX_CONFIG_BYTES, what="run record"))
        except FileProblem as exc:
            raise FolderError(str(exc)) from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise FolderError(f"`{show_path(path)}` is not valid JSON ({exc}); the run folder "
                              "is damaged") from None
        if not isinstance(record, dict) or not isinstance(record.get("settings"), dict):
            raise FolderError(f"`{show_path(path)}` is not a cnndsl run record")
        return record

    def write_config(self, record: dict) -> None:
        write_atomic(self.path / CONFIG, json.dumps(record, indent=2) + "\n")


def _descriptor(lock: FileLock) -> int | None:
    """The descriptor a held `FileLock` locks (filelock keeps it in its context)."""
    return getattr(getattr(lock, "_context", None), "lock_file_fd", None)


def _is_file(fd: int, path: Path) -> bool:
    """Whether `fd` is still the file at `path` (not one removed since)."""
    try:
        mine, there = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (mine.st_dev, mine.st_ino) == (there.st_dev, there.st_ino)


def forget_inherited_locks(*_) -> None:
    """In a forked child (a loader worker): close the copies of the run's lock.

    A `flock` belongs to the open file, which a fork shares: without this, a
    worker outliving a killed trainer would keep the folder locked, and the
    `--resume` that follows would be refused. Used as `worker_init_fn`. Recent
    filelocks close the copy at the fork themselves (then there is no descriptor
    left here); older ones keep it, and forget it only once it is closed."""
    for lock in list(_HELD):
        fd = _descriptor(lock)
        if fd is not None:
            lock._context.lock_file_fd = None   # nothing to unlock or close at exit
            try:
                os.close(fd)
            except OSError:
                pass
    _HELD.clear()


def _mkdir(path: Path, **kwargs) -> None:
    try:
        path.mkdir(**kwargs)
    except OSError as exc:
        raise FolderError(f"cannot create `{show_path(path)}`: {exc.strerror}") from None


def _refuse_taken(path: Path) -> None:
    """`--out` must be new or empty (but for our lock)."""
    if path.is_dir() and any(p.name != LOCK for p in path.iterdir()):
        raise FolderError(f"`{show_path(path)}` already holds a run; pass --resume to continue "
                          "it, or another --out")
