"""`ttns doctor` checks for the mapping specs: they load, hold no ``"<SET ME: …>"`` placeholder, and
every NetSuite record they name exists in the account (the same checks as `ttns specs check`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from bridge.check import Check
from bridge.errors import BridgeError

if TYPE_CHECKING:
    from bridge.bootstrap import App


def doctor_checks(container: App) -> Iterator[Check]:
    from bridge.flows.spec_check import clearing_account_problems, clearing_currency_problems, referenced_ids
    from bridge.mapping import load_all_specs
    from bridge.mapping.specs import SpecError

    directory = container.settings.specs_dir
    try:
        spec_set = load_all_specs(directory)
    except SpecError as exc:
        for problem in exc.problems:
            yield Check(f"spec {problem.file}", False, f"{problem.key}: {problem.problem}" if problem.key
                        else problem.problem, problem.fix)
        return
    names = [n for n, _ in spec_set]
    yield Check("mapping specs", bool(names), f"{len(names)} file(s) in {directory}: {', '.join(names)}"
                if names else f"no spec files in {directory}",
                "" if names else "set TTNS_SPECS_DIR to the directory holding the mapping specs (mapping_specs/)")
    unfilled = spec_set.unfilled()
    for problem in unfilled:
        yield Check(f"spec {problem.file}", False, f"{problem.key}: {problem.problem}", problem.fix)
    if not container.settings.netsuite_account:
        yield Check("spec references", False, "not checked: NetSuite is not configured",
                    "set TTNS_NETSUITE_ACCOUNT and the credentials (see the netsuite check)")
        return
    refs = referenced_ids(spec_set)
    try:
        lookup = container.ports.netsuite_lookup
        missing = []
        for (table, label), ids in sorted(refs.items()):
            found = lookup.existing_ids(table, sorted(ids))
            missing += [f"{label} {ref_id!r} ({', '.join(sorted(ids[ref_id]))})" for ref_id in sorted(set(ids) - found)]
    except BridgeError as exc:
        yield Check("spec references", False, f"could not ask NetSuite: {type(exc).__name__}: {exc}",
                    "fix the NetSuite connection first (see the netsuite checks)")
        return
    try:
        wrong_type = clearing_account_problems(spec_set, lookup)
        wrong_type += clearing_currency_problems(spec_set, lookup, container.store.shops.list(status="active"))
    except BridgeError as exc:
        wrong_type = [f"the clearing account's type and currency could not be read: {type(exc).__name__}: {exc}"]
    for text in wrong_type:
        what, _, fix = text.partition(" | fix: ")
        yield Check("settlement clearing account", False, what, fix or "fix the NetSuite connection first")
    count = sum(len(ids) for ids in refs.values())
    if missing:
        yield Check("spec references", False, f"{len(missing)} of {count} NetSuite id(s) not found: "
                    + "; ".join(missing), "create the records in NetSuite or correct the spec (`ttns specs check`)")
    else:
        yield Check("spec references", True, f"all {count} NetSuite id(s) the specs name exist"
                    + (" (placeholders aside)" if unfilled else ""))


__all__ = ["doctor_checks"]
