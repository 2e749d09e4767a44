"""Run a WSGI app on a background thread (sandboxes, the demo, tests). Port 0 picks a free port."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:  # request lines would flood the demo
        return


class BackgroundServer:
    """A threaded werkzeug server for ``app`` on ``host:port``; ``url`` is known once started."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, name: str = "server") -> None:
        self._server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=_QuietHandler
        )
        self.host = host
        self.port = int(self._server.server_port)
        self.name = name
        # A short poll interval: shutdown() waits for it (werkzeug's default makes every stop cost 0.5 s).
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name=name, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> BackgroundServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
