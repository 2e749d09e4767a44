"""`ttns doctor` (the checks live in ``bridge.doctor``)."""

from __future__ import annotations

import click

from bridge.doctor import all_checks


def register(main: click.Group) -> None:
    @main.command()
    @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
    @click.pass_context
    def doctor(ctx: click.Context, as_json: bool) -> None:
        """Check the database, both connections and the mapping specs; non-zero exit on failure."""
        import json

        results = list(all_checks(ctx.obj.app()))
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
