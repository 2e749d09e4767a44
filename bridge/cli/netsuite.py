"""``ttns netsuite …``: look at the account the way the bridge sees it."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from bridge.errors import BridgeError, ConfigurationError

if TYPE_CHECKING:
    from bridge.netsuite.client import NetSuiteClient


def _client(ctx: click.Context) -> NetSuiteClient:
    from bridge.cli.app import Obj

    obj = ctx.find_object(Obj)
    if obj is None:  # pragma: no cover - main always creates it
        raise click.ClickException("no configuration")
    try:
        return obj.app().netsuite()
    except ConfigurationError:
        raise  # the CLI names the setting and exits with the configuration code
    except BridgeError as exc:
        raise click.ClickException(str(exc)) from None


def _dump(value: Any) -> str:
    return json.dumps(value, indent=2, default=str, ensure_ascii=False)


def register(main: click.Group) -> None:
    @main.group()
    def netsuite() -> None:
        """NetSuite: run SuiteQL, read records."""

    @netsuite.command("query")
    @click.argument("suiteql")
    @click.option("--limit", "max_rows", type=int, default=100, show_default=True,
                  help="Rows to print at most (0: all).")
    @click.option("--key", default=None, help="Unique column to page by past 100,000 rows (e.g. id).")
    @click.option("--json", "as_json", is_flag=True, help="One JSON object per row.")
    @click.pass_context
    def query(ctx: click.Context, suiteql: str, max_rows: int, key: str | None, as_json: bool) -> None:
        """Run a SuiteQL query and print its rows."""
        client = _client(ctx)
        page_size = 1000 if max_rows <= 0 else min(1000, max_rows)
        rows: list[dict[str, Any]] = []
        try:
            for row in client.iter_suiteql(suiteql, page_size=page_size, key=key):
                rows.append(row)
                if max_rows and len(rows) >= max_rows:
                    break
        except BridgeError as exc:
            raise click.ClickException(str(exc)) from None
        if as_json:
            for row in rows:
                click.echo(json.dumps(row, default=str, ensure_ascii=False))
            return
        from rich.console import Console
        from rich.table import Table

        columns = list(dict.fromkeys(k for row in rows for k in row))
        table = Table(*columns, title=f"{len(rows)} row(s)")
        for row in rows:
            table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
        Console().print(table)

    @netsuite.command("get")
    @click.argument("record_type")
    @click.argument("record_id")
    @click.option("--eid", is_flag=True, help="RECORD_ID is an external id.")
    @click.option("--expand", is_flag=True, help="Expand sublists and subrecords.")
    @click.pass_context
    def get(ctx: click.Context, record_type: str, record_id: str, eid: bool, expand: bool) -> None:
        """Print one record as JSON (e.g. `ttns netsuite get salesOrder 123`)."""
        client = _client(ctx)
        try:
            if eid:
                rec = client.get_by_external_id(record_type, record_id, expand=expand)
            else:
                rec = client.get(record_type, record_id, expand=expand)
        except BridgeError as exc:
            raise click.ClickException(str(exc)) from None
        if rec is None:
            raise click.ClickException(f"no {record_type} {'with external id ' if eid else ''}{record_id}")
        click.echo(_dump(rec))
