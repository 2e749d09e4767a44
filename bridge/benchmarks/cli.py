"""`ttns bench …`."""

from __future__ import annotations

import json

import click


def register(main: click.Group) -> None:
    @main.group()
    def bench() -> None:
        """Benchmarks (figures for the README and closing notes; not part of the tests)."""

    @bench.command("queue")
    @click.option("--jobs", type=int, default=5000, show_default=True)
    @click.option("--threads", type=int, default=4, show_default=True)
    @click.option("--keys", type=int, default=1000, show_default=True, help="Distinct job keys.")
    @click.option(
        "--postgres-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        show_default=True,
        help="Admin URL; a temporary database is created on that server and dropped afterwards.",
    )
    @click.option("--engine", "engines", multiple=True, type=click.Choice(["sqlite", "postgresql"]),
                  default=("sqlite", "postgresql"), show_default=True)
    @click.option("--json", "as_json", is_flag=True)
    def bench_queue(jobs: int, threads: int, keys: int, postgres_url: str, engines: tuple[str, ...],
                    as_json: bool) -> None:
        """Enqueue and claim+complete throughput on SQLite and PostgreSQL."""
        from rich.console import Console
        from rich.progress import Progress, TaskID
        from rich.table import Table

        from bridge.benchmarks.queue import run_queue_bench, temporary_database

        figures = []
        with Progress(transient=True) as progress:
            for kind in engines:
                enq = progress.add_task(f"{kind}: enqueue", total=jobs)
                clm = progress.add_task(f"{kind}: claim+complete", total=jobs)

                def tick(phase: str, n: int, enq: TaskID = enq, clm: TaskID = clm) -> None:
                    progress.advance(enq if phase == "enqueue" else clm, n)

                with temporary_database(kind, postgres_url) as url:
                    figures.append(run_queue_bench(url, jobs=jobs, threads=threads, keys=keys, progress=tick))
        if as_json:
            click.echo(json.dumps([f.__dict__ for f in figures], indent=2))
            return
        table = Table("engine", "jobs", "threads", "enqueue/s", "claim+complete/s", title="queue throughput")
        for f in figures:
            table.add_row(f.engine, str(f.jobs), str(f.threads), f"{f.enqueue_per_s:,.0f}",
                          f"{f.claim_complete_per_s:,.0f}")
        Console().print(table)
