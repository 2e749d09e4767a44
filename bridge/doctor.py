"""`ttns doctor`: check both connections and the mapping specs, and say clearly what is wrong.

The checks are listed in ``check_sources`` (each area's ``doctor_checks(container) -> Iterable[Check]``),
not discovered: a source that cannot run (it raises, or its module is missing) is reported as a failed
check, never skipped. The command exits non-zero when any check fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bridge.check import Check

if TYPE_CHECKING:
    from bridge.bootstrap import App


def core_checks(container: App) -> Iterator[Check]:
    store = container.store
    try:
        store.ping()
    except Exception as exc:
        yield Check("database", False, f"unreachable: {type(exc).__name__}: {exc}",
                    "check TTNS_DATABASE_URL and that the server is running")
        return
    yield Check("database", True, container.settings.redacted()["database_url"])
    current = store.migrations_current()
    yield Check("migrations", current, "current" if current else "pending", "" if current else "run `ttns db upgrade`")
    yield Check(
        "secret key",
        container.settings.secret_key is not None,
        "set" if container.settings.secret_key is not None else "missing",
        "" if container.settings.secret_key is not None else "set TTNS_SECRET_KEY (`ttns keys generate`)",
    )


@dataclass(frozen=True)
class CheckSource:
    """One area's checks: ``run(container)`` yields them; ``name`` labels a failure to run them."""

    name: str
    run: Callable[[App], Iterable[Check]]


def check_sources() -> tuple[CheckSource, ...]:
    """Every check `ttns doctor` runs, in the order it prints them. The area modules import ``Check``
    from here, hence the late imports."""
    from bridge.flows import doctor_inventory, doctor_specs
    from bridge.netsuite import doctor as netsuite_doctor
    from bridge.tiktok import doctor as tiktok_doctor

    return (
        CheckSource("database", core_checks),
        CheckSource("tiktok", tiktok_doctor.doctor_checks),
        CheckSource("netsuite", netsuite_doctor.doctor_checks),
        CheckSource("inventory", doctor_inventory.doctor_checks),
        CheckSource("mapping specs", doctor_specs.doctor_checks),
    )


def all_checks(container: App, sources: Sequence[CheckSource] | None = None) -> Iterator[Check]:
    """The checks of ``sources`` (default: ``check_sources()``); a source that raises, or yields no
    check at all, is a failed check named after it."""
    for source in check_sources() if sources is None else sources:
        ran = 0
        try:
            for check in source.run(container):
                ran += 1
                yield check
        except Exception as exc:
            yield Check(source.name, False, f"check crashed: {type(exc).__name__}: {exc}",
                        "a bug in the check or a broken install: report it with this message")
            continue
        if not ran:
            yield Check(source.name, False, "no check ran", "a bug in the check: report it")
