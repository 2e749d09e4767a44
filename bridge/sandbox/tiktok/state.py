"""The sandbox's in-memory world: apps, sellers, shops, tokens, catalog, logistics, orders,
packages, after-sales, finance and webhook subscriptions.

``SandboxState`` holds the records and small lookups; the domain modules (``auth``, ``catalog``,
``orders``, ``fulfillment``, ``aftersale``, ``finance``) change it. Every change that TikTok would
announce appends an event to ``outbox``; the facade hands those to the webhook sender after the
state lock is released. Nothing here does I/O.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from .clock import BusinessClock
from .config import TikTokSandboxConfig
from .errors import SandboxError
from .ids import IdFactory
from .models import (
    Adjustment,
    App,
    AuthCode,
    Cancellation,
    DeliveryOption,
    FbtInventoryRecord,
    InboundOrder,
    Order,
    Package,
    Payment,
    Product,
    Provider,
    ReturnRecord,
    Seller,
    Shop,
    Sku,
    Statement,
    Token,
    Transaction,
    Warehouse,
    Withdrawal,
)


@dataclass
class Event:
    shop_id: str
    type: int
    data: dict[str, Any]
    timestamp: int
    app_key: str | None = None  # only this app (e.g. its own deauthorization); None: every granted app


@dataclass
class Subscription:
    app_key: str
    shop_id: str
    event_type: str
    address: str
    create_time: int
    update_time: int


@dataclass
class SandboxState:
    config: TikTokSandboxConfig
    clock: BusinessClock
    ids: IdFactory
    rng: random.Random
    apps: dict[str, App] = field(default_factory=dict)
    sellers: dict[str, Seller] = field(default_factory=dict)
    shops: dict[str, Shop] = field(default_factory=dict)
    auth_codes: dict[str, AuthCode] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)  # access token -> Token
    refresh_index: dict[str, str] = field(default_factory=dict)  # refresh token -> access token
    grants: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # (app, open_id) -> shop ids
    providers: dict[str, Provider] = field(default_factory=dict)
    delivery_options: dict[str, DeliveryOption] = field(default_factory=dict)
    warehouses: dict[str, Warehouse] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    skus: dict[str, Sku] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    packages: dict[str, Package] = field(default_factory=dict)
    cancellations: dict[str, Cancellation] = field(default_factory=dict)
    returns: dict[str, ReturnRecord] = field(default_factory=dict)
    adjustments: dict[str, Adjustment] = field(default_factory=dict)
    transactions: dict[str, Transaction] = field(default_factory=dict)
    statements: dict[str, Statement] = field(default_factory=dict)
    payments: dict[str, Payment] = field(default_factory=dict)
    withdrawals: dict[str, Withdrawal] = field(default_factory=dict)
    subscriptions: dict[tuple[str, str, str], Subscription] = field(default_factory=dict)
    images: dict[str, dict[str, Any]] = field(default_factory=dict)
    invalid_tracking_numbers: set[str] = field(default_factory=set)
    # orders Get Order Detail leaves out of its answer (``omit_from_order_detail``; TikTok documents no such case,
    # the bridge must not rely on an absent order: the settlement flow refuses, the ledger audit names it)
    order_detail_omitted: set[str] = field(default_factory=set)
    used_tracking_numbers: dict[str, str] = field(default_factory=dict)  # number -> package id
    outbox: list[Event] = field(default_factory=list)
    audit_rules: list[tuple[str, str, str]] = field(default_factory=list)  # (term, reason, suggestion)
    order_seq: list[str] = field(default_factory=list)  # creation order, for fast scans
    on_hold: set[str] = field(default_factory=set)  # orders in ON_HOLD, for the ticker
    inbound_orders: dict[str, InboundOrder] = field(default_factory=dict)  # FBT inbound orders by number
    fbt_records: list[FbtInventoryRecord] = field(default_factory=list)  # FBT inventory changes, oldest first
    fbt_defective: dict[tuple[str, str], int] = field(default_factory=dict)  # (warehouse, sku) -> defective units
    # Create Product's ``idempotency_key`` ("unique within the shop"): (shop, key) -> the product it created
    product_create_keys: dict[tuple[str, str], str] = field(default_factory=dict)

    # ----------------------------------------------------------------------------- helpers
    def now(self) -> int:
        return self.clock.now_int()

    def emit(self, shop_id: str, type_: int, data: dict[str, Any], app_key: str | None = None) -> None:
        self.outbox.append(Event(shop_id=shop_id, type=type_, data=data, timestamp=self.now(), app_key=app_key))

    def take_outbox(self) -> list[Event]:
        out, self.outbox = self.outbox, []
        return out

    def app(self, app_key: str) -> App:
        try:
            return self.apps[app_key]
        except KeyError:
            raise SandboxError(f"unknown app_key {app_key!r}", 404, "not_found") from None

    def shop(self, shop_id: str) -> Shop:
        try:
            return self.shops[shop_id]
        except KeyError:
            raise SandboxError(f"unknown shop {shop_id!r}", 404, "not_found") from None

    def shop_by_cipher(self, cipher: str) -> Shop | None:
        for shop in self.shops.values():
            if shop.cipher == cipher:
                return shop
        return None

    def order(self, order_id: str, shop_id: str | None = None) -> Order:
        order = self.orders.get(str(order_id))
        if order is None or (shop_id is not None and order.shop_id != shop_id):
            raise SandboxError(f"unknown order {order_id!r}", 404, "not_found")
        return order

    def sku(self, sku_id: str) -> Sku:
        try:
            return self.skus[str(sku_id)]
        except KeyError:
            raise SandboxError(f"unknown sku {sku_id!r}", 404, "not_found") from None

    def sku_by_seller_sku(self, shop_id: str, seller_sku: str) -> Sku:
        for sku in self.skus.values():
            if sku.seller_sku == seller_sku and self.products[sku.product_id].shop_id == shop_id:
                return sku
        raise SandboxError(f"unknown seller_sku {seller_sku!r} in shop {shop_id}", 404, "not_found")

    def warehouse(self, warehouse_id: str, shop_id: str | None = None) -> Warehouse:
        wh = self.warehouses.get(str(warehouse_id))
        if wh is None or (shop_id is not None and wh.shop_id != shop_id):
            raise SandboxError(f"unknown warehouse {warehouse_id!r}", 404, "not_found")
        return wh

    def shop_warehouses(self, shop_id: str, sales_only: bool = True) -> list[Warehouse]:
        return [
            w for w in self.warehouses.values()
            if w.shop_id == shop_id and (not sales_only or w.type == "SALES_WAREHOUSE")
        ]

    def default_warehouse(self, shop_id: str, fbt: bool = False) -> Warehouse:
        candidates = [w for w in self.shop_warehouses(shop_id) if w.fbt == fbt]
        if not candidates:
            kind = "FBT" if fbt else "seller"
            raise SandboxError(f"shop {shop_id} has no {kind} sales warehouse", 409, "conflict")
        return next((w for w in candidates if w.is_default), candidates[0])

    def delivery_options_of(self, warehouse_id: str) -> list[DeliveryOption]:
        return [d for d in self.delivery_options.values() if d.warehouse_id == warehouse_id]
