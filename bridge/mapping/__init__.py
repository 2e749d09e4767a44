"""Pure functions: TikTok model + mapping spec → NetSuite payload (and back); spec loading."""

from __future__ import annotations

import importlib
from pathlib import Path

from bridge.mapping.specs import SpecSet

# Importing a spec module registers its model in SPEC_MODELS.
SPEC_MODULES = (
    "bridge.mapping.orders_spec",
    "bridge.mapping.locations_spec",
    "bridge.mapping.inventory_spec",
    "bridge.mapping.catalog_spec",
    "bridge.mapping.prices_spec",
    "bridge.mapping.carriers_spec",
    "bridge.mapping.returns_spec",
    "bridge.mapping.settlement_spec",
    "bridge.mapping.monitoring_spec",
)


def register_spec_models() -> None:
    """Import every spec module so each model is in ``SPEC_MODELS``."""
    for name in SPEC_MODULES:
        importlib.import_module(name)


def load_all_specs(directory: Path, *, strict: bool = True) -> SpecSet:
    """Every spec file in ``directory``, validated against its registered model."""
    register_spec_models()
    return SpecSet.load(directory, strict=strict)
