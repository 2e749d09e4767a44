"""Where the files shipped with the bridge live: the default mapping specs and the SuiteCloud project.

A wheel carries them inside the package (``bridge/_project/…``, copied there by ``setup.py`` at build
time); a source checkout has them at the repository root. Either way the answer never depends on the
current directory.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
BUNDLED = PACKAGE_DIR / "_project"
CHECKOUT = PACKAGE_DIR.parent


def project_dir(name: str) -> Path:
    """``mapping_specs`` or ``suitecloud``: the copy in the installed package, else the checkout's."""
    bundled = BUNDLED / name
    if bundled.is_dir():
        return bundled
    return CHECKOUT / name


def default_specs_dir() -> Path:
    """The mapping specs shipped with this version (copy them to edit: ``ttns specs init DIR``)."""
    return project_dir("mapping_specs")


def state_dir() -> Path:
    """Where the default SQLite database lives when no configuration names one: systemd's
    ``$STATE_DIRECTORY``, else ``$XDG_STATE_HOME/ttns``, else ``~/.local/state/ttns``."""
    systemd = os.environ.get("STATE_DIRECTORY", "").split(":")[0]
    if systemd:
        return Path(systemd)
    xdg = os.environ.get("XDG_STATE_HOME", "")
    base = Path(xdg) if xdg else Path.home() / ".local" / "state"
    return base / "ttns"


__all__ = ["default_specs_dir", "project_dir", "state_dir"]
