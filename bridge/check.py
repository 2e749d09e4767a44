"""One result of a `ttns doctor` check (``bridge.doctor`` runs them; each area's module yields them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""
    fix: str = ""
    warning: bool = False  # shown, but does not fail the run
