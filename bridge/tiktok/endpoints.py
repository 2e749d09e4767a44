"""Every TikTok Shop endpoint the bridge calls, in one table.

Each row: logical name → method, path template, API version, whether ``shop_cipher`` is sent,
whether the body is multipart, and whether repeating the call is harmless (reads and searches,
retried inside the call on 5xx; writes are not). The version is a column of its own, so moving to
a new version when TikTok retires one is a one-line change (the test suite checks every row
against the facts digested from the Partner Center pages, and that each uses the newest version
they document).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

Method = Literal["GET", "POST", "PUT", "DELETE"]

_PARAM = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: Method
    template: str  # "/order/{version}/orders" — {version} and path parameters in braces
    version: str
    shop_cipher: bool = True
    multipart: bool = False
    idempotent: bool = False
    page_size: int = 0  # the documented maximum page size of a paginated endpoint (0: not paginated)

    def __post_init__(self) -> None:
        if self.template.startswith(("/authorization/", "/seller/")) and self.shop_cipher:
            raise ValueError(f"{self.name}: shop_cipher is rejected on /authorization and /seller APIs")

    @property
    def path_template(self) -> str:
        """The documented path, e.g. ``/order/202507/orders``."""
        return self.template.replace("{version}", self.version)

    @property
    def path_params(self) -> tuple[str, ...]:
        return tuple(p for p in _PARAM.findall(self.template) if p != "version")

    def path(self, **params: str) -> str:
        """The request path with path parameters filled in (URL-quoted; missing ones refused)."""
        missing = [p for p in self.path_params if not params.get(p)]
        if missing:
            raise ValueError(f"{self.name}: missing path parameter(s) {', '.join(missing)}")
        out = self.path_template
        for key in self.path_params:
            out = out.replace("{" + key + "}", quote(str(params[key]), safe=""))
        return out


def _e(
    name: str,
    method: Method,
    template: str,
    version: str,
    *,
    shop_cipher: bool = True,
    multipart: bool = False,
    idempotent: bool | None = None,
    page_size: int = 0,
) -> Endpoint:
    return Endpoint(name, method, template, version, shop_cipher=shop_cipher, multipart=multipart,
                    idempotent=(method == "GET") if idempotent is None else idempotent, page_size=page_size)


_ROWS: tuple[Endpoint, ...] = (
    # authorization & webhooks
    _e("authorization.shops", "GET", "/authorization/{version}/shops", "202309", shop_cipher=False),
    _e("events.webhooks.get", "GET", "/event/{version}/webhooks", "202309"),
    _e("events.webhooks.update", "PUT", "/event/{version}/webhooks", "202309", idempotent=True),
    _e("events.webhooks.delete", "DELETE", "/event/{version}/webhooks", "202309", idempotent=True),
    # orders
    _e("orders.search", "POST", "/order/{version}/orders/search", "202309", idempotent=True, page_size=100),
    _e("orders.detail", "GET", "/order/{version}/orders", "202507"),
    _e("orders.price_detail", "GET", "/order/{version}/orders/{order_id}/price_detail", "202407"),
    # products
    _e("products.search", "POST", "/product/{version}/products/search", "202502", idempotent=True,
       page_size=100),
    _e("products.get", "GET", "/product/{version}/products/{product_id}", "202309"),
    _e("products.create", "POST", "/product/{version}/products", "202309"),
    _e("products.edit", "PUT", "/product/{version}/products/{product_id}", "202509"),
    _e("products.partial_edit", "POST", "/product/{version}/products/{product_id}/partial_edit", "202509"),
    _e("products.activate", "POST", "/product/{version}/products/activate", "202309", idempotent=True),
    _e("products.deactivate", "POST", "/product/{version}/products/deactivate", "202309", idempotent=True),
    _e("products.inventory.search", "POST", "/product/{version}/inventory/search", "202309", idempotent=True),
    _e("products.inventory.update", "POST", "/product/{version}/products/{product_id}/inventory/update", "202309",
       idempotent=True),
    _e("products.prices.update", "POST", "/product/{version}/products/{product_id}/prices/update", "202309",
       idempotent=True),
    _e("products.categories", "GET", "/product/{version}/categories", "202309"),
    _e("products.attributes", "GET", "/product/{version}/categories/{category_id}/attributes", "202309"),
    _e("products.rules", "GET", "/product/{version}/categories/{category_id}/rules", "202309"),
    _e("products.brands", "GET", "/product/{version}/brands", "202309", page_size=100),
    _e("products.images.upload", "POST", "/product/{version}/images/upload", "202309", shop_cipher=False,
       multipart=True),
    # logistics
    _e("logistics.warehouses", "GET", "/logistics/{version}/warehouses", "202309"),
    _e("logistics.delivery_options", "GET", "/logistics/{version}/warehouses/{warehouse_id}/delivery_options",
       "202309"),
    _e("logistics.shipping_providers", "GET",
       "/logistics/{version}/delivery_options/{delivery_option_id}/shipping_providers", "202309"),
    # fulfillment
    _e("fulfillment.mark_package_shipped", "POST", "/fulfillment/{version}/orders/{order_id}/packages", "202309"),
    _e("fulfillment.ship_package", "POST", "/fulfillment/{version}/packages/{package_id}/ship", "202309"),
    _e("fulfillment.batch_ship", "POST", "/fulfillment/{version}/packages/ship", "202309"),
    _e("fulfillment.update_shipping_info", "POST", "/fulfillment/{version}/orders/{order_id}/shipping_info/update",
       "202309", idempotent=True),
    _e("fulfillment.update_package_shipping_info", "POST",
       "/fulfillment/{version}/packages/{package_id}/shipping_info/update", "202309", idempotent=True),
    _e("fulfillment.packages.search", "POST", "/fulfillment/{version}/packages/search", "202309", idempotent=True,
       page_size=50),
    _e("fulfillment.packages.get", "GET", "/fulfillment/{version}/packages/{package_id}", "202309"),
    _e("fulfillment.split_attributes", "GET", "/fulfillment/{version}/orders/split_attributes", "202309"),
    _e("fulfillment.split", "POST", "/fulfillment/{version}/orders/{order_id}/split", "202309"),
    _e("fulfillment.shipping_documents", "GET",
       "/fulfillment/{version}/packages/{package_id}/shipping_documents", "202309"),
    # fulfilled by TikTok
    _e("fbt.warehouses", "GET", "/fbt/{version}/warehouses", "202408"),
    _e("fbt.inventory.search", "POST", "/fbt/{version}/inventory/search", "202408", idempotent=True,
       page_size=100),
    _e("fbt.inbound_orders.get", "GET", "/fbt/{version}/inbound_orders", "202409"),
    _e("fbt.inventory_records.search", "POST", "/fbt/{version}/inventory_records/search", "202410",
       idempotent=True, page_size=100),
    # return & refund
    _e("returns.cancellations.search", "POST", "/return_refund/{version}/cancellations/search", "202309",
       idempotent=True, page_size=50),
    _e("returns.cancellations.create", "POST", "/return_refund/{version}/cancellations", "202309"),
    _e("returns.cancellations.approve", "POST", "/return_refund/{version}/cancellations/{cancel_id}/approve",
       "202309"),
    _e("returns.cancellations.reject", "POST", "/return_refund/{version}/cancellations/{cancel_id}/reject",
       "202309"),
    _e("returns.search", "POST", "/return_refund/{version}/returns/search", "202309", idempotent=True,
       page_size=50),
    _e("returns.approve", "POST", "/return_refund/{version}/returns/{return_id}/approve", "202309"),
    _e("returns.reject", "POST", "/return_refund/{version}/returns/{return_id}/reject", "202309"),
    _e("returns.reject_reasons", "GET", "/return_refund/{version}/reject_reasons", "202309"),
    # finance
    _e("finance.statements", "GET", "/finance/{version}/statements", "202309", page_size=100),
    _e("finance.payments", "GET", "/finance/{version}/payments", "202309", page_size=100),
    _e("finance.withdrawals", "GET", "/finance/{version}/withdrawals", "202309", page_size=100),
    _e("finance.statement_transactions", "GET", "/finance/{version}/statements/{statement_id}/statement_transactions",
       "202501", page_size=100),
    _e("finance.order_transactions", "GET", "/finance/{version}/orders/{order_id}/statement_transactions", "202501"),
    _e("finance.unsettled", "GET", "/finance/{version}/orders/unsettled", "202507", page_size=100),
)

ENDPOINTS: dict[str, Endpoint] = {e.name: e for e in _ROWS}
if len(ENDPOINTS) != len(_ROWS):  # pragma: no cover - a typo in the table
    raise RuntimeError("duplicate endpoint names in bridge.tiktok.endpoints")


def endpoint(name: str) -> Endpoint:
    try:
        return ENDPOINTS[name]
    except KeyError:
        raise KeyError(f"no TikTok endpoint named {name!r} in bridge.tiktok.endpoints") from None


__all__ = ["ENDPOINTS", "Endpoint", "endpoint"]
