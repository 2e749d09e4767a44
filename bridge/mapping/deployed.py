"""The last deployed mapping specs, kept in the database.

Every ``ttns web``, ``ttns worker`` and ``ttns scheduler`` validates the specs before it starts and,
when they differ from the snapshot on record, records the files it starts with. ``ttns specs diff``
compares an edited spec folder with that snapshot, so it works without git (the usual production
layout: specs in ``/etc/ttns/mapping_specs``).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from bridge.mapping.specs import SpecError, SpecProblem, load_spec

CURSOR = "specs.deployed"
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Snapshot:
    files: dict[str, str]
    digest: str
    at: str
    by: str
    directory: str


def read_files(directory: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(Path(directory).glob("*.y*ml"))}


def digest_of(files: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:16]


def load_snapshot(store: Any) -> Snapshot | None:
    raw = store.cursors.get(CURSOR)
    if not raw:
        return None
    data = json.loads(raw)
    return Snapshot(files=dict(data["files"]), digest=str(data["digest"]), at=str(data["at"]), by=str(data["by"]),
                    directory=str(data.get("directory", "")))


def record(store: Any, directory: Path, *, by: str, now: datetime) -> bool:
    """Record the spec files of ``directory`` as deployed (only when they changed). True when recorded."""
    files = read_files(directory)
    digest = digest_of(files)
    current = load_snapshot(store)
    if current is not None and current.digest == digest:
        return False
    store.cursors.set(CURSOR, json.dumps({"files": files, "digest": digest, "at": now.isoformat(), "by": by,
                                          "directory": str(directory)}))
    return True


def spec_from_snapshot(snapshot: Snapshot, name: str, model: type[M]) -> M:
    """Spec ``name`` (file ``name.yaml``) as deployed, validated with today's model."""
    text = snapshot.files.get(f"{name}.yaml")
    if text is None:
        raise SpecError([SpecProblem(f"{name}.yaml", "", f"not in the deployed snapshot of {snapshot.at}",
                                     "compare with a git revision instead (--from REV)")])
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d) / f"{name}.yaml"
        tmp.write_text(text, encoding="utf-8")
        return load_spec(tmp, model)


__all__ = ["CURSOR", "Snapshot", "digest_of", "load_snapshot", "read_files", "record", "spec_from_snapshot"]
