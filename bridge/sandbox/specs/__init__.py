"""The sandboxes' spec overlay: the shipped ``mapping_specs/`` name no account's records (their
``"<SET ME: …>"`` placeholders and empty shop lists are for a merchant to fill in); the YAML files
beside this module hold the values that fit the sandboxes' seeded records (``eid:ACCT-1250``,
``eid:SUB-US``, the sandbox shops, TikTok sandbox category ``600010`` …).

``sandbox_specs(target)`` writes the shipped specs with this overlay merged on top (mappings merge key
by key, everything else is replaced) into ``target``. The demo, the benchmarks, the chaos run and the
tests all point ``TTNS_SPECS_DIR`` there, so they run the shipped settings (modes, policies, checks)
with only the records swapped, and a placeholder the overlay does not fill is a failure, not a default.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from bridge.mapping.specs import deep_merge
from bridge.resources import default_specs_dir

OVERLAY = Path(__file__).resolve().parent
SHIPPED = default_specs_dir()  # the checkout's mapping_specs/, or the copy an installed wheel carries

HEADER = ("# Written by bridge.sandbox.specs: {shipped} with the sandbox overlay {overlay} merged on top.\n"
          "# Edit those files, not this one (it is rewritten each time a sandbox world starts).\n")


def sandbox_specs(target: Path, shipped: Path = SHIPPED) -> Path:
    """The shipped specs in ``shipped`` with the sandbox overlay merged on top, written to ``target``
    (created if needed; returned). A file only in the overlay is written as it is."""
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    names = sorted({p.name for p in shipped.glob("*.yaml")} | {p.name for p in OVERLAY.glob("*.yaml")})
    for name in names:
        base = _read(shipped / name)
        over = _read(OVERLAY / name)
        merged = deep_merge(base, over)
        header = HEADER.format(shipped=f"{shipped.name}/{name}", overlay=f"bridge/sandbox/specs/{name}")
        (target / name).write_text(header + yaml.safe_dump(merged, sort_keys=False, allow_unicode=True, width=120),
                                   encoding="utf-8")
    return target


def _read(path: Path) -> dict[str, object]:
    if not path.exists():
        return {}
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: a spec file must hold a mapping of keys")
    return raw


__all__ = ["OVERLAY", "SHIPPED", "sandbox_specs"]
