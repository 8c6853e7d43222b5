"""The files the playground touches: the one spec it was opened on (read again
each time the page loads, written back only on an explicit save, and only if
nobody changed it since the page read it) and a folder of examples it only reads.

No request names a path: a save always goes to the opened file, and an example
is looked up by name among the folder's own `.cnn` files.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from cnndsl.files import MAX_SPEC_BYTES, FileProblem, read_bytes, show_path, write_atomic
from cnndsl.serve.bodies import BadRequest

#: The examples menu lists at most this many files.
MAX_EXAMPLES = 200

_BOM = b"\xef\xbb\xbf"


def digest(data: bytes | None) -> str:
    """A file's fingerprint: a save is refused when the file's changed under us."""
    return hashlib.sha256(data).hexdigest() if data is not None else "absent"


def decode(data: bytes, path: Path) -> str:
    """A spec file's text (a byte-order mark dropped); only UTF-8 text can be edited."""
    try:
        return data.removeprefix(_BOM).decode("utf-8")
    except UnicodeDecodeError:
        raise FileProblem(f"`{show_path(path)}` is not UTF-8 text; the playground edits "
                          "only UTF-8 specs") from None


class Workspace:
    """The opened spec (or none) and the examples folder (or none)."""

    def __init__(self, path: Path | None = None, examples: Path | None = None) -> None:
        self.path = path
        self.examples = examples
        self.text, self.digest = "", digest(None)
        self._data = b""
        self._saving = threading.Lock()   # two saves never interleave their check and write
        if path is not None:
            self.read()

    def read(self) -> None:
        """Read the opened file (again): the page shows what is on disk now."""
        data = read_bytes(self.path, MAX_SPEC_BYTES, what="spec file")
        self.text = decode(data, self.path).replace("\r\n", "\n")
        self.digest, self._data = digest(data), data

    @property
    def name(self) -> str | None:
        """The opened file as the page shows it."""
        return show_path(self.path) if self.path is not None else None

    def session(self) -> dict:
        """What the page starts from: the opened file as it is on disk now."""
        if self.path is not None:
            with self._saving:
                self.read()
        return {"file": self.name, "basename": self.path.name if self.path else None,
                "text": self.text, "digest": self.digest, "examples": self.example_names()}

    def save(self, text: str, base: str, force: bool = False) -> dict:
        """Write `text` to the opened file. Refused when no file was opened, and,
        unless `force`, when the file on disk is no longer the one the page loaded."""
        if self.path is None:
            raise BadRequest("no file was opened; start `cnndsl serve FILE` to save to one", 409)
        with self._saving:
            return self._save(text, base, force)

    def _save(self, text: str, base: str, force: bool) -> dict:
        now = self._current()
        if now != base and not force:
            raise BadRequest(f"`{self.name}` changed on disk since it was loaded; "
                             "save again to overwrite it", 409)
        payload = self.encode(text)
        write_atomic(self.path, payload)
        self.text, self.digest, self._data = text, digest(payload), payload
        return {"file": self.name, "digest": self.digest, "bytes": len(payload)}

    def encode(self, text: str) -> bytes:
        """The bytes to write for `text` (the page's lines end in `\n`): the file's own
        bytes when the text is unchanged (mixed line endings stay mixed); else its
        byte-order mark kept and its lines ending as most of its lines ended."""
        if text == self.text:
            return self._data
        crlf = self._data.count(b"\r\n")
        data = text.replace("\n", "\r\n") if crlf > self._data.count(b"\n") - crlf else text
        return (_BOM if self._data.startswith(_BOM) else b"") + data.encode("utf-8")

    def _current(self) -> str:
        try:
            return digest(read_bytes(self.path, MAX_SPEC_BYTES, what="spec file"))
        except FileProblem:   # gone, or no longer a regular file
            return digest(None)

    def example_names(self) -> list[str]:
        """The `.cnn` files of the examples folder, sorted."""
        if self.examples is None or not self.examples.is_dir():
            return []
        try:
            found = sorted(p.name for p in self.examples.glob("*.cnn") if p.is_file())
        except OSError:
            return []
        return found[:MAX_EXAMPLES]

    def example(self, name: str) -> str:
        """The text of one example, by its name in the menu."""
        if name not in self.example_names():
            raise BadRequest(f"no example named `{name[:64]}`", 404)
        path = self.examples / name
        return decode(read_bytes(path, what="spec file"), path).replace("\r\n", "\n")
