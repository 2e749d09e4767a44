"""Files only their owner may read (0600), created that way rather than chmod-ed afterwards, so there
is no moment a secret (a private key, an env file, a log) is readable by other users."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TextIO


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` (replacing it), mode 0600 from the first byte."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT: set it
        os.write(fd, data)
    finally:
        os.close(fd)


def append_private(path: Path) -> TextIO:
    """``path`` opened for appending text, mode 0600."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "a", encoding="utf-8")


__all__ = ["append_private", "write_private"]
