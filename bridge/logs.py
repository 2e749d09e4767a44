"""JSON logs with a correlation id that follows an event from the inbox to every job it causes."""

from __future__ import annotations

import contextvars
import json
import logging
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from bridge.errors import redact_mapping, redact_text

_correlation: contextvars.ContextVar[str] = contextvars.ContextVar("ttns_correlation_id", default="")
_job: contextvars.ContextVar[tuple[int | None, str | None]] = contextvars.ContextVar("ttns_job", default=(None, None))

_STD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


def new_correlation_id() -> str:
    return secrets.token_hex(8)


def correlation_id() -> str:
    return _correlation.get()


@contextmanager
def correlation(cid: str | None = None) -> Iterator[str]:
    """Run the block under correlation id ``cid`` (a new one if empty)."""
    cid = cid or new_correlation_id()
    token = _correlation.set(cid)
    try:
        yield cid
    finally:
        _correlation.reset(token)


def set_correlation(cid: str) -> contextvars.Token[str]:
    """Set the correlation id until ``reset_correlation(token)`` (for request hooks that cannot use ``with``)."""
    return _correlation.set(cid)


def reset_correlation(token: contextvars.Token[str]) -> None:
    _correlation.reset(token)


def current_job() -> tuple[int | None, str | None]:
    """(job id, entity key) of the job running on this thread; API clients tag their calls with it."""
    return _job.get()


@contextmanager
def job_scope(job_id: int | None, entity: str | None) -> Iterator[None]:
    token = _job.set((job_id, entity))
    try:
        yield
    finally:
        _job.reset(token)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": redact_text(record.getMessage(), 4000),
        }
        cid = getattr(record, "correlation_id", None) or _correlation.get()
        if cid:
            out["correlation_id"] = cid
        extras = {k: v for k, v in record.__dict__.items() if k not in _STD_ATTRS and k != "correlation_id"}
        if extras:
            out.update(redact_mapping(_jsonable(extras)))
        if record.exc_info:
            out["exc"] = redact_text(self.formatException(record.exc_info), 8000)
        return json.dumps(out, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        cid = _correlation.get()
        base = f"{datetime.fromtimestamp(record.created, UTC):%H:%M:%S} {record.levelname:<7} {record.name}: "
        msg = redact_text(record.getMessage(), 4000)
        if cid:
            msg += f" [cid={cid}]"
        if record.exc_info:
            msg += "\n" + redact_text(self.formatException(record.exc_info), 8000)
        return base + msg


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def configure_logging(level: str = "INFO", fmt: str = "json", stream: Any = None) -> None:
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_ttns", False):
            root.removeHandler(h)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler._ttns = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in ("urllib3", "werkzeug", "apscheduler.executors.default", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def gunicorn_logger_class(fmt: str = "json") -> type:
    """A gunicorn logger whose lines are formatted like the bridge's own (JSON by default)."""
    from gunicorn.glogging import Logger

    class BridgeGunicornLogger(Logger):  # type: ignore[misc]
        def setup(self, cfg: Any) -> None:
            super().setup(cfg)
            formatter = JsonFormatter() if fmt == "json" else TextFormatter()
            for log in (self.error_log, self.access_log):
                for handler in log.handlers:
                    handler.setFormatter(formatter)

    return BridgeGunicornLogger
