"""pip's own settings as uv's flags, for scripts/install.sh.

uv installs the same wheels as pip but does not read pip's configuration, so where pip is
told to look (a `PIP_FIND_LINKS` directory of local wheels, a mirror in `/etc/pip.conf`, a
constraints file) uv would look elsewhere, and could pick another build of torch. This
reads what `pip config list` prints (the config files and the `PIP_*` variables) and
prints the equivalent uv flags, one per line; `SSL_CERT_FILE=` and `UV_HTTP_TIMEOUT=`
lines are environment settings. A local path or `file://` address that does not exist is
left out, as pip ignores it with a warning where uv would stop.

    python scripts/pip_to_uv.py [--without-index-url] < <(python -m pip config list)
"""

from __future__ import annotations

import ast
import os
import sys
from collections.abc import Callable
from urllib.parse import unquote, urlparse

# pip's key: uv's flag (pip reads each key from `install.` before `global.`)
FLAGS = {"find-links": "--find-links", "index-url": "--index-url",
         "extra-index-url": "--extra-index-url", "constraint": "--constraint"}
# uv's variable: pip's keys for it, the first one set wins (`--timeout` is `--default-timeout`)
ENVIRONMENT = {"SSL_CERT_FILE": ("cert",), "UV_HTTP_TIMEOUT": ("timeout", "default-timeout")}
# The variables first, then the files' `install` section, then `global`: pip's precedence
SECTIONS = (":env:", "install", "global")


def settings(listed: str) -> dict[str, str]:
    """`key: value` from `pip config list` lines such as `global.find-links='/opt/wheels'`,
    the first of each key in pip's order of precedence."""
    found: dict[tuple[str, str], str] = {}
    for line in listed.splitlines():
        name, equals, quoted = line.partition("=")
        section, dot, key = name.rpartition(".")
        if not equals or not dot:
            continue
        try:
            value = ast.literal_eval(quoted)
        except (ValueError, SyntaxError):
            continue
        if isinstance(value, str):
            found.setdefault((section, key), value)
    chosen: dict[str, str] = {}
    for section in SECTIONS:
        for (where, key), value in found.items():
            if where == section:
                chosen.setdefault(key, value)
    return chosen


def present(location: str, exists: Callable[[str], bool]) -> bool:
    """A web address, or a local path (plain or `file://`) that exists."""
    parsed = urlparse(location)
    if parsed.scheme in ("http", "https"):
        return True
    path = unquote(parsed.path) if parsed.scheme == "file" else location
    return exists(path)


def uv_flags(listed: str, *, without_index_url: bool = False,
             exists: Callable[[str], bool] = os.path.exists) -> list[str]:
    chosen = settings(listed)
    # pip takes the newest match from any index or link; uv, by default, the first index's
    lines = ["--index-strategy=unsafe-best-match"]
    for key, flag in FLAGS.items():
        if key in chosen and not (without_index_url and key == "index-url"):
            lines += [f"{flag}={item}" for item in chosen[key].split() if present(item, exists)]
    for variable, keys in ENVIRONMENT.items():
        values = [chosen[key].strip() for key in keys if chosen.get(key, "").strip()]
        if values:
            value = values[0]
            if variable == "UV_HTTP_TIMEOUT":   # uv takes whole seconds
                value = str(max(1, round(float(value)))) if _number(value) else ""
            if value:
                lines.append(f"{variable}={value}")
    return lines


def _number(text: str) -> bool:
    try:
        return float(text) > 0
    except ValueError:
        return False


if __name__ == "__main__":
    print("\n".join(uv_flags(sys.stdin.read(),
                             without_index_url="--without-index-url" in sys.argv[1:])))
