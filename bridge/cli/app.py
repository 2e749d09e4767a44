"""`ttns`: run the bridge's processes and operate it.

The ``main`` group, the object its commands share (``Obj``) and the core commands (processes, db,
config, keys, replay, exceptions, inbox, users). ``bridge.cli`` registers every other command group.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bridge.cli.errors import EX_FAILURE, DatabaseNotReady, OperatorError, ToolGroup
from bridge.settings import Settings

if TYPE_CHECKING:
    from bridge.bootstrap import App
    from bridge.mapping.specs import SpecSet



class Obj:
    """Lazily built settings and ``App`` shared by the commands of one invocation."""

    def __init__(self, app: App | None = None) -> None:
        """``app`` lets tests (and the demo) run commands against an already wired bridge."""
        self._settings: Settings | None = app.settings if app is not None else None
        self._app: App | None = app
        self._owned = app is None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings()
        return self._settings

    def app(self, *, migrate: bool = False) -> App:
        """The wired bridge; refuses (one line, ``ttns db upgrade``) when the database is not migrated."""
        if self._app is None:
            from bridge.bootstrap import build

            app = build(self.settings, migrate=migrate)
            try:
                ensure_migrated(app.store.engine, self.settings.database_url)
            except BaseException:
                app.close()
                raise
            self._app = app
        return self._app

    def use(self, app: App) -> App:
        """Run the rest of this invocation with ``app`` (one derived from ``app()``: the same store)."""
        self._app = app
        return app

    def close(self) -> None:
        if self._app is not None and self._owned:
            self._app.close()


def ensure_migrated(engine: Any, url: str) -> None:
    """Raise ``DatabaseNotReady`` unless the database has every migration this version ships."""
    from bridge.settings import redact_url
    from bridge.store.db import current_revision, has_schema, head_revision

    shown = redact_url(url)
    if not has_schema(engine):
        raise DatabaseNotReady(f"the database {shown} has no tables")
    current, head = current_revision(engine), head_revision(url)
    if current != head:
        raise DatabaseNotReady(f"the database {shown} is at migration {current or '(none)'}, this version needs "
                               f"{head}")


def require_specs(settings: Settings) -> SpecSet:
    """The validated spec set, or an error naming the folder, or each file, key and fix."""
    from bridge.cli.errors import EX_CONFIG
    from bridge.mapping import load_all_specs

    directory = settings.specs_dir
    if not directory.is_dir():
        raise OperatorError(f"the mapping specs folder {directory} does not exist",
                            f"set TTNS_SPECS_DIR, or copy the shipped specs there: `ttns specs init {directory}`",
                            EX_CONFIG)
    if not any(directory.glob("*.y*ml")):
        raise OperatorError(f"the mapping specs folder {directory} holds no spec file",
                            f"copy the shipped specs there: `ttns specs init {directory}`", EX_CONFIG)
    return load_all_specs(directory)


def preflight(obj: Obj, role: str) -> App:
    """What web, worker and scheduler check before they start: the database is migrated and every mapping
    spec is valid (else they refuse, naming the file, key and fix). The specs they start with are recorded
    as the deployed snapshot (``ttns specs diff`` compares with it)."""
    import logging

    from bridge.mapping import deployed

    spec_set = require_specs(obj.settings)
    container = obj.use(obj.app().with_specs(spec_set))  # the process runs with exactly the specs it checked
    for problem in spec_set.unfilled():  # loads, but the flows needing it refuse until it is filled in
        logging.getLogger("bridge.specs").warning("mapping spec placeholder: %s: %s; fix: %s", problem.file,
                                                  problem.key, problem.fix)
    if deployed.record(container.store, obj.settings.specs_dir, by=role, now=container.clock.now()):
        logging.getLogger("bridge.specs").info("mapping specs in %s recorded as deployed (by %s)",
                                               obj.settings.specs_dir, role)
    return container


pass_obj = click.make_pass_decorator(Obj, ensure=True)


@click.group(cls=ToolGroup)
@click.version_option(package_name="ttns-bridge")
@click.option("--debug", is_flag=True, envvar="TTNS_DEBUG", help="Show the traceback of an error.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """ttns-bridge: TikTok Shop ⇄ Oracle NetSuite, NetSuite as the system of record.

    Errors print one line with the fix and exit non-zero (exit codes in docs/deploy.md); --debug shows the
    traceback.
    """
    ctx.meta["ttns.debug"] = debug
    obj = ctx.ensure_object(Obj)
    ctx.call_on_close(obj.close)


def _logging(settings: Settings, *, quiet: bool = False) -> None:
    from bridge.logs import configure_logging

    configure_logging("WARNING" if quiet else settings.log_level, settings.log_format)


# --- processes ------------------------------------------------------------------------------


@main.command()
@click.option("--bind", default=None, help="host:port (default TTNS_WEB_BIND).")
@click.option("--workers", type=int, default=None, help="gunicorn worker processes.")
@pass_obj
def web(obj: Obj, bind: str | None, workers: int | None) -> None:
    """Serve webhooks, NetSuite events, OAuth and the console under gunicorn."""
    from gunicorn.app.base import BaseApplication

    from bridge.logs import gunicorn_logger_class

    s = obj.settings
    _logging(s)
    preflight(obj, "web")
    obj.close()  # the gunicorn workers build their own
    _multiprocess_metrics()
    options = {
        "bind": bind or s.web_bind,
        "workers": workers or s.web_workers,
        "threads": s.web_threads,
        "worker_class": "gthread",
        "timeout": 60,
        "graceful_timeout": 20,
        "accesslog": None,
        "logger_class": gunicorn_logger_class(s.log_format),
        # gunicorn ≥ 24 opens a control socket in $HOME by default; the service has no business there.
        "control_socket_disable": True,
    }

    class App(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for k, v in options.items():
                if k in self.cfg.settings:  # settings a given gunicorn version does not know are skipped
                    self.cfg.set(k, v)

        def load(self) -> Any:
            import gc

            from bridge.web import create_app

            app = create_app(Settings())
            # Everything built at start-up lives as long as the process: keep it out of the collector's
            # work, so a full collection never stalls a webhook answer.
            gc.freeze()
            return app

    App().run()


def _multiprocess_metrics() -> None:
    """The gunicorn workers share in-process metrics (the webhook acknowledgement histogram) through
    prometheus_client's multiprocess files: a fresh folder per start, removed at exit. Set before any worker
    imports prometheus_client."""
    import atexit
    import shutil
    import tempfile

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    if "prometheus_client" in sys.modules:  # too late for this process's imports: keep per-process metrics
        import logging

        logging.getLogger("bridge.web").warning("prometheus_client was imported before the gunicorn workers "
                                                "started: each worker reports its own webhook latencies")
        return
    folder = tempfile.mkdtemp(prefix="ttns-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    main_pid = os.getpid()
    atexit.register(lambda: shutil.rmtree(folder, ignore_errors=True) if os.getpid() == main_pid else None)


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def _handler(signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _handler)
    signal.signal(signal.SIGINT, _handler)
    return stop


@main.command()
@click.option("--threads", type=int, default=None, help="Jobs run at once in this process (TTNS_WORKER_THREADS).")
@click.option("--name", default="", help="Worker name shown in job attempts (default host:pid).")
@pass_obj
def worker(obj: Obj, threads: int | None, name: str) -> None:
    """Claim and run jobs until SIGTERM (running jobs finish or are released)."""
    _logging(obj.settings)
    container = preflight(obj, "worker")
    if obj.settings.worker_nice and hasattr(os, "nice"):
        os.nice(obj.settings.worker_nice)
    stop = _stop_on_signals()
    container.worker(threads=threads, name=name).run(stop)


@main.command()
@pass_obj
def scheduler(obj: Obj) -> None:
    """Enqueue periodic jobs (each tick once, however many schedulers run)."""
    import logging

    from bridge.worker.scheduler import build_scheduler

    _logging(obj.settings)
    container = preflight(obj, "scheduler")
    sched = build_scheduler(container.store.queue, container.registry.schedules())
    log = logging.getLogger("bridge.scheduler")
    for job in container.registry.schedules():
        log.info("schedule %s: %s %s", job.name, job.kind,
                 f"every {job.every_seconds}s" if job.every_seconds else f"at '{job.cron}' UTC",
                 extra={"schedule": job.name, "kind": job.kind})

    def _shutdown(signum: int, _frame: Any) -> None:
        sched.shutdown(wait=False)

    signal.signal(signal.SIGTERM, _shutdown)
    signal.signal(signal.SIGINT, _shutdown)
    sched.start()


# --- database -------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="heads", show_default=True)
@pass_obj
def db_upgrade(obj: Obj, revision: str) -> None:
    """Apply migrations (SQLite or PostgreSQL, same schema)."""
    from bridge.settings import redact_url
    from bridge.store.db import upgrade

    upgrade(obj.settings.database_url, revision)
    click.echo(f"database {redact_url(obj.settings.database_url)} is at {revision}")


@db.command("current")
@pass_obj
def db_current(obj: Obj) -> None:
    """Show the applied and the latest migration."""
    from bridge.settings import redact_url
    from bridge.store.db import current_revision, head_revision, make_engine

    engine = make_engine(obj.settings.database_url, pool_size=0)
    try:
        cur, head = current_revision(engine), head_revision(obj.settings.database_url)
    finally:
        engine.dispose()
    click.echo(f"current: {cur or '(empty)'}  head: {head}")
    if cur != head:
        raise DatabaseNotReady(f"migrations are pending on {redact_url(obj.settings.database_url)}") from None


@db.command("backup")
@click.argument("dest", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace DEST if it exists.")
@pass_obj
def db_backup(obj: Obj, dest: Path, force: bool) -> None:
    """Back the database up into DEST while the bridge runs (SQLite: online backup API; PostgreSQL: pg_dump)."""
    from bridge.store.backup import BackupError, backup

    try:
        res = backup(obj.settings.database_url, dest, force=force)
    except BackupError as exc:
        raise OperatorError(str(exc), exc.fix) from None
    click.echo(f"{res.path}: {res.size} bytes" + (f", migration {res.revision}" if res.revision else ""))


@db.command("restore")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Confirm: the current database is replaced.")
@pass_obj
def db_restore(obj: Obj, source: Path, yes: bool) -> None:
    """Replace the database with a backup. Stop web, worker and scheduler first; then `ttns db upgrade`."""
    from bridge.settings import redact_url
    from bridge.store.backup import BackupError, restore

    if not yes:
        raise click.UsageError(f"this replaces {redact_url(obj.settings.database_url)}: stop the bridge's processes, "
                               "then run again with --yes")
    try:
        res = restore(obj.settings.database_url, source)
    except BackupError as exc:
        raise OperatorError(str(exc), exc.fix) from None
    click.echo(f"restored {source} into {redact_url(obj.settings.database_url)}"
               + (f" (migration {res.revision}); run `ttns db upgrade` if this version is newer" if res.revision
                  else "; run `ttns db upgrade` if this version is newer"))


# --- configuration and keys -----------------------------------------------------------------


@main.group()
def config() -> None:
    """Configuration."""


@config.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_obj
def config_show(obj: Obj, as_json: bool) -> None:
    """Print the effective configuration, secrets redacted."""
    data = obj.settings.redacted()
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("setting", "value", title="effective configuration (secrets redacted)")
    for k, v in data.items():
        table.add_row(f"TTNS_{k.upper()}", "" if v is None else str(v))
    Console().print(table)


@config.command("vars")
def config_vars() -> None:
    """Print every environment variable as a Markdown table (the README's table)."""
    from bridge.settings import env_var_table

    click.echo("| Variable | Default | Meaning |\n|---|---|---|")
    for name, default, desc in env_var_table():
        d = f"`{default}`" if default else ""
        click.echo(f"| `{name}` | {d} | {desc.replace('|', '/')} |")


@main.group()
def keys() -> None:
    """Encryption keys for credentials at rest."""


@keys.command("generate")
def keys_generate() -> None:
    """Print a new Fernet key for TTNS_SECRET_KEY."""
    from bridge.crypto import generate_key

    click.echo(generate_key())


@keys.command("rotate")
@pass_obj
def keys_rotate(obj: Obj) -> None:
    """Re-encrypt stored tokens with the first key of TTNS_SECRET_KEY (list the new key first)."""
    n = obj.app().store.shops.rotate_keys()
    click.echo(f"re-encrypted the tokens of {n} shop(s) with the newest key")


# --- exceptions and replay ------------------------------------------------------------------


@main.command()
@click.argument("exception_ids", nargs=-1, type=int)
@click.option("--code", default=None, help="Replay every open exception with this code.")
@click.option("--owner", default=None, type=click.Choice(["ops", "finance", "admin"]))
@pass_obj
def replay(obj: Obj, exception_ids: tuple[int, ...], code: str | None, owner: str | None) -> None:
    """Re-run the jobs behind exceptions after their cause is fixed."""
    store = obj.app().store
    ids = list(exception_ids)
    if code or owner:
        ids += [e.id for e in store.exceptions.list(status="open", owner=owner, limit=10000)
                if code is None or e.code == code]
    if not ids:
        if code or owner:
            click.echo("no open exception matches", err=True)
            return
        raise click.UsageError("give exception ids, or --code/--owner to select open exceptions")
    failed = 0
    for exc_id in ids:
        try:
            job_id = store.exceptions.replay(exc_id, store.queue, by="cli")
        except (KeyError, ValueError) as exc:
            failed += 1
            click.echo(f"exception {exc_id}: {str(exc).strip(chr(39))}", err=True)
            continue
        click.echo(f"exception {exc_id}: replay queued as job {job_id}")
    if failed:
        raise OperatorError(f"{failed} of {len(ids)} exception(s) not replayed",
                            "see `ttns exceptions` for the open ones and their ids", EX_FAILURE)


@main.group(invoke_without_command=True)
@click.option("--owner", default=None, type=click.Choice(["ops", "finance", "admin"]))
@click.option("--status", default="open", type=click.Choice(["open", "resolved", "ignored"]))
@click.pass_context
def exceptions(ctx: click.Context, owner: str | None, status: str) -> None:
    """List exceptions (failures a person must fix)."""
    if ctx.invoked_subcommand is not None:
        return
    obj = ctx.find_object(Obj)
    assert obj is not None
    from rich.console import Console
    from rich.table import Table

    rows = obj.app().store.exceptions.list(status=status, owner=owner)
    table = Table("id", "owner", "code", "entity", "title", "seen", "fix", title=f"{status} exceptions")
    for e in rows:
        table.add_row(str(e.id), e.owner, e.code, e.entity, e.title[:80], str(e.occurrences), e.fix_hint[:80])
    Console().print(table)


@exceptions.command("resolve")
@click.argument("exception_id", type=int)
@click.option("--note", default="")
@click.option("--ignore", is_flag=True, help="Mark ignored instead of resolved.")
@pass_obj
def exceptions_resolve(obj: Obj, exception_id: int, note: str, ignore: bool) -> None:
    """Close an exception without replaying it."""
    ok = obj.app().store.exceptions.close(
        exception_id, status="ignored" if ignore else "resolved", by="cli", note=note
    )
    if not ok:
        raise click.ClickException(f"exception {exception_id} is not open")
    click.echo(f"exception {exception_id} {'ignored' if ignore else 'resolved'}")


# --- inbox ----------------------------------------------------------------------------------


@main.group(invoke_without_command=True)
@click.option("--source", default=None, help="tiktok | netsuite | poll")
@click.option("--limit", default=50, show_default=True)
@click.pass_context
def inbox(ctx: click.Context, source: str | None, limit: int) -> None:
    """Show the most recent inbound events."""
    if ctx.invoked_subcommand is not None:
        return
    obj = ctx.find_object(Obj)
    assert obj is not None
    from rich.console import Console
    from rich.table import Table

    table = Table("id", "source", "event id", "topic", "shop", "received", "status", "jobs", "note")
    for ev in obj.app().store.inbox.recent(source=source, limit=limit):
        table.add_row(str(ev.id), ev.source, ev.event_id, ev.topic, ev.shop_id or "",
                      f"{ev.received_at:%Y-%m-%d %H:%M:%S}", ev.status, str(ev.jobs_created), ev.note[:60])
    Console().print(table)


@inbox.command("reroute")
@click.argument("inbox_ids", nargs=-1, type=int, required=True)
@pass_obj
def inbox_reroute(obj: Obj, inbox_ids: tuple[int, ...]) -> None:
    """Route stored events again (after a fix); jobs already queued are not doubled."""
    from bridge.web.ingest import reroute

    container = obj.app()
    for inbox_id in inbox_ids:
        try:
            res = reroute(container, inbox_id)
        except KeyError as exc:
            click.echo(str(exc), err=True)
            continue
        click.echo(f"inbox {inbox_id}: {res.status}, {res.jobs} new job(s)")


# --- console users --------------------------------------------------------------------------


@main.group()
def users() -> None:
    """Console users."""


@users.command("add")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--role", type=click.Choice(["viewer", "operator", "admin"]), default=None,
              help="viewer reads, operator also acts on the work, admin also manages users and connections "
                   "(a new user: admin unless given; an existing user keeps theirs)")
@pass_obj
def users_add(obj: Obj, username: str, password: str, role: str | None) -> None:
    """Create a console user (or set a new password, and role)."""
    try:
        obj.app().store.users.add(username, password, role)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"user {username} saved")


@users.command("logout")
@click.argument("username")
@pass_obj
def users_logout(obj: Obj, username: str) -> None:
    """End every console session of a user now (a lost laptop, a shared computer)."""
    n = obj.app().store.sessions.revoke_username(username)
    if n is None:
        raise click.ClickException(f"no console user {username!r}")
    click.echo(f"ended {n} session(s) of {username}")
