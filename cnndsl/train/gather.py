"""The image files `cnndsl predict` is given: files as they are, folders walked.

A folder is walked recursively (symbolic links followed, each folder once, so a link
loop ends), its hidden entries (`.name`) left out; its images (by suffix) are taken in
byte order of their paths, so the output order does not depend on the file system.
Special files (FIFOs, devices, sockets) and broken links named like images are skipped
and counted, other files counted; the walk stops with `TooMany` past `MAX_FILES`
images or `MAX_ENTRIES` entries. A path given by the user that is not a folder is
taken as it is: whether it is an image is for the reader to say, in its row.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field

from cnndsl.files import is_directory, show_path
from cnndsl.train.images import SUFFIXES

#: images one `predict` takes (its rows are kept in memory for the table's widths)
MAX_FILES = 100_000
#: directory entries one `predict` looks at, images or not
MAX_ENTRIES = 1_000_000


class TooMany(Exception):
    """More files than one `predict` takes; the message says which folder and what to do."""


@dataclass
class Gathered:
    """The paths to predict, in order, and what the walk skipped."""

    paths: list[str] = field(default_factory=list)
    empty: set[str] = field(default_factory=set)     # folders given that hold no image
    special: int = 0          # FIFOs, devices, sockets, broken links with an image's name
    other: int = 0            # files that are not images (by suffix)
    repeated: int = 0         # folders reached again through a link (a loop, or two ways)
    unlisted: list[str] = field(default_factory=list)   # folders that could not be read
    entries: int = 0

    def notes(self) -> list[str]:
        notes = []
        if self.special:
            notes.append(f"skipped {self.special:,} special file(s) named like images "
                         "(FIFOs, devices, sockets, broken links)")
        if self.other:
            notes.append(f"skipped {self.other:,} file(s) that are not images (looked for "
                         f"{', '.join(sorted(SUFFIXES))})")
        if self.repeated:
            notes.append(f"skipped {self.repeated:,} folder(s) reached again through a "
                         "symbolic link")
        if self.unlisted:
            notes.append(f"could not read {len(self.unlisted):,} folder(s); the first: "
                         f"{self.unlisted[0]}")
        return notes


def gather(arguments: list[str]) -> Gathered:
    """Every path to predict, from the files and folders given, in order."""
    found = Gathered()
    for argument in arguments:
        if is_directory(argument):
            before = len(found.paths)
            images = sorted(_walk(argument, found), key=os.fsencode)
            found.paths.extend(images)
            if len(found.paths) == before:
                found.empty.add(argument)
                found.paths.append(argument)     # its row says it holds no image
        else:
            found.paths.append(argument)
        if len(found.paths) > MAX_FILES:
            raise TooMany(f"over {MAX_FILES:,} images to predict (`{show_path(argument)}` "
                          "passes the limit); give fewer files or folders at once")
    return found


def _walk(root: str, found: Gathered) -> list[str]:
    """The images under `root`, each folder read once (by device and inode)."""
    images: list[str] = []
    seen: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            info = os.stat(folder)
        except OSError:
            found.unlisted.append(show_path(folder))
            continue
        if (info.st_dev, info.st_ino) in seen:
            found.repeated += 1
            continue
        seen.add((info.st_dev, info.st_ino))
        stack.extend(_list(folder, found, images, root))
    return images


def _list(folder: str, found: Gathered, images: list[str], root: str) -> list[str]:
    """Sort one folder's entries into `images` and counts; returns its sub-folders."""
    folders = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                found.entries += 1
                if found.entries > MAX_ENTRIES:
                    raise TooMany(f"`{show_path(root)}` holds over {MAX_ENTRIES:,} files and "
                                  "folders; give a smaller folder")
                if entry.name.startswith("."):
                    continue
                _sort(entry, found, images, folders)
                if len(images) + len(found.paths) > MAX_FILES:
                    raise TooMany(f"`{show_path(root)}` holds over {MAX_FILES:,} images; "
                                  "predict takes at most that many at once: give it "
                                  "sub-folders in turn")
    except OSError:
        found.unlisted.append(show_path(folder))
    return folders


def _sort(entry: os.DirEntry, found: Gathered, images: list[str], folders: list[str]) -> None:
    try:
        mode = entry.stat().st_mode           # follows a link: a link to a folder is walked
    except OSError:                          # a broken link, a loop of links
        mode = None
    if mode is not None and stat.S_ISDIR(mode):
        folders.append(entry.path)
    elif os.path.splitext(entry.name)[1].lower() not in SUFFIXES:
        found.other += 1
    elif mode is not None and stat.S_ISREG(mode):
        images.append(entry.path)
    else:
        found.special += 1
