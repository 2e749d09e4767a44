"""Statements run on the driver's cursor, for the few hot paths where SQLAlchemy's execution layer costs more
than the statement itself (a group of webhooks: the inbox rows, the jobs, the joins of waiting jobs).

``Prepared(stmt)`` compiles ``stmt`` once per dialect — its SQL, parameter order, default values and the bind
processors of its typed parameters (aware UTC times, JSON) — and ``rows(conn, params)`` runs it on the DBAPI
connection under ``conn``, inside ``conn``'s transaction, returning the rows as the driver gives them: no result
processing, so ask only for ids and plain text. The engine's ``before_execute`` listeners still run first (the
queue's fencing hangs there: a worker that lost its lease is refused here too), and its ``before_cursor_execute``
listeners see the SQL as sent (with ``context=None``; statement counters and EXPLAIN hooks keep working); echo and
the other events do not run. A driver error is raised as SQLAlchemy's ``DBAPIError``, and a
lost connection invalidates ``conn``, as ``Connection.execute`` does, so callers' handling of both holds
(``GroupCommit`` retries a group whose connection the server closed).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.exc import DBAPIError


@dataclass(frozen=True)
class _Compiled:
    sql: str
    order: tuple[str, ...] | None  # parameter names in order (positional drivers: SQLite); None: by name
    defaults: dict[str, Any]  # values the statement carries itself (a LIMIT's, say)
    processors: tuple[tuple[str, Callable[[Any], Any]], ...]


class Prepared:
    """``stmt`` (Core or ``text()``) compiled once per dialect, run on the driver's cursor (module docstring)."""

    __slots__ = ("_compiled", "stmt")

    def __init__(self, stmt: Any) -> None:
        self.stmt = stmt
        self._compiled: dict[str, _Compiled] = {}

    def _for(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            c: Any = self.stmt.compile(dialect=dialect)
            defaults = {k: v for k, v in c.construct_params(_check=False).items() if v is not None}
            order = tuple(c.positiontup) if c.positional else None
            compiled = self._compiled[dialect.name] = _Compiled(c.string, order, defaults,
                                                               tuple(c._bind_processors.items()))
        return compiled

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[Any]:
        """Run with ``params`` (by name) in ``conn``'s transaction; its rows. The statement must return rows (a
        SELECT, or RETURNING): asking the driver whether there are any costs more than the fetch."""
        for listener in conn.dispatch.before_execute:
            listener(conn, self.stmt, (), params, {})
        dialect = conn.dialect
        c = self._for(dialect)
        values = {**c.defaults, **params} if c.defaults else dict(params)
        for name, process in c.processors:
            if name in values:
                values[name] = process(values[name])
        args: Any = tuple(values[n] for n in c.order) if c.order is not None else values
        dbapi_conn: Any = conn.connection.dbapi_connection
        cur = dbapi_conn.cursor()
        try:
            for listener in conn.dispatch.before_cursor_execute:
                listener(conn, cur, c.sql, args, None, False)
            cur.execute(c.sql, args)
            rows: list[Any] = cur.fetchall()
            return rows
        except dialect.loaded_dbapi.Error as exc:
            lost = dialect.is_disconnect(exc, dbapi_conn, cur)
            if lost:
                conn.invalidate(exc)
            raise DBAPIError.instance(c.sql, args, exc, dialect.loaded_dbapi.Error, connection_invalidated=lost,
                                      dialect=dialect) from exc
        finally:
            cur.close()

    def scalar(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """The first column of the first row, or ``None``."""
        rows = self.rows(conn, params)
        return rows[0][0] if rows else None
