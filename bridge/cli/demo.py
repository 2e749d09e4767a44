"""`ttns demo`: the whole product against the sandboxes, with a live view and a final report."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any

import click


def _render(demo: Any) -> Any:
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table

    from bridge.demo.runner import figures

    f = figures(demo)
    steps = Table("step", "status", "what happened", title="scenario", expand=True)
    colour = {"done": "green", "running": "yellow", "failed": "red", "skipped": "dim", "waiting": "dim"}
    for s in demo.state.steps:
        steps.add_row(s.name, f"[{colour.get(s.status, '')}]{s.status}[/]", s.detail)
    lat = f["order_to_sales_order_seconds"]
    nums = Table.grid(padding=(0, 2))
    nums.add_row("orders placed", str(f["orders_placed"]), "with a NetSuite sales order",
                 str(f["orders_with_sales_order"]))
    nums.add_row("order → sales order p50 / p95",
                 " / ".join(f"{v:.2f}s" if v is not None else "-" for v in (lat["p50"], lat["p95"])),
                 "NetSuite calls per order", str(f["netsuite_calls_per_order"] or "-"))
    nums.add_row("stock pushes to TikTok", str(f["stock_pushes"]), "tracking pushes", str(f["tracking_pushes"]))
    nums.add_row("jobs", ", ".join(f"{k} {v}" for k, v in sorted(f["jobs"].items())),
                 "open exceptions", str(len(f["exceptions_open"])))
    head = (f"console: {demo.state.bridge_url}/   login {demo.state.console_user} / "
            f"{demo.state.console_password}")
    return Group(Panel(head, title="ttns-bridge demo"), steps, nums)


def register(main: click.Group) -> None:
    @main.command()
    @click.option("--orders", default=40, show_default=True, help="Orders in the livestream burst.")
    @click.option("--json", "json_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
                  help="Write the figures as JSON here.")
    @click.option("--exit", "exit_when_done", is_flag=True, help="Exit when the scenario is done (headless).")
    @click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=None,
                  help="Keep the database, keys and logs here (default: a temporary directory).")
    @click.option("--port", default=8700, show_default=True, help="The bridge's port (the console's address).")
    @click.option("--threads", default=8, show_default=True, help="Worker threads.")
    @click.option("--no-scripts", is_flag=True, help="Skip running the SuiteScript in Node (faster, less real).")
    def demo(orders: int, json_file: Path | None, exit_when_done: bool, workdir: Path | None, port: int,
             threads: int, no_scripts: bool) -> None:
        """Run the bridge against the TikTok Shop and NetSuite sandboxes: connect a shop, a livestream of
        orders, holds, cancellations, stock, shipments, a return, FBT and the day's statement."""
        from rich.console import Console
        from rich.live import Live

        from bridge.demo import scenario
        from bridge.demo.runner import DemoOptions, figures, running_demo, write_json

        if orders < 1:
            raise click.BadParameter("--orders must be at least 1")
        import os

        os.umask(0o077)  # the demo's database, keys and logs: readable by this user only
        options = DemoOptions(orders=orders, workdir=workdir, threads=threads, json_file=json_file,
                              exit_when_done=exit_when_done, bridge_port=port, run_scripts=not no_scripts)
        console = Console()
        with running_demo(options) as d:
            done = threading.Event()

            def play() -> None:
                try:
                    scenario.run(d)
                finally:
                    done.set()

            runner = threading.Thread(target=play, name="demo-scenario", daemon=True)
            runner.start()
            with Live(_render(d), console=console, refresh_per_second=2, transient=False) as live:
                while not done.wait(0.5):
                    live.update(_render(d))
                live.update(_render(d))
            f = figures(d)
            if json_file is not None:
                write_json(json_file, d, {"options": {"orders": orders, "threads": threads}})
                console.print(f"figures written to {json_file}")
            failed = [s for s in d.state.steps if s.status == "failed"]
            if f["exceptions_open"]:
                console.print("[bold]exceptions raised (each with an owner and a fix):[/]")
                for e in f["exceptions_open"]:
                    console.print(f"  #{e['id']} [{e['owner']}] {e['code']}: {e['title']}\n     fix: {e['fix']}")
            if exit_when_done:
                if failed:
                    raise SystemExit(1)
                return
            console.print(f"\nThe bridge keeps running: console at {d.state.bridge_url}/ "
                          f"(login {d.state.console_user} / {d.state.console_password}). Ctrl-C to stop.")
            stop = threading.Event()
            signal.signal(signal.SIGINT, lambda *_: stop.set())
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
            stop.wait()
