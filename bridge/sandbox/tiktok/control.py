"""The control API under ``/_sandbox/…`` (JSON in, JSON out, unauthenticated: a sandbox only).

Every route calls the ``TikTokSandbox`` method of the same name; docs/sandbox-tiktok.md lists
them. Refusals answer ``{"error": reason, "message": …}`` with a 4xx status.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, request

from .errors import SandboxError
from .sandbox import TikTokSandbox


def _json(doc: Any, status: int = 200) -> Response:
    return Response(json.dumps(doc, ensure_ascii=False, default=str), status=status, mimetype="application/json")


def _bulk(sb: TikTokSandbox, doc: dict[str, Any]) -> dict[str, Any]:
    specs = doc.get("orders")
    if not isinstance(specs, list):
        raise SandboxError("orders must be a list of {shop_id, items, …} objects")
    return sb.place_orders(specs, detail=bool(doc.get("detail")))


def control_blueprint(sb: TikTokSandbox) -> Blueprint:
    bp = Blueprint("tiktok_sandbox_control", __name__, url_prefix="/_sandbox")

    def body() -> dict[str, Any]:
        if not request.get_data():
            return {}
        doc = request.get_json(silent=True)
        if not isinstance(doc, dict):
            raise SandboxError("the request body must be a JSON object")
        return doc

    def route(rule: str, methods: list[str], fn: Callable[..., Any], name: str | None = None) -> None:
        def view(**kw: Any) -> Response:
            try:
                result = fn(**kw)
            except SandboxError as err:
                return _json({"error": err.reason, "message": err.message}, err.status)
            except TypeError as err:  # unexpected or missing arguments in the JSON body
                return _json({"error": "bad_request", "message": str(err)}, 400)
            except (KeyError, ValueError) as err:
                return _json({"error": "bad_request", "message": f"{type(err).__name__}: {err}"}, 400)
            return _json(result if result is not None else {"ok": True})

        bp.add_url_rule(rule, name or rule.strip("/").replace("/", "_").replace("<", "").replace(">", ""), view,
                        methods=methods)

    def args() -> dict[str, Any]:
        return {k: v for k, v in request.args.items()}

    # scenario and identities
    route("/state", ["GET"], sb.describe)
    route("/reset", ["POST"], lambda: sb.reset(**body()))
    route("/apps", ["POST"], lambda: sb.add_app(**body()))
    route("/apps/<app_key>", ["PATCH", "POST"], lambda app_key: sb.update_app(app_key, **body()))
    route("/shops", ["POST"], lambda: sb.add_shop(**body()))
    route("/shops/<shop_id>", ["GET"], sb.shop)
    route("/shops/<shop_id>/warehouses", ["POST"], lambda shop_id: sb.add_warehouse(shop_id, **body()))
    route("/authorize", ["POST"], lambda: {"code": sb.authorize(**body())})
    route("/tokens", ["POST"], lambda: sb.issue_token(**body()))
    route("/tokens/expire", ["POST"], lambda: {"count": sb.expire_token(**body())})
    route("/tokens/revoke", ["POST"], lambda: {"count": sb.revoke_token(**body())})
    route("/deauthorize", ["POST"], lambda: {"count": sb.deauthorize(**body())})
    route("/authorization_expiring", ["POST"], lambda: sb.authorization_expiring(**body()))
    # webhooks
    route("/webhooks/subscribe", ["POST"], lambda: sb.subscribe(**body()))
    route("/webhooks/deliveries", ["GET"], lambda: sb.webhook_deliveries(
        shop_id=request.args.get("shop_id"),
        type=int(request.args["type"]) if request.args.get("type") else None,
        state=request.args.get("state")))
    route("/webhooks/wait", ["POST"], lambda: {"idle": sb.wait_webhooks(**body())})
    # catalog
    route("/products", ["POST"], lambda: sb.add_product(**body()))
    route("/products", ["GET"], lambda: sb.products(request.args.get("shop_id")), name="products_list")
    route("/products/<product_id>/status", ["POST"], lambda product_id: sb.set_product_status(product_id, **body()))
    route("/stock", ["POST"], lambda: sb.set_stock(**body()))
    route("/skus/<sku_id>/promotion_lock", ["POST"], lambda sku_id: sb.set_promotion_lock(sku_id, **body()))
    route("/inventory", ["GET"], lambda: sb.inventory(request.args.get("shop_id")))
    # orders
    route("/orders", ["POST"], lambda: sb.place_order(**body()))
    route("/orders/bulk", ["POST"], lambda: _bulk(sb, body()))
    route("/orders", ["GET"], lambda: sb.list_orders(
        shop_id=request.args.get("shop_id"), status=request.args.get("status"),
        limit=int(request.args.get("limit", 1000)), offset=int(request.args.get("offset", 0))), name="orders_list")
    route("/orders/<order_id>", ["GET"], sb.order)
    route("/orders/<order_id>/pay", ["POST"], lambda order_id: sb.pay_order(order_id, **body()))
    route("/orders/<order_id>/release_hold", ["POST"], sb.release_hold)
    route("/orders/<order_id>/hold", ["POST"], lambda order_id: sb.hold_order(order_id, **body()))
    route("/orders/<order_id>/advance", ["POST"], lambda order_id: sb.advance_order(order_id, **body()))
    route("/orders/<order_id>/address", ["POST"], lambda order_id: sb.update_address(order_id, **body()))
    route("/orders/<order_id>/cancel", ["POST"], lambda order_id: sb.cancel_order(order_id, **body()))
    route("/orders/<order_id>/return", ["POST"], lambda order_id: sb.request_return(order_id, **body()))
    route("/fbt/inbound_orders", ["POST"], lambda: sb.receive_inbound_order(**body()))
    route("/fbt/inbound_orders/<inbound_order_id>/receive", ["POST"],
          lambda inbound_order_id: sb.receive_inbound_batches(inbound_order_id, **body()))
    route("/orders/<order_id>/ship_fbt", ["POST"], lambda order_id: sb.ship_fbt_order(order_id, **body()))
    route("/returns/<return_id>/buyer_ship", ["POST"], lambda return_id: sb.buyer_ships_return(return_id, **body()))
    route("/packages", ["GET"], lambda: sb.packages(**args()))
    route("/shipments", ["GET"], lambda: sb.shipments(**args()))
    route("/cancellations", ["GET"], lambda: sb.cancellations(**args()))
    route("/returns", ["GET"], lambda: sb.returns(**args()))
    route("/tracking/invalid", ["POST"], lambda: sb.mark_tracking_invalid(**body()))
    route("/orders/<order_id>/omit_from_detail", ["POST"],
          lambda order_id: sb.omit_from_order_detail(order_id, **body()))
    # finance
    route("/statements", ["POST"], lambda: sb.generate_statements(**body()))
    route("/statements", ["GET"], lambda: sb.statements(request.args.get("shop_id")), name="statements_list")
    route("/statements/<statement_id>/reissue", ["POST"],
          lambda statement_id: sb.reissue_statement(statement_id, **body()))
    route("/adjustments", ["POST"], lambda: sb.add_adjustment(**body()))
    route("/payments/<payment_id>/status", ["POST"], lambda payment_id: sb.set_payment_status(payment_id, **body()))
    # clock, faults, counters
    route("/clock", ["GET"], lambda: {"now": sb.now()})
    route("/clock/advance", ["POST"], lambda: {"now": sb.advance_clock(**body())})
    route("/clock/speed", ["POST"], lambda: sb.set_clock_speed(**body()))
    route("/tick", ["POST"], lambda: {"released": sb.tick()})
    route("/faults", ["GET"], sb.faults.snapshot)
    route("/faults", ["POST"], lambda: sb.set_faults(**body()), name="faults_set")
    route("/counters", ["GET"], sb.counters_snapshot)
    route("/counters/reset", ["POST"], sb.reset_counters)
    return bp
