"""The control API (``/_sandbox/…``): scenarios, knobs and counters for tests, the demo and
benchmarks. Unauthenticated (bind the sandbox to loopback); writes run in the USERINTERFACE
context so the project's user events fire as they would for a person in the NetSuite UI."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from flask import Blueprint, Response, request

from .config import Faults
from .errors import NsError, invalid_content
from .harness import ScriptError, sb_run_map_reduce
from .http import json_body, json_response, sandbox
from .sandbox import UI, ExecContext

bp = Blueprint("netsuite_control", __name__, url_prefix="/_sandbox")
RECORD_BASE = "/services/rest/record/v1"


def _body() -> dict[str, Any]:
    body = json_body(required=False)
    if not isinstance(body, dict):
        raise invalid_content("The request body must be a JSON object.")
    return body


def _written(result: Any) -> Response:
    return json_response(
        {
            "id": result.rec.id,
            "created": result.created,
            "type": result.rec.type,
            "tranId": result.rec.data.get("tranId"),
        }
    )


@bp.get("/state")
def state() -> Response:
    return json_response(sandbox().state())


@bp.get("/counters")
def counters() -> Response:
    sb = sandbox()
    return json_response(
        {
            **sb.counters.snapshot(),
            "concurrency": {"limit": sb.pool.limit, "inFlight": sb.pool.in_flight, "peak": sb.pool.peak},
        }
    )


@bp.post("/counters/reset")
def counters_reset() -> Response:
    sb = sandbox()
    sb.counters.reset()
    sb.pool.peak = 0
    return json_response({"ok": True})


@bp.post("/reset")
def reset() -> Response:
    body = _body()
    sandbox().reset(seed_defaults=bool(body.get("seed", True)))
    return json_response({"ok": True})


@bp.post("/seed")
def seed() -> Response:
    return json_response({"ids": sandbox().seed(_body())})


@bp.get("/special-accounts")
def special_accounts() -> Response:
    return json_response(sandbox().special_accounts)


@bp.post("/stock/receive")
def receive() -> Response:
    b = _body()
    result = sandbox().receive_stock(
        str(b["item"]), str(b["location"]), str(b["quantity"]), b.get("unitCost"), tran_date=b.get("tranDate")
    )
    return _written(result)


@bp.post("/stock/adjust")
def adjust() -> Response:
    b = _body()
    result = sandbox().adjust_stock(str(b["item"]), str(b["location"]), str(b["adjustQtyBy"]), b.get("account"))
    return _written(result)


@bp.get("/stock")
def stock() -> Response:
    return json_response({"items": sandbox().stock_levels(request.args.get("item"), request.args.get("location"))})


@bp.post("/sales/other-channel")
def other_channel() -> Response:
    b = _body()
    out = sandbox().other_channel_sale(
        b.get("lines") or [],
        customer=b.get("customer"),
        location=b.get("location"),
        fulfill=bool(b.get("fulfill", True)),
        external_id=b.get("externalId"),
    )
    return json_response(out)


@bp.post("/fulfillments")
def fulfill() -> Response:
    b = _body()
    result = sandbox().fulfill(
        str(b["salesOrder"]),
        lines=b.get("lines"),
        packages=b.get("packages"),
        ship_status=str(b.get("shipStatus", "C")),
        ship_method=b.get("shipMethod"),
        carrier=b.get("carrier"),
        memo=b.get("memo"),
        extra=b.get("fields"),
        context_type=str(b.get("executionContext", UI)),
    )
    return _written(result)


@bp.post("/fulfillments/<fid>/status")
def fulfillment_status(fid: str) -> Response:
    b = _body()
    return _written(sandbox().set_ship_status(fid, str(b.get("shipStatus", "C"))))


@bp.post("/sales-orders/<so_id>/close")
def close_lines(so_id: str) -> Response:
    b = _body()
    lines = b.get("lines")
    return _written(sandbox().close_sales_order_lines(so_id, [int(x) for x in lines] if lines else None))


@bp.post("/records/<rec_type>")
def create_record(rec_type: str) -> Response:
    return _written(sandbox().create(rec_type, _body(), ExecContext(context_type=UI)))


@bp.get("/records/<rec_type>/<key>")
def get_record(rec_type: str, key: str) -> Response:
    sb = sandbox()
    rec = sb.get(rec_type, key)
    return json_response(sb.rest_view(rec, request.host_url.rstrip("/") + RECORD_BASE, expand=True))


@bp.patch("/records/<rec_type>/<key>")
def update_record(rec_type: str, key: str) -> Response:
    replace = {s for s in request.args.get("replace", "").split(",") if s}
    return _written(sandbox().update(rec_type, key, _body(), ExecContext(context_type=UI), replace))


@bp.delete("/records/<rec_type>/<key>")
def delete_record(rec_type: str, key: str) -> Response:
    sandbox().delete(rec_type, key, ExecContext(context_type=UI))
    return json_response({"ok": True})


@bp.post("/records/<rec_type>/<key>/transform/<to_type>")
def transform_record(rec_type: str, key: str, to_type: str) -> Response:
    replace = {s for s in request.args.get("replace", "").split(",") if s}
    return _written(sandbox().transform(rec_type, key, to_type, _body(), ExecContext(context_type=UI), replace))


@bp.post("/suiteql")
def suiteql() -> Response:
    b = _body()
    items, total = sandbox().suiteql(str(b.get("q") or ""), b.get("params"))
    return json_response({"items": items, "totalResults": total})


@bp.route("/faults", methods=["GET", "POST"])
def faults() -> Response:
    sb = sandbox()
    if request.method == "POST":
        b = _body()
        names = {f.name for f in fields(Faults)}
        for key, value in b.items():
            if key == "scripted":
                for fault in value or []:
                    sb.chaos.script_fault(fault)
            elif key in names:
                setattr(sb.config.faults, key, type(getattr(sb.config.faults, key))(value))
            else:
                raise invalid_content(f"Unknown fault knob {key}.", key)
    return json_response(sb.chaos.describe())


@bp.post("/faults/reset")
def faults_reset() -> Response:
    sb = sandbox()
    fresh = Faults()
    for f in fields(Faults):
        setattr(sb.config.faults, f.name, getattr(fresh, f.name))
    sb.chaos.clear_scripted()
    return json_response(sb.chaos.describe())


@bp.route("/latency", methods=["GET", "POST"])
def latency() -> Response:
    sb = sandbox()
    if request.method == "POST":
        b = _body()
        lat = sb.config.latency
        if "scale" in b:
            lat.scale = float(b["scale"])
        if "perLine" in b:
            lat.per_line = float(b["perLine"])
        if "jitter" in b:
            lat.jitter = float(b["jitter"])
        for op, seconds in (b.get("base") or {}).items():
            lat.base[str(op)] = float(seconds)
    return json_response(asdict(sb.config.latency))


@bp.route("/concurrency", methods=["GET", "POST"])
def concurrency() -> Response:
    sb = sandbox()
    if request.method == "POST":
        sb.pool.set_limit(int(_body()["limit"]))
        sb.config.concurrency_limit = sb.pool.limit
    return json_response({"limit": sb.pool.limit, "inFlight": sb.pool.in_flight, "peak": sb.pool.peak})


@bp.post("/periods/close")
def close_period() -> Response:
    b = _body()
    sandbox().close_period(str(b["period"]), closed=True)
    return json_response({"closedPeriods": sorted(sandbox().closed_periods)})


@bp.post("/periods/open")
def open_period() -> Response:
    b = _body()
    sandbox().close_period(str(b["period"]), closed=False)
    return json_response({"closedPeriods": sorted(sandbox().closed_periods)})


@bp.post("/legacy-tax")
def legacy_tax() -> Response:
    sb = sandbox()
    sb.config.legacy_tax = bool(_body().get("enabled", True))
    return json_response({"legacyTax": sb.config.legacy_tax})


@bp.post("/clock/advance")
def advance_clock() -> Response:
    b = _body()
    now = sandbox().advance_clock(float(b.get("seconds", 0)))
    return json_response({"now": now.isoformat()})


@bp.get("/scripts")
def scripts() -> Response:
    sb = sandbox()
    return json_response(
        {
            "source": sb.project.source,
            "scripts": [
                {
                    "scriptId": s.scriptid,
                    "internalId": s.internal_id,
                    "type": s.kind,
                    "file": s.file,
                    "parameters": [p.scriptid for p in s.params],
                    "deployments": [
                        {
                            "scriptId": d.scriptid,
                            "internalId": d.internal_id,
                            "recordType": d.record_type,
                            "status": d.status,
                            "deployed": d.is_deployed,
                        }
                        for d in s.deployments
                    ],
                }
                for s in sb.project.scripts
            ],
            "customFields": sorted(sb.custom_fields),
            "customRecords": sorted(sb.project.custom_records),
        }
    )


@bp.get("/script-logs")
def script_logs() -> Response:
    sb = sandbox()
    with sb.lock:
        return json_response({"logs": list(sb.script_log)})


@bp.get("/outbound")
def outbound() -> Response:
    sb = sandbox()
    with sb.lock:
        return json_response({"requests": list(sb.outbound)})


@bp.post("/mapreduce/run")
def run_map_reduce() -> Response:
    b = _body()
    sb = sandbox()
    script_id = str(b.get("scriptId") or "")
    if not script_id:
        mr = [s for s in sb.project.scripts if s.kind == "MAPREDUCE"]
        if not mr:
            raise NsError(404, "NONEXISTENT_ID", "The project has no map/reduce script.")
        script_id = mr[0].scriptid
    try:
        summary = sb_run_map_reduce(sb, script_id, b.get("deploymentId"), b.get("params"))
    except ScriptError as exc:
        return json_response({"error": {"code": exc.name, "message": exc.message}}, exc.status)
    return json_response({"scriptId": script_id, "summary": summary})
