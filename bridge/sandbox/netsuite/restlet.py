"""RESTlets: ``/app/site/hosting/restlet.nl?script=…&deploy=…`` runs the project's RESTlet in Node."""

from __future__ import annotations

from flask import Blueprint, Response, request

from .errors import NsError, restlet_error
from .harness import HarnessHost, ScriptError
from .http import RestletRefusal, after_commit, authenticate, json_response, restlet_slot, sandbox
from .sandbox import ExecContext

bp = Blueprint("netsuite_restlet", __name__)
ALLOWED_TYPES = ("application/json", "text/plain")


@bp.route("/app/site/hosting/restlet.nl", methods=["GET", "POST", "PUT", "DELETE"])
def restlet() -> Response:
    sb = sandbox()
    try:
        authenticate("restlets")
    except NsError:
        sb.counters.inc("restlet.auth_refused")
        return json_response(restlet_error("INVALID_LOGIN_ATTEMPT", "Invalid login attempt."), 401)
    script = sb.project.script(request.args.get("script", ""))
    deploy_key = request.args.get("deploy", "")
    deployment = None
    if script is not None and script.kind == "RESTLET":
        deployment = next((d for d in script.deployments if deploy_key in (d.scriptid, d.internal_id)), None)
    if script is None or deployment is None or not deployment.active:
        raise RestletRefusal(
            400, "SSS_INVALID_SCRIPTLET_ID", "That Suitelet is invalid, disabled, or no longer exists."
        )
    content_type = request.mimetype or ""
    if request.method in ("POST", "PUT") and content_type not in ALLOWED_TYPES:
        raise RestletRefusal(
            415,
            "INVALID_CONTENT_TYPE",
            "Invalid content type. You can only use application/json or text/plain with RESTlets.",
        )
    host = sb.scripts
    if not isinstance(host, HarnessHost):
        raise RestletRefusal(400, "SSS_SCRIPTS_DISABLED", "Scripts do not run in this sandbox (run_scripts is off).")
    params = {k: v for k, v in request.args.items() if k not in ("script", "deploy")}
    args = {"body": request.get_data(as_text=True), "contentType": content_type, "params": params}
    with restlet_slot():
        try:
            value = host.restlet(script, deployment, request.method, args, ExecContext(context_type="RESTLET"))
        except ScriptError as exc:
            sb.counters.inc("restlet.errors")
            return json_response(restlet_error(exc.name, exc.message), exc.status)
    body = value.get("body", "") if isinstance(value, dict) else ""
    mimetype = content_type if content_type in ALLOWED_TYPES else "application/json"
    return after_commit(lambda: Response(body, status=200, mimetype=mimetype))
