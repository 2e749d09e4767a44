"""What `ttns specs check` and `ttns specs diff` need: the NetSuite ids a spec names, and a spec
as it was at a git revision."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import TypeVar

from bridge.mapping.orders_spec import OrderSettings, OrdersSpec, references
from bridge.mapping.specs import SpecError, SpecModel, SpecProblem, SpecSet, is_placeholder, load_spec

M = TypeVar("M", bound=SpecModel)

# (SuiteQL table, what to call it in a message) → {id: {where it is used}}
Refs = dict[tuple[str, str], dict[str, set[str]]]


def _add(refs: Refs, table: str, label: str, ref_id: str | None, where: str) -> None:
    if ref_id and not is_placeholder(ref_id):  # placeholders are reported as such, never looked up
        refs.setdefault((table, label), {}).setdefault(ref_id, set()).add(where)


def _order_settings(refs: Refs, s: OrderSettings, prefix: str) -> None:
    for path, table, label, value in references(s):
        _add(refs, table, label, value, f"{prefix}.{path}")


def referenced_ids(spec_set: SpecSet) -> Refs:
    """Every NetSuite id the loaded specs name, with where each is used (placeholders left out)."""
    refs: Refs = {}
    orders = spec_set.specs.get("orders")
    if isinstance(orders, OrdersSpec):
        _order_settings(refs, orders.defaults, "orders.yaml: defaults")
        for region in orders.markets:
            _order_settings(refs, orders.for_shop("", region), f"orders.yaml: markets.{region}")
        for shop_id in orders.shops:
            _order_settings(refs, orders.for_shop(shop_id), f"orders.yaml: shops.{shop_id}")
    for name, spec in spec_set:
        extra = getattr(spec, "netsuite_refs", None)
        if callable(extra):
            for (table, label), ids in extra().items():
                for ref_id, wheres in ids.items():
                    for where in wheres:
                        _add(refs, table, label, ref_id, f"{name}.yaml: {where}")
    return refs


def spec_at_revision(ref: str, path: Path, model: type[M]) -> M:
    """``path`` as committed at git revision ``ref``, validated."""
    try:
        root = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=True,
                              cwd=path.resolve().parent).stdout.strip()
        rel = path.resolve().relative_to(root)
        text = subprocess.run(["git", "show", f"{ref}:{rel}"], capture_output=True, text=True, check=True,
                              cwd=root).stdout
    except (subprocess.CalledProcessError, ValueError, FileNotFoundError) as exc:
        raise SpecError([SpecProblem(str(path), "", f"cannot be read at git revision {ref!r}",
                                     "give a revision that has the file (e.g. HEAD, main, a tag)")]) from exc
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d) / path.name
        tmp.write_text(text)
        return load_spec(tmp, model)
