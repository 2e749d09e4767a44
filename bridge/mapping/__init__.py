"""Pure functions: TikTok model + mapping spec → NetSuite payload (and back); spec loading."""

from __future__ import annotations

from pathlib import Path

from bridge.mapping.specs import SpecSet

# Importing a spec module registers its model in SPEC_MODELS.
SPEC_MODULES = ("bridge.mapping.orders_spec",)


def load_all_specs(directory: Path, *, strict: bool = True) -> SpecSet:
    """Every spec file in ``directory``, validated against its registered model."""
    import importlib

    for name in SPEC_MODULES:
        importlib.import_module(name)
    return SpecSet.load(directory, strict=strict)
