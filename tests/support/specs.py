"""The mapping specs the tests run with: the shipped ``mapping_specs/`` with the sandbox overlay
(``bridge/sandbox/specs/``) merged on top, as the demo and the benchmarks use them. The shipped files
themselves hold ``"<SET ME: …>"`` placeholders (tests/unit/test_shipped_specs.py)."""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

from bridge.sandbox.specs import sandbox_specs

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_SPECS = ROOT / "mapping_specs"


@functools.cache
def sandbox_specs_dir() -> Path:
    """Written once per test process; treat it as read-only (copy a file to change it)."""
    target = Path(tempfile.mkdtemp(prefix="ttns-sandbox-specs-"))
    atexit.register(shutil.rmtree, target, ignore_errors=True)
    return sandbox_specs(target)
