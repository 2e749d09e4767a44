"""How ``ttns`` fails: like a tool, not a program.

Every error a command lets escape is turned here, in one place, into what an operator can act on:
one line saying what is wrong and how to fix it, and a distinct exit code (sysexits.h). No
traceback, unless ``ttns --debug …`` (or ``TTNS_DEBUG=1``) asks for it. Commands added by any area
get this for free: they raise what they raise, and ``describe`` names it.

Exit codes:

==== =====================================================================================
1    the command could not do what was asked (``ttns replay 999``: no such exception …)
2    bad arguments (click's usage errors)
65   bad input data: a mapping spec is invalid
69   a service is unreachable: the database, TikTok, NetSuite
70   a bug in the bridge (the message says how to get the traceback)
78   configuration: a setting is missing or wrong, the database is not migrated
==== =====================================================================================
"""

from __future__ import annotations

from typing import IO, Any

import click
import requests

from bridge.errors import redact_text

EX_FAILURE = 1
EX_USAGE = 2
EX_DATAERR = 65
EX_UNAVAILABLE = 69
EX_SOFTWARE = 70
EX_CONFIG = 78


class OperatorError(click.ClickException):
    """An error for the operator: what is wrong, the fix, and the exit code."""

    def __init__(self, message: str, fix: str = "", exit_code: int = EX_FAILURE) -> None:
        super().__init__(redact_text(message, 2000))
        self.fix = redact_text(fix, 1000)
        self.exit_code = exit_code  # type: ignore[misc]  # click declares it on the class; per error here

    def format_message(self) -> str:
        return f"{self.message} — fix: {self.fix}" if self.fix else self.message

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True, file=file)


class DatabaseNotReady(OperatorError):
    """The database has no schema, or an older one than this version needs."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "run `ttns db upgrade` (docs/deploy.md#8-upgrading)", EX_CONFIG)


def _first_line(text: str) -> str:
    for line in str(text).splitlines():
        if line.strip():
            return line.strip()
    return ""


def describe(exc: BaseException) -> OperatorError:
    """The operator's view of ``exc``: message, fix, exit code (never SQL, secrets or a traceback)."""
    if isinstance(exc, OperatorError):
        return exc
    if isinstance(exc, click.ClickException):
        return OperatorError(exc.format_message(), exit_code=exc.exit_code)

    from pydantic import ValidationError

    from bridge.errors import BridgeError, ConfigurationError, NeedsHumanError
    from bridge.mapping.specs import SpecError

    if isinstance(exc, SpecError):
        lines = [f"{p.file}{': ' + p.key if p.key else ''}: {p.problem} — fix: {p.fix}" for p in exc.problems]
        if len(lines) == 1:
            return OperatorError(f"mapping spec invalid: {lines[0]}", exit_code=EX_DATAERR)
        return OperatorError(f"{len(lines)} problems in the mapping specs:\n  " + "\n  ".join(lines),
                             exit_code=EX_DATAERR)
    if isinstance(exc, ValidationError):
        parts = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err.get("loc", ()))
            name = f"TTNS_{loc.upper()}" if loc else "configuration"
            parts.append(f"{name}: {err.get('msg', 'invalid value')}")
        return OperatorError("invalid configuration: " + "; ".join(parts),
                             "correct it in the environment or the TTNS_CONFIG file (`ttns config vars` lists them)",
                             EX_CONFIG)
    if isinstance(exc, ConfigurationError):
        return OperatorError(str(exc), "set it in the environment or the TTNS_CONFIG file (docs/deploy.md)",
                             EX_CONFIG)
    if isinstance(exc, NeedsHumanError):
        return OperatorError(f"{exc.code}: {exc}", exc.fix_hint)
    if isinstance(exc, BridgeError):
        hint = getattr(exc, "fix_hint", "")
        return OperatorError(str(exc), hint, EX_UNAVAILABLE if exc.outcome == "retry" else EX_FAILURE)

    db = _database_error(exc)
    if db is not None:
        return db
    net = _network_error(exc)
    if net is not None:
        return net
    if isinstance(exc, FileNotFoundError):
        what = f"no such file: {exc.filename}" if exc.filename else str(exc)
        return OperatorError(what, "check the path (relative paths are relative to the TTNS_CONFIG file's folder)",
                             EX_CONFIG)
    if isinstance(exc, PermissionError):
        return OperatorError(f"permission denied: {exc.filename or exc}",
                             "run as the bridge's user (e.g. `sudo -u ttns ttns …`) or fix the file's owner",
                             EX_CONFIG)
    if isinstance(exc, OSError):
        return OperatorError(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), exit_code=EX_UNAVAILABLE)
    return OperatorError(f"internal error ({type(exc).__name__}: {_first_line(str(exc))[:300]})",
                         "this is a bug in the bridge; `ttns --debug …` prints the traceback for the report",
                         EX_SOFTWARE)


def _database_error(exc: BaseException) -> OperatorError | None:
    from sqlalchemy.exc import DBAPIError, NoSuchTableError, SQLAlchemyError

    if isinstance(exc, NoSuchTableError):
        return DatabaseNotReady(f"the database has no table {exc}")
    if not isinstance(exc, SQLAlchemyError):
        return None
    orig = getattr(exc, "orig", None)
    text = _first_line(str(orig if orig is not None else exc))
    low = text.lower()
    if "no such table" in low or ("relation" in low and "does not exist" in low) or "no such column" in low \
            or ("column" in low and "does not exist" in low):
        return DatabaseNotReady(f"the database is not migrated ({text})")
    unreachable = ("could not connect", "connection refused", "unable to open database", "connection failed")
    if (isinstance(exc, DBAPIError) and exc.connection_invalidated) or any(u in low for u in unreachable):
        return OperatorError(f"cannot reach the database: {text}",
                             "check TTNS_DATABASE_URL and that the database server is running", EX_UNAVAILABLE)
    return OperatorError(f"database error: {text}", "check the database (`ttns doctor`)", EX_UNAVAILABLE)


def _network_error(exc: BaseException) -> OperatorError | None:
    if isinstance(exc, requests.ConnectionError | requests.Timeout):
        url = getattr(getattr(exc, "request", None), "url", "") or ""
        from urllib.parse import urlsplit

        host = urlsplit(url).netloc if url else "the remote service"
        kind = "timed out" if isinstance(exc, requests.Timeout) else "unreachable"
        return OperatorError(f"{host} is {kind}", "check the network and the service's base URL setting",
                             EX_UNAVAILABLE)
    return None


class ToolGroup(click.Group):
    """The root group: every escaping error becomes one line and an exit code (``--debug``: traceback)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.Abort, click.exceptions.UsageError, KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:
            if ctx.params.get("debug") or (ctx.meta.get("ttns.debug")):
                raise
            raise describe(exc) from None


__all__ = ["EX_CONFIG", "EX_DATAERR", "EX_FAILURE", "EX_SOFTWARE", "EX_UNAVAILABLE", "EX_USAGE",
           "DatabaseNotReady", "OperatorError", "ToolGroup", "describe"]
