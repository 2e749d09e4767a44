"""The composition root: the one place implementations are chosen and wired.

``build(settings)`` returns an ``App``, a frozen, typed object: the settings, the clock, the store,
the lazily built TikTok and NetSuite clients, the ``Ports`` the flows call (adapters over those
clients), the ``Flows`` (each built with what it uses, through its constructor) and the ``Registry``
holding every handler (a bound method of a flow), router and schedule. The web app, the worker, the
scheduler, the CLI, the demo and the benchmarks all start from here; nothing connects at build time (a
client is built on its first call; an unconfigured NetSuite raises its configuration error then).

Tests and the demo swap parts by the names of the ``Ports`` fields: ``build(settings, tiktok_orders=fake)``,
or ``app.with_ports(netsuite_lookup=fake)`` for an app already built (same store and clients, flows
and registry rebuilt over the new ports). This is the only module that imports concrete adapters.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, cast

from bridge.alerts import Alerter
from bridge.clock import Clock, SystemClock
from bridge.crypto import SecretBox
from bridge.flows import (
    cancellations,
    catalog,
    fulfillment,
    inventory,
    ledger_audit,
    monitoring,
    orders,
    returns,
    settlement,
    shops,
    system,
)
from bridge.flows.cancellations import CancellationSync
from bridge.flows.catalog import CatalogSync
from bridge.flows.fulfillment import FulfillmentSync
from bridge.flows.inventory import InventorySync
from bridge.flows.ledger_audit import LedgerAuditService
from bridge.flows.monitoring import Monitoring
from bridge.flows.orders import OrderReader, OrderSync
from bridge.flows.returns import ReturnSync
from bridge.flows.sales_intake import KIND_INTAKE, SalesIntake, with_intake
from bridge.flows.settlement import SettlementService
from bridge.flows.shops import ShopLifecycle
from bridge.flows.system import SystemJobs
from bridge.mapping import load_all_specs
from bridge.mapping.specs import SpecSet
from bridge.netsuite.adapters.fulfillment import NetSuiteFulfillmentAdapter
from bridge.netsuite.adapters.inventory import NetSuiteInventoryAdapter
from bridge.netsuite.adapters.ledger_audit import NetSuiteGlReader
from bridge.netsuite.adapters.monitoring import NetSuiteTotalsAdapter
from bridge.netsuite.adapters.orders import NetSuiteLookupAdapter, NetSuiteOrdersAdapter
from bridge.netsuite.adapters.settlement import NetSuiteLedgerAdapter
from bridge.netsuite.batch_writer import BatchWriter
from bridge.netsuite.client import NetSuiteClient
from bridge.netsuite.wiring import account_of, build_client
from bridge.ports.netsuite import (
    NetSuiteFulfillment,
    NetSuiteGl,
    NetSuiteInventory,
    NetSuiteLedger,
    NetSuiteLookup,
    NetSuiteOrders,
    NetSuiteTotals,
)
from bridge.ports.specs import LazySpecs
from bridge.ports.tiktok import (
    TikTokAftersale,
    TikTokCatalog,
    TikTokFinance,
    TikTokInventory,
    TikTokOrders,
    TikTokShipping,
    TikTokTokens,
)
from bridge.settings import Settings
from bridge.store import Store
from bridge.store.tables_fulfillment import FulfillmentStore
from bridge.store.tables_inventory import InventoryStore
from bridge.store.tables_settlement import SettlementStore
from bridge.tiktok import webhooks as tiktok_topics
from bridge.tiktok.adapters.fulfillment import TikTokAftersaleAdapter, TikTokShippingAdapter
from bridge.tiktok.adapters.inventory import TikTokInventoryAdapter
from bridge.tiktok.adapters.orders import TikTokOrdersAdapter
from bridge.tiktok.adapters.settlement import TikTokFinanceAdapter
from bridge.tiktok.wiring import TikTok
from bridge.tiktok.wiring import build as build_tiktok
from bridge.worker.registry import Registry, Schedule
from bridge.worker.runner import Worker, WorkerConfig

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

log = logging.getLogger("bridge.bootstrap")

T = TypeVar("T")
D = TypeVar("D", bound="DataclassInstance")

Area = Literal["system", "shops", "orders", "inventory", "catalog", "fulfillment", "returns", "settlement",
               "ledger_audit", "monitoring"]
AREAS: tuple[Area, ...] = ("system", "shops", "orders", "inventory", "catalog", "fulfillment", "returns",
                           "settlement", "ledger_audit", "monitoring")


class Lazy(Generic[T]):
    """A value built on first use, once, even when many worker threads ask at the same time. A build
    that raises (say, NetSuite's missing settings) is tried again on the next call."""

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._value: T | None = None
        self._built = False
        self._lock = threading.Lock()

    @classmethod
    def of(cls, value: T) -> Lazy[T]:
        """One already built (a sandbox client, a fake)."""
        lazy = cls(lambda: value)
        lazy._value, lazy._built = value, True
        return lazy

    def __call__(self) -> T:
        if not self._built:
            with self._lock:
                if not self._built:
                    self._value = self._build()
                    self._built = True
        return cast(T, self._value)

    @property
    def built(self) -> bool:
        return self._built

    def close(self) -> None:
        """Close the value if it was built and can be closed."""
        closer = getattr(self._value, "close", None) if self._built else None
        if callable(closer):
            try:
                closer()
            except Exception:
                log.exception("closing %r failed", self._value)


def _replaced(value: D, overrides: Mapping[str, object]) -> D:
    """``dataclasses.replace`` for the keyword overrides of ``build``, ``with_ports`` and ``with_flows``: the
    ``Ports`` and ``Flows`` fields are the one list of what can be swapped (an unknown name is a TypeError)."""
    return dataclasses.replace(value, **overrides)


@dataclass(frozen=True)
class Ports:
    """What the flows call outside the bridge (``bridge.ports``), and where alerts go."""

    tiktok_orders: TikTokOrders
    tiktok_inventory: TikTokInventory
    tiktok_catalog: TikTokCatalog
    tiktok_shipping: TikTokShipping
    tiktok_aftersale: TikTokAftersale
    tiktok_finance: TikTokFinance
    tiktok_tokens: TikTokTokens
    netsuite_orders: NetSuiteOrders
    netsuite_lookup: NetSuiteLookup
    netsuite_inventory: NetSuiteInventory
    netsuite_fulfillment: NetSuiteFulfillment
    netsuite_ledger: NetSuiteLedger
    netsuite_gl: NetSuiteGl
    netsuite_totals: NetSuiteTotals
    alerter: Alerter


@dataclass(frozen=True)
class Flows:
    """Every flow of the bridge, built once per ``App``."""

    system: SystemJobs
    shops: ShopLifecycle
    orders: OrderSync
    inventory: InventorySync
    catalog: CatalogSync
    fulfillment: FulfillmentSync
    returns: ReturnSync
    cancellations: CancellationSync
    settlement: SettlementService
    ledger_audit: LedgerAuditService
    monitoring: Monitoring
    intake: SalesIntake | None = None  # TikTok sales counted at intake (with the inventory flow)


@dataclass(frozen=True)
class App:
    """The wired bridge (see the module docstring)."""

    settings: Settings
    clock: Clock
    store: Store
    specs: LazySpecs
    tiktok: Lazy[TikTok]
    netsuite: Lazy[NetSuiteClient]
    ports: Ports
    flows: Flows
    registry: Registry
    areas: tuple[Area, ...] = AREAS

    def with_ports(self, **overrides: object) -> App:
        """This app with some ``Ports`` fields replaced: the same settings, store, clients and specs; the flows and
        the registry rebuilt over the new ports."""
        return _assemble(self.settings, self.clock, self.store, self.specs, self.tiktok, self.netsuite,
                         _replaced(self.ports, overrides), self.areas)

    def with_clients(self, *, tiktok: TikTok | None = None, netsuite: NetSuiteClient | None = None) -> App:
        """This app over other clients (a sandbox client with a fast retry sleep, say): every port is
        built again over them, so call this before ``with_ports``."""
        tiktok_client = Lazy.of(tiktok) if tiktok is not None else self.tiktok
        netsuite_client = Lazy.of(netsuite) if netsuite is not None else self.netsuite
        ports = _adapters(self.settings, self.clock, self.store, tiktok_client, netsuite_client)
        return _assemble(self.settings, self.clock, self.store, self.specs, tiktok_client, netsuite_client,
                         dataclasses.replace(ports, alerter=self.ports.alerter), self.areas)

    def with_flows(self, **overrides: object) -> App:
        """This app with some ``Flows`` fields replaced (a flow over a fake port, or with other specs); the registry is
        built again over them. The other flows keep the references they were built with."""
        flows = _replaced(self.flows, overrides)
        return dataclasses.replace(self, flows=flows, registry=_registry(self.settings, flows, self.areas))

    def with_settings(self, **changes: Any) -> App:
        """This app with some settings changed (``Settings.model_copy(update=changes)``): the same store and
        clients; the specs are read again (from the new ``specs_dir``, say) and the flows rebuilt."""
        settings = self.settings.model_copy(update=changes)
        specs = LazySpecs(lambda: load_all_specs(settings.specs_dir))
        return _assemble(settings, self.clock, self.store, specs, self.tiktok, self.netsuite, self.ports, self.areas)

    def with_specs(self, specs: SpecSet) -> App:
        """This app running with exactly ``specs`` (``ttns worker`` uses the set it checked at start)."""
        return _assemble(self.settings, self.clock, self.store, LazySpecs(lambda: specs), self.tiktok, self.netsuite,
                         self.ports, self.areas)

    def worker(self, threads: int | None = None, name: str = "") -> Worker:
        s = self.settings
        return Worker(
            self.store.queue,
            self.registry,
            self.store.exceptions,
            clock=self.clock,
            peers=self.store.peers,
            on_peers=self._split_netsuite_share,
            config=WorkerConfig(
                threads=threads or s.worker_threads,
                lease_seconds=s.lease_seconds,
                poll_interval=s.worker_poll_interval,
                retry_base=s.retry_base_seconds,
                retry_cap=s.retry_cap_seconds,
                shutdown_grace=s.shutdown_grace_seconds,
                name=name,
            ),
        )

    def _split_netsuite_share(self, peers: list[str], me: str) -> None:
        """Worker processes split ``TTNS_NETSUITE_CONCURRENCY`` so together they never exceed it."""
        if not self.settings.netsuite_account:
            return
        from bridge.netsuite.governor import share_of, shared_governor

        limit = self.settings.netsuite_concurrency
        share = share_of(limit, peers, me)
        shared_governor(account_of(self.settings).realm, limit).set_share(share)
        log.info("NetSuite concurrency: %d of %d slots for this process (%d worker processes)", share, limit,
                 len(peers))

    def close(self) -> None:
        """Close what was built (the clients, the orders flow's batch writer) and the store."""
        writer = self.flows.orders.batch_writer
        if writer is not None:
            writer.close()
        self.tiktok.close()
        self.netsuite.close()
        self.store.dispose()


def secret_box(settings: Settings) -> SecretBox | None:
    if settings.secret_key is None or not settings.secret_key.get_secret_value():
        return None
    return SecretBox(settings.secret_key)


def build(
    settings: Settings,
    *,
    clock: Clock | None = None,
    migrate: bool = False,
    pool_size: int = 10,
    role: Literal["worker", "web"] = "worker",
    store: Store | None = None,
    specs: SpecSet | None = None,
    tiktok: TikTok | None = None,
    netsuite: NetSuiteClient | None = None,
    areas: Iterable[Area] = AREAS,
    **overrides: object,
) -> App:
    """The wired bridge. ``role`` is ``web`` for the request-serving tier (it leaves SQLite WAL
    checkpoints to the workers, so no webhook answer waits for one). ``areas`` are the flows whose
    handlers, routers and schedules are registered (all by default; every flow is built either way).
    ``store``, ``specs``, ``tiktok``, ``netsuite`` and the port overrides replace what would be built
    from ``settings``."""
    clock = clock or SystemClock()
    store = store or Store.from_url(
        settings.database_url,
        clock=clock,
        box=secret_box(settings),
        migrate=migrate,
        pool_size=pool_size,
        default_max_attempts=settings.max_attempts,
        checkpoints=role != "web",
    )
    built_store = store
    spec_set = LazySpecs(lambda: specs) if specs is not None else LazySpecs(
        lambda: load_all_specs(settings.specs_dir))
    tiktok_client = Lazy.of(tiktok) if tiktok is not None else Lazy(
        lambda: build_tiktok(settings, built_store, clock))
    netsuite_client = Lazy.of(netsuite) if netsuite is not None else Lazy(
        lambda: build_client(settings, calls=built_store.calls))
    ports = _replaced(_adapters(settings, clock, store, tiktok_client, netsuite_client), overrides)
    return _assemble(settings, clock, store, spec_set, tiktok_client, netsuite_client, ports, tuple(areas))


def _adapters(settings: Settings, clock: Clock, store: Store, tiktok: Lazy[TikTok],
              netsuite: Lazy[NetSuiteClient]) -> Ports:
    """The real ports: adapters over the (lazily built) clients."""
    tiktok_inventory = TikTokInventoryAdapter(tiktok, store)  # one adapter: it caches per shop
    return Ports(
        tiktok_orders=TikTokOrdersAdapter(tiktok),
        tiktok_inventory=tiktok_inventory,
        tiktok_catalog=tiktok_inventory,
        tiktok_shipping=TikTokShippingAdapter(tiktok),
        tiktok_aftersale=TikTokAftersaleAdapter(tiktok),
        tiktok_finance=TikTokFinanceAdapter(tiktok),
        tiktok_tokens=_Tokens(tiktok),
        netsuite_orders=NetSuiteOrdersAdapter(netsuite),
        netsuite_lookup=NetSuiteLookupAdapter(netsuite),
        netsuite_inventory=NetSuiteInventoryAdapter(netsuite),
        netsuite_fulfillment=NetSuiteFulfillmentAdapter(netsuite),
        netsuite_ledger=NetSuiteLedgerAdapter(netsuite),
        netsuite_gl=NetSuiteGlReader(netsuite),
        netsuite_totals=NetSuiteTotalsAdapter(netsuite),
        alerter=Alerter(store.engine, settings, clock=clock),
    )


class _Tokens:
    """``TikTokTokens`` over the lazily built client's token source."""

    def __init__(self, tiktok: Lazy[TikTok]) -> None:
        self._tiktok = tiktok

    def refresh(self, shop_id: str, stale_token: str | None = None) -> str:
        return self._tiktok().tokens.refresh(shop_id, stale_token)


def _assemble(settings: Settings, clock: Clock, store: Store, specs: LazySpecs, tiktok: Lazy[TikTok],
              netsuite: Lazy[NetSuiteClient], ports: Ports, areas: tuple[Area, ...]) -> App:
    flows = _flows(settings, clock, store, specs, ports, areas)
    return App(settings=settings, clock=clock, store=store, specs=specs, tiktok=tiktok, netsuite=netsuite,
               ports=ports, flows=flows, registry=_registry(settings, flows, areas), areas=areas)


def _registry(settings: Settings, flows: Flows, areas: tuple[Area, ...]) -> Registry:
    registry = Registry()
    for area in areas:
        _REGISTER[area](registry, flows, settings)
    return registry


def _flows(settings: Settings, clock: Clock, store: Store, specs: LazySpecs, p: Ports,
           areas: tuple[Area, ...]) -> Flows:
    """Every flow, each given what it uses. The order follows who needs whom; a flow calls into another
    area only when that area's jobs are registered (its follow-up jobs would find no handler else)."""
    inventory_tables = InventoryStore(store.engine, clock)
    shipments = FulfillmentStore(store.engine, clock)
    inv = InventorySync(store=store, inv=inventory_tables, tiktok=p.tiktok_inventory, netsuite=p.netsuite_inventory,
                        specs=specs, clock=clock)
    holder: dict[str, CancellationSync] = {}
    order_sync = OrderSync(
        store=store, tiktok=p.tiktok_orders, netsuite=p.netsuite_orders, specs=specs, clock=clock,
        reader=OrderReader(p.tiktok_orders, store, clock), write_path=settings.netsuite_write_path,
        batch_writer=BatchWriter(p.netsuite_orders, senders=settings.netsuite_concurrency)
        if settings.netsuite_write_path == "restlet" else None,
        lookup=lambda: p.netsuite_lookup, on_units=inv.on_order_seen if "inventory" in areas else None,
        on_sale=inv.on_order_sold if "inventory" in areas else None,
        on_written=inv.on_order_written if "inventory" in areas else None,
        cancellations=lambda: holder["sync"],
        poll_overlap_seconds=settings.order_poll_overlap_seconds,
    )
    cancel = holder["sync"] = CancellationSync(
        store=store, shipments=shipments, tiktok=p.tiktok_shipping, aftersale=p.tiktok_aftersale,
        netsuite=p.netsuite_fulfillment, specs=specs, clock=clock,
        orders=(lambda: order_sync) if "orders" in areas else None)
    ship = FulfillmentSync(store=store, shipments=shipments, tiktok=p.tiktok_shipping, netsuite=p.netsuite_fulfillment,
                           specs=specs, clock=clock, alerter=p.alerter)
    settle = SettlementService(store=store, repo=SettlementStore(store.engine, clock), tiktok=p.tiktok_finance,
                               netsuite=p.netsuite_ledger, specs=specs, clock=clock,
                               lookback_days=settings.settlement_lookback_days,
                               on_attribution=order_sync.queue_attribution if "orders" in areas else None,
                               orders=p.tiktok_orders)
    audit = LedgerAuditService(store=store, tiktok=p.tiktok_finance, gl=p.netsuite_gl, settlement=settle, clock=clock,
                               lookback_days=settings.settlement_lookback_days)
    # TikTok sales counted at intake, ahead of the order writes: only where the stock flow runs.
    intake = SalesIntake(store=store, reader=order_sync.reader, uncounted=inv.uncounted_orders,
                         count=inv.on_tiktok_sales) if "inventory" in areas else None
    return Flows(
        intake=intake,
        system=SystemJobs(retention_days=int(settings.queue_retention_days)),
        shops=ShopLifecycle(store=store, clock=clock, tokens=p.tiktok_tokens, public_url=settings.public_url),
        orders=order_sync,
        inventory=inv,
        catalog=CatalogSync(store=store, inv=inventory_tables, tiktok=p.tiktok_catalog, tiktok_inv=p.tiktok_inventory,
                            netsuite=p.netsuite_inventory, specs=specs, clock=clock,
                            index_product=inv.index_product if "inventory" in areas else None),
        fulfillment=ship,
        returns=ReturnSync(store=store, aftersale=p.tiktok_aftersale, netsuite=p.netsuite_fulfillment, specs=specs,
                           clock=clock),
        cancellations=cancel,
        settlement=settle,
        ledger_audit=audit,
        monitoring=Monitoring(store=store, specs=specs, clock=clock, alerter=p.alerter, tiktok=p.tiktok_orders,
                              totals=p.netsuite_totals, fulfillment=ship if "fulfillment" in areas else None,
                              inventory=inv if "inventory" in areas else None,
                              settlement=settle if "settlement" in areas else None,
                              ledger_audit=audit if "ledger_audit" in areas else None),
    )


# --- what each area registers: job kinds → bound methods, event topics → pure routers, schedules ----------


def _system(r: Registry, f: Flows, s: Settings) -> None:
    r.handler(system.KIND_NOOP, f.system.noop)
    r.handler(system.KIND_PRUNE, f.system.prune_queue)
    r.schedule(Schedule(name=system.KIND_PRUNE, kind=system.KIND_PRUNE, cron=s.queue_prune_cron))


def _shops(r: Registry, f: Flows, s: Settings) -> None:
    r.handler(shops.KIND_REFRESH, f.shops.handle_refresh)
    r.handler(shops.KIND_DEAUTHORIZED, f.shops.handle_deauthorized)
    r.handler(shops.KIND_EXPIRING, f.shops.handle_expiring)
    r.schedule(Schedule(name=shops.KIND_REFRESH, kind=shops.KIND_REFRESH, every_seconds=3600, key="shops:tokens"))
    r.router("tiktok", str(tiktok_topics.SELLER_DEAUTHORIZATION), shops.route_deauthorization)
    r.router("tiktok", str(tiktok_topics.UPCOMING_AUTHORIZATION_EXPIRATION), shops.route_expiring)


def _orders(r: Registry, f: Flows, s: Settings) -> None:
    r.handler(orders.KIND_SYNC, f.orders.handle_sync)
    r.handler(orders.KIND_POLL, f.orders.handle_poll)
    r.handler(orders.KIND_DEPOSIT, f.orders.handle_deposit)
    r.handler(orders.KIND_DOCUMENT_NUMBERS, f.orders.handle_document_numbers)
    r.handler(orders.KIND_ATTRIBUTION, f.orders.handle_attribution)
    route = orders.order_router(s.order_sync_delay_seconds, f.orders.clock)
    if f.intake is not None:  # a new order's sale is counted at once, not when its sync runs
        r.handler(KIND_INTAKE, f.intake.handle, urgent=True)
        r.router("tiktok", "1", with_intake(route))  # order status change
    else:
        r.router("tiktok", "1", route)  # order status change
    r.router("tiktok", "3", route)  # address update
    r.schedule(Schedule(name=orders.KIND_POLL, kind=orders.KIND_POLL, every_seconds=s.order_poll_seconds))


def _inventory(r: Registry, f: Flows, s: Settings) -> None:
    r.handler(inventory.KIND_CHANGES, f.inventory.handle_changes, express=True)
    r.handler(inventory.KIND_PUSH, f.inventory.handle_push, express=True)
    r.handler(inventory.KIND_FULL, f.inventory.handle_full)
    r.handler(inventory.KIND_REFRESH, f.inventory.handle_refresh)
    r.handler(inventory.KIND_INDEX, f.inventory.handle_index)
    r.handler(inventory.KIND_RECHECK, f.inventory.handle_recheck, express=True)
    r.handler(inventory.KIND_RAISE, f.inventory.handle_raise, urgent=True)
    for topic in inventory.NETSUITE_TOPICS:
        r.router("netsuite", topic, inventory.route_netsuite)
    r.router("tiktok", "27", inventory.route_tiktok_stock)
    for topic in inventory.PRODUCT_TOPICS:
        r.router("tiktok", topic, inventory.route_tiktok_product)
    r.schedule(Schedule(name=inventory.KIND_FULL, kind=inventory.KIND_FULL, cron=s.inventory_full_push_cron))


def _catalog(r: Registry, f: Flows, s: Settings) -> None:
    r.handler(catalog.KIND_CATALOG, f.catalog.handle_catalog)
    r.handler(catalog.KIND_PRICES, f.catalog.handle_prices)
    r.handler(catalog.KIND_PRICES_PLAN, f.catalog.handle_prices_plan)
    r.handler(catalog.KIND_CUTOVER, f.catalog.handle_cutover)
    r.schedule(Schedule(name=catalog.KIND_PRICES_PLAN, kind=catalog.KIND_PRICES_PLAN,
                        every_seconds=catalog.PLAN_EVERY_SECONDS))
    r.handler(catalog.KIND_CHANGES, f.catalog.handle_changes)
    r.handler(catalog.KIND_REVIEW, f.catalog.handle_review)
    r.handler(catalog.KIND_FULL, f.catalog.handle_full)
    for topic in catalog.NETSUITE_TOPICS:
        r.router("netsuite", topic, catalog.route_items)
    r.router("tiktok", "5", catalog.route_product_status)  # replaces the inventory flow's, which it includes
    r.schedule(Schedule(name=catalog.KIND_FULL, kind=catalog.KIND_FULL, cron=s.inventory_full_push_cron))


def _fulfillment(r: Registry, f: Flows, s: Settings) -> None:
    shipping, fbt, sla, stock = f.fulfillment.shipping, f.fulfillment.fbt, f.fulfillment.sla, f.fulfillment.stock
    r.handler(fulfillment.push.KIND_PUSH, shipping.handle_push)
    for topic in fulfillment.push.NETSUITE_TOPICS:
        r.router("netsuite", topic, fulfillment.push.route_netsuite)
    r.handler(fulfillment.fbt.KIND_TIKTOK, fbt.handle_tiktok)
    r.handler(fulfillment.fbt.KIND_FBT_POLL, fbt.handle_fbt_poll)
    r.router("tiktok", "4", fulfillment.fbt.route_package)
    r.schedule(Schedule(name=fulfillment.fbt.KIND_FBT_POLL, kind=fulfillment.fbt.KIND_FBT_POLL,
                        every_seconds=fulfillment.fbt.FBT_POLL_SECONDS))
    r.handler(fulfillment.sla.KIND_SLA, sla.handle_sla)
    r.schedule(Schedule(name=fulfillment.sla.KIND_SLA, kind=fulfillment.sla.KIND_SLA,
                        every_seconds=fulfillment.sla.SLA_SECONDS))
    r.handler(fulfillment.fbt_stock.KIND_FBT_STOCK, stock.handle_fbt_stock)
    r.router("tiktok", "24", fulfillment.fbt_stock.route_fbt_inventory)
    r.schedule(Schedule(name=fulfillment.fbt_stock.KIND_FBT_STOCK, kind=fulfillment.fbt_stock.KIND_FBT_STOCK,
                        cron="30 4 * * *"))


def _returns(r: Registry, f: Flows, s: Settings) -> None:
    """Returns, and cancellations (they share the after-sale ports and the area switch)."""
    r.handler(cancellations.KIND_SYNC, f.cancellations.handle_sync)
    r.handler(cancellations.KIND_REQUEST, f.cancellations.handle_request)
    r.handler(cancellations.KIND_POLL, f.cancellations.handle_poll)
    r.router("tiktok", "11", cancellations.route_cancellation)
    r.router("netsuite", "sales_order.lines_closed", cancellations.route_lines_closed)
    r.schedule(Schedule(name=cancellations.KIND_POLL, kind=cancellations.KIND_POLL,
                        every_seconds=cancellations.POLL_SECONDS))
    r.handler(returns.KIND_SYNC, f.returns.handle_sync)
    r.handler(returns.KIND_POLL, f.returns.handle_poll)
    r.router("tiktok", "12", returns.route_return)
    r.schedule(Schedule(name=returns.KIND_POLL, kind=returns.KIND_POLL, every_seconds=returns.POLL_SECONDS))


def _settlement(r: Registry, f: Flows, s: Settings) -> None:
    r.handler(settlement.KIND_IMPORT, f.settlement.handle_import)
    r.handler(settlement.KIND_STATEMENT, f.settlement.handle_statement)
    r.handler(settlement.KIND_POST, f.settlement.handle_post)
    r.handler(settlement.KIND_PAYOUT, f.settlement.handle_payout)
    r.handler(settlement.KIND_RECHECK, f.settlement.handle_recheck)
    r.schedule(Schedule(name=settlement.KIND_IMPORT, kind=settlement.KIND_IMPORT, cron=str(s.settlement_import_cron)))


def _ledger_audit(r: Registry, f: Flows, s: Settings) -> None:
    r.handler(ledger_audit.KIND_AUDIT, f.ledger_audit.handle_audit)
    r.schedule(Schedule(name=ledger_audit.KIND_AUDIT, kind=ledger_audit.KIND_AUDIT, cron="40 2 * * *"))


def _monitoring(r: Registry, f: Flows, s: Settings) -> None:
    r.handler(monitoring.KIND_RUN, f.monitoring.handle_run)
    r.schedule(Schedule(name=monitoring.KIND_RUN, kind=monitoring.KIND_RUN,
                        every_seconds=monitoring.run_every(s.specs_dir), key="monitoring"))


_REGISTER: dict[Area, Callable[[Registry, Flows, Settings], None]] = {
    "system": _system,
    "shops": _shops,
    "orders": _orders,
    "inventory": _inventory,
    "catalog": _catalog,
    "fulfillment": _fulfillment,
    "returns": _returns,
    "settlement": _settlement,
    "ledger_audit": _ledger_audit,
    "monitoring": _monitoring,
}

__all__ = ["AREAS", "App", "Area", "Flows", "Lazy", "Ports", "build", "secret_box"]
