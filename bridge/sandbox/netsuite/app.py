"""``create_app``: the NetSuite sandbox as a Flask app (REST, SuiteQL, RESTlets, control API)."""

from __future__ import annotations

import logging

from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from . import control, rest, restlet
from .config import NetSuiteSandboxConfig
from .errors import NsError
from .harness import HarnessHost
from .http import EXTENSION, RestletRefusal, json_response, ns_error_response
from .sandbox import NetSuiteSandbox

log = logging.getLogger(__name__)


def create_app(config: NetSuiteSandboxConfig | None = None) -> Flask:
    """A sandbox account; its live state is ``app.extensions["netsuite_sandbox"]`` (``NetSuiteSandbox``).

    The SuiteScript harness (Node) starts on first use when the SuiteCloud project has scripts and
    ``config.run_scripts`` is on; call ``app.extensions["netsuite_sandbox"].close()`` to stop it.
    """
    cfg = config or NetSuiteSandboxConfig()
    app = Flask("bridge.sandbox.netsuite")
    sb = NetSuiteSandbox(cfg)
    if cfg.run_scripts and sb.project.scripts:
        sb.scripts = HarnessHost(sb)
    app.extensions[EXTENSION] = sb
    app.register_blueprint(rest.bp)
    app.register_blueprint(restlet.bp)
    app.register_blueprint(control.bp)

    @app.errorhandler(NsError)
    def _ns_error(err: NsError) -> Response:
        return ns_error_response(err)

    @app.errorhandler(RestletRefusal)
    def _restlet_refusal(err: RestletRefusal) -> Response:
        return err.response()

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException) -> Response:
        status = err.code or 500
        code = {404: "NONEXISTENT_ID", 405: "INVALID_REQUEST"}.get(status, "INVALID_REQUEST")
        return ns_error_response(NsError(status, code, err.description or err.name))

    @app.errorhandler(KeyError)
    def _missing(err: KeyError) -> Response:
        return ns_error_response(NsError(400, "INVALID_CONTENT", f"Missing required value: {err.args[0]}"))

    @app.errorhandler(Exception)
    def _unexpected(err: Exception) -> Response:
        log.exception("netsuite sandbox: unexpected error")
        return json_response(NsError(500, "UNEXPECTED_ERROR", "An unexpected error occurred.").body(), 500)

    return app
