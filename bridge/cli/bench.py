"""`ttns bench …`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

# The flash-sale phases, in the order they run (`--phases`); warm-up always runs.
PHASES = ("webhook_ack", "steady", "burst", "stock_changes", "price_changes", "fulfillments", "oversell")


def register(main: click.Group) -> None:
    @main.group()
    def bench() -> None:
        """Benchmarks (figures for the README and closing notes; not part of the tests)."""

    @bench.command("queue")
    @click.option("--jobs", type=int, default=5000, show_default=True)
    @click.option("--threads", type=int, default=4, show_default=True)
    @click.option("--keys", type=int, default=1000, show_default=True, help="Distinct job keys.")
    @click.option("--history", type=int, default=100_000, show_default=True,
                  help="Finished jobs (with their attempts) in the table while measuring: a day's worth.")
    @click.option("--prefetch", type=int, default=None,
                  help="Worker: jobs claimed beyond the free threads (default: as many as threads).")
    @click.option("--processes", default="1,2,4", show_default=True,
                  help="PostgreSQL: also run the queue in this many worker processes (comma-separated; '' for none).")
    @click.option(
        "--postgres-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        show_default=True,
        help="Admin URL; a temporary database is created on that server and dropped afterwards.",
    )
    @click.option("--engine", "engines", multiple=True, type=click.Choice(["sqlite", "postgresql"]),
                  default=("sqlite", "postgresql"), show_default=True)
    @click.option("--json", "as_json", is_flag=True)
    def bench_queue(jobs: int, threads: int, keys: int, history: int, prefetch: int | None, processes: str,
                    postgres_url: str, engines: tuple[str, ...], as_json: bool) -> None:
        """Claim+complete throughput of the project's worker and queue beside a minimal SKIP LOCKED loop,
        in one run on one database per engine."""
        from rich.console import Console
        from rich.progress import Progress, TaskID
        from rich.table import Table

        from bridge.benchmarks.queue import run_queue_bench, temporary_database

        procs = tuple(int(p) for p in processes.split(",") if p.strip())
        figures = []
        with Progress(transient=True) as progress:
            for kind in engines:
                enq = progress.add_task(f"{kind}: enqueue", total=jobs)
                clm = progress.add_task(f"{kind}: claim+complete", total=None)

                def tick(phase: str, n: int, enq: TaskID = enq, clm: TaskID = clm) -> None:
                    progress.advance(enq if phase == "enqueue" else clm, n)

                with temporary_database(kind, postgres_url) as url:
                    figures += run_queue_bench(url, jobs=jobs, threads=threads, keys=keys, history=history,
                                               prefetch=prefetch, processes=procs if kind == "postgresql" else (),
                                               progress=tick)
        import importlib.util

        note = ("pgqueuer is installed but not wired into this benchmark yet"
                if importlib.util.find_spec("pgqueuer") else "pgqueuer: not installed (benchmark extra), not measured")
        if as_json:
            from dataclasses import asdict

            click.echo(json.dumps({"figures": [asdict(f) for f in figures], "note": note}, indent=2))
            return
        table = Table("engine", "variant", "processes x threads", "history", "enqueue/s", "claim+complete/s",
                      "vs minimal loop", "client CPU ms/job",
                      title=f"queue throughput ({jobs:,} no-op jobs, {keys:,} keys)")
        floor = {f.engine: f.claim_complete_per_s for f in figures if f.variant.startswith("minimal")}
        for f in figures:
            ratio = f.claim_complete_per_s / floor[f.engine] if f.engine in floor else None
            table.add_row(f.engine, f.variant, f"{f.processes} x {f.threads}", f"{f.history:,}",
                          "" if f.enqueue_per_s is None else f"{f.enqueue_per_s:,.0f}",
                          f"{f.claim_complete_per_s:,.0f}", "" if ratio is None else f"{ratio:.2f}",
                          "" if f.cpu_ms_per_job is None else f"{f.cpu_ms_per_job:.2f}")
        console = Console(width=max(Console().width, 160))
        console.print(table)
        profiled = [f for f in figures if f.profile is not None]
        if profiled:
            where = Table("processes x threads", "claim+complete/s (to the last completion)", "to the last exit",
                          "client CPU ms/job", "PostgreSQL backends CPU ms/job", "machine busy",
                          "backends in a transaction (pg_stat_activity samples)",
                          title="worker processes: where the time went")
            for f in profiled:
                p = f.profile
                assert p is not None
                server = "not on this machine" if p.server_cpu_ms_per_job is None else f"{p.server_cpu_ms_per_job:.2f}"
                busy = "" if p.machine_busy_percent is None else f"{p.machine_busy_percent:.0f}% of {p.cores} cores"
                states = ", ".join(f"{k} {v:.0%}" for k, v in list(p.backend_states.items())[:5])
                where.add_row(f"{f.processes} x {f.threads}", f"{f.claim_complete_per_s:,.0f}",
                              f"{f.jobs / p.wall_seconds:,.0f}/s", f"{p.client_cpu_ms_per_job:.2f}", server, busy,
                              states)
            console.print(where)
        click.echo(note)

    @bench.command("webhooks")
    @click.option("--rates", default="100,200,400,600,800,1000,1200,1500,2000", show_default=True,
                  help="Offered webhooks per second, in order (comma-separated).")
    @click.option("--seconds", type=float, default=10.0, show_default=True, help="Load per rate and app.")
    @click.option("--backlog", type=int, default=100_000, show_default=True, help="Queued jobs in the database.")
    @click.option("--worker-processes", type=int, default=1, show_default=True)
    @click.option("--worker-threads", type=int, default=16, show_default=True)
    @click.option("--job-seconds", type=float, default=0.5, show_default=True,
                  help="How long each job holds its worker thread (a NetSuite call's latency).")
    @click.option("--senders", type=int, default=32, show_default=True,
                  help="Load generator connections; each waits for its answer before its next webhook, so at 10 ms "
                       "an answer 32 connections can offer at most 3,200/s.")
    @click.option("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                  show_default=True,
                  help="Admin URL; a temporary database is created on that server and dropped afterwards.")
    @click.option("--engine", "engines", multiple=True, type=click.Choice(["sqlite", "postgresql"]),
                  default=("sqlite", "postgresql"), show_default=True)
    @click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("bench-out/webhooks"),
                  show_default=True, help="Load files and process logs; webhooks.json with every point.")
    @click.option("--json", "as_json", is_flag=True)
    def bench_webhooks(rates: str, seconds: float, backlog: int, worker_processes: int, worker_threads: int,
                       job_seconds: float, senders: int, postgres_url: str, engines: tuple[str, ...], out: Path,
                       as_json: bool) -> None:
        """Webhook intake: offered rate vs achieved, p50/p99, for `ttns web` and a bare verify+insert app
        side by side, with a backlog of queued jobs and workers running."""
        from dataclasses import asdict

        from rich.console import Console
        from rich.table import Table

        from bridge.benchmarks.queue import temporary_database
        from bridge.benchmarks.webhooks import P99_TARGET_MS, run_engine

        offered = tuple(float(r) for r in rates.split(",") if r.strip())
        runs = []
        for kind in engines:
            with temporary_database(kind, postgres_url) as url:
                runs.append(run_engine(kind, url, rates=offered, seconds=seconds, backlog=backlog,
                                       worker_processes=worker_processes, worker_threads=worker_threads,
                                       job_seconds=job_seconds, senders=senders, work=out,
                                       log=lambda m: click.echo(m, err=True)))
        summary = [{"engine": r.engine, "ttns_kept_per_s": r.best_kept("ttns"), "bare_kept_per_s": r.best_kept("bare"),
                    "share": round(r.best_kept("ttns") / r.best_kept("bare"), 3) if r.best_kept("bare") else None,
                    "backlog_before": r.backlog_before, "backlog_after": r.backlog_after, "inbox_rows": r.inbox_rows,
                    "order_sync_jobs": r.jobs_from_webhooks} for r in runs]
        doc = {"points": [{**asdict(p), "kept": p.kept} for r in runs for p in r.points], "summary": summary,
               "settings": {"seconds": seconds, "backlog": backlog, "worker_processes": worker_processes,
                            "worker_threads": worker_threads, "job_seconds": job_seconds, "senders": senders}}
        out.mkdir(parents=True, exist_ok=True)
        (out / "webhooks.json").write_text(json.dumps(doc, indent=2))
        if as_json:
            click.echo(json.dumps(doc, indent=2))
            return
        console = Console()
        for r in runs:
            table = Table("offered/s", "ttns achieved/s", "ttns p50 / p99 ms", "bare achieved/s", "bare p50 / p99 ms",
                          "CPU ms/webhook ttns / bare",
                          title=f"{r.engine}: webhook intake, {backlog:,} queued jobs, {worker_processes} worker "
                                f"process(es) x {worker_threads} threads")
            by_rate: dict[float, dict[str, Any]] = {}
            for p in r.points:
                by_rate.setdefault(p.offered, {})[p.app] = p
            for rate, apps in by_rate.items():
                cells = []
                for app in ("ttns", "bare"):
                    q = apps.get(app)
                    mark = "" if q is None or q.kept else " ✗"
                    cells += ["" if q is None else f"{q.achieved:,.0f}{mark}",
                              "" if q is None else f"{q.p50_ms} / {q.p99_ms}" + (f" ({q.errors} errors)" if q.errors
                                                                                 else "")]
                cpu = " / ".join(str(q.cpu_ms_per_webhook) if q else "" for q in (apps.get("ttns"), apps.get("bare")))
                table.add_row(f"{rate:,.0f}", *cells, cpu)
            console.print(table)
        for s in summary:
            click.echo(f"{s['engine']}: ttns keeps p99 < {P99_TARGET_MS:.0f} ms up to {s['ttns_kept_per_s']:,.0f}/s, "
                       f"bare up to {s['bare_kept_per_s']:,.0f}/s (share {s['share']}); backlog "
                       f"{s['backlog_before']:,} → {s['backlog_after']:,} queued; {s['inbox_rows']:,} inbox rows")

    @bench.command("charts")
    @click.argument("out", type=click.Path(file_okay=False, exists=True, path_type=Path))
    def bench_charts(out: Path) -> None:
        """Redraw the PNG charts of a finished flash-sale run from OUT/bench.json."""
        from bridge.benchmarks.flash_sale import write_charts

        for path in write_charts(out, log=lambda m: click.echo(m, err=True)):
            click.echo(str(path))

    @bench.command("flash-sale")
    @click.option("--orders", default=10_000, show_default=True, help="Orders in the burst.")
    @click.option("--netsuite-concurrency", default=5, show_default=True, help="The account's concurrency limit.")
    @click.option("--latency-scale", default=1.0, show_default=True,
                  help="NetSuite latency model scale (1 = the sandbox's per-operation latencies).")
    @click.option("--write-path", type=click.Choice(["rest", "restlet"]), default="rest", show_default=True)
    @click.option("--database", type=click.Choice(["sqlite", "postgresql"]), default="sqlite", show_default=True)
    @click.option("--pg-admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres", show_default=True)
    @click.option("--worker-processes", default=1, show_default=True)
    @click.option("--worker-threads", default=16, show_default=True)
    @click.option("--web-workers", default=2, show_default=True)
    @click.option("--webhook-rate", default=200.0, show_default=True)
    @click.option("--webhook-seconds", default=15.0, show_default=True)
    @click.option("--steady-orders", default=90, show_default=True)
    @click.option("--hot-buffer", default=20, show_default=True,
                  help="Fixed buffer on the livestream SKU in the oversell phase (run beside the shipped spec's "
                       "dynamic buffer and a fixed buffer of 1).")
    @click.option("--no-scripts", is_flag=True, help="Do not run the SuiteScript in the NetSuite sandbox.")
    @click.option("--phases", default="", metavar="LIST",
                  help=f"Comma-separated phases to run (default all): {', '.join(PHASES)}.")
    @click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("bench-out"),
                  show_default=True)
    def bench_flash_sale(orders: int, netsuite_concurrency: int, latency_scale: float, write_path: str,
                         database: str, pg_admin_url: str, worker_processes: int, worker_threads: int,
                         web_workers: int, webhook_rate: float, webhook_seconds: float, steady_orders: int,
                         hot_buffer: int, no_scripts: bool, phases: str, out: Path) -> None:
        """A flash sale through both sandboxes with the bridge in its own processes; JSON + PNG charts."""
        from bridge.benchmarks.flash_sale import BenchOptions, run_bench

        chosen = tuple(x.strip() for x in phases.split(",") if x.strip())
        unknown = sorted(set(chosen) - set(PHASES))
        if unknown:
            raise click.BadParameter(f"unknown phase(s) {', '.join(unknown)}; choose from {', '.join(PHASES)}",
                                     param_hint="--phases")
        options = BenchOptions(
            orders=orders, netsuite_concurrency=netsuite_concurrency, latency_scale=latency_scale,
            write_path=write_path, database=database, pg_admin_url=pg_admin_url,
            worker_processes=worker_processes, worker_threads=worker_threads, web_workers=web_workers,
            webhook_rate=webhook_rate, webhook_seconds=webhook_seconds, steady_orders=steady_orders,
            hot_buffer=hot_buffer, phases=chosen, run_scripts=not no_scripts, out=out,
        )
        result = run_bench(options, log=lambda m: click.echo(m, err=True))
        click.echo(json.dumps(result["phases"], indent=2, default=str))
        click.echo(f"figures: {out / 'bench.json'}; charts: {out}/*.png", err=True)

    @main.command()
    @click.option("--orders", default=1000, show_default=True)
    @click.option("--waves", default=10, show_default=True)
    @click.option("--kills", default=4, show_default=True,
                  help="Worker processes killed with SIGKILL, each while it holds running jobs.")
    @click.option("--web-kills", default=1, show_default=True, help="Times the web tier is killed and restarted.")
    @click.option("--database", type=click.Choice(["sqlite", "postgresql"]), default="sqlite", show_default=True)
    @click.option("--pg-admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres", show_default=True)
    @click.option("--pg-terminate-every", default=10.0, show_default=True,
                  help="PostgreSQL: seconds between terminations of the bridge's connections while faults are on.")
    @click.option("--drop-db-connections", default=2, show_default=True, hidden=True)
    @click.option("--workers", "worker_processes", default=2, show_default=True,
                  help="Worker processes; they alternate between the REST and the RESTlet write path.")
    @click.option("--write-paths", default="rest,restlet", show_default=True,
                  help="Write paths the worker processes take in turn.")
    @click.option("--faults-until", default=0.9, show_default=True,
                  help="Faults stay on until this share of the expected sales orders is written.")
    @click.option("--min", "minimums", multiple=True, metavar="NAME=N",
                  help="Override a minimum injected count (see checks.minimums in the report).")
    @click.option("--scripts/--no-scripts", default=True, show_default=True,
                  help="Run the SuiteScript in the NetSuite sandbox (its user events report shipments and stock).")
    @click.option("--shipments", default=20, show_default=True, help="Orders shipped in NetSuite (with --scripts).")
    @click.option("--deadline", default=900.0, show_default=True, help="Seconds the bridge gets to heal.")
    @click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("chaos-out"),
                  show_default=True)
    @click.pass_context
    def chaos(ctx: click.Context, orders: int, waves: int, kills: int, web_kills: int, database: str,
              pg_admin_url: str, pg_terminate_every: float, drop_db_connections: int, worker_processes: int,
              write_paths: str, faults_until: float, minimums: tuple[str, ...], scripts: bool, shipments: int,
              deadline: float, out: Path) -> None:
        """The scenario with faults injected everywhere, then an audit of both sandboxes (non-zero exit
        on any difference, or when an injected count is below its minimum)."""
        from bridge.benchmarks.chaos import ChaosOptions, run_chaos

        paths = tuple(p.strip() for p in write_paths.split(",") if p.strip())
        if not paths or set(paths) - {"rest", "restlet"}:
            raise click.BadParameter("choose from rest, restlet", param_hint="--write-paths")
        mins: dict[str, int] = {}
        for m in minimums:
            name, sep, value = m.partition("=")
            if not sep or not value.strip().isdigit():
                raise click.BadParameter(f"{m!r} is not NAME=N", param_hint="--min")
            mins[name.strip()] = int(value)
        audit = run_chaos(ChaosOptions(orders=orders, waves=waves, kills=kills, web_kills=web_kills,
                                       database=database, pg_admin_url=pg_admin_url,
                                       pg_terminate_every=pg_terminate_every, drop_db_connections=drop_db_connections,
                                       worker_processes=worker_processes, write_paths=paths,
                                       faults_until=faults_until, minimums=mins, run_scripts=scripts,
                                       shipments=shipments, deadline_seconds=deadline, out=out),
                          log=lambda m: click.echo(m, err=True))
        click.echo(json.dumps({"ok": audit.ok, "problems": audit.problems, "checks": audit.checks}, indent=2,
                              default=str))
        if not audit.ok:
            ctx.exit(1)
