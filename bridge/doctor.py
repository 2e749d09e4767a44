"""`ttns doctor`: check both connections and the mapping specs, and say clearly what is wrong.

Each area contributes checks through a module in ``CHECK_MODULES`` exposing
``doctor_checks(container) -> Iterable[Check]``; the command exits non-zero when any check fails.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from bridge.bootstrap import App

CHECK_MODULES: tuple[str, ...] = (
    "bridge.mapping.doctor",
    "bridge.tiktok.doctor",
    "bridge.netsuite.doctor",
    "bridge.flows.doctor",
    "bridge.flows.doctor_inventory",
    "bridge.flows.doctor_specs",
)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""
    fix: str = ""
    warning: bool = False  # shown, but does not fail the run


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


def all_checks(container: App) -> Iterator[Check]:
    yield from core_checks(container)
    for module_name in CHECK_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        try:
            checks: Iterable[Check] = module.doctor_checks(container)
            yield from checks
        except Exception as exc:
            yield Check(module_name.rsplit(".", 2)[-2], False, f"check crashed: {type(exc).__name__}: {exc}")


def register(main: click.Group) -> None:
    @main.command()
    @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
    @click.pass_context
    def doctor(ctx: click.Context, as_json: bool) -> None:
        """Check the database, both connections and the mapping specs; non-zero exit on failure."""
        import json

        container = ctx.obj.app()
        results = list(all_checks(container))
        failed = [c for c in results if not c.ok and not c.warning]
        if as_json:
            click.echo(json.dumps([c.__dict__ for c in results], indent=2))
        else:
            for c in results:
                mark = "ok  " if c.ok else ("warn" if c.warning else "FAIL")
                line = f"[{mark}] {c.name}: {c.detail}"
                if c.fix and not c.ok:
                    line += f"\n       fix: {c.fix}"
                click.echo(line)
            click.echo(f"\n{len(results) - len(failed)} ok, {len(failed)} failed")
        if failed:
            ctx.exit(1)
