"""`ttns`: run the bridge's processes and operate it. One module per command group:

``app``           the ``main`` group, ``Obj`` and the core commands: web, worker, scheduler, db, config,
                  keys, replay, exceptions, inbox, users (``errors``: what an operator sees on failure);
``tiktok``        shops;              ``netsuite``      netsuite;
``orders``        backfill, orders, specs;
``inventory``     inventory, locations, skus, catalog, prices;
``fulfillment``   fulfillment;        ``settlement``    settlement;     ``ledger_audit``  ledger;
``monitoring``    monitor, alerts;    ``bench``         bench, chaos;
``sandbox``       sandbox;            ``demo``          demo;           ``doctor``        doctor.

Each group module exposes ``register(main)``; the tuple below is the whole CLI (nothing is discovered).
"""

from __future__ import annotations

from bridge.cli import (
    bench,
    demo,
    doctor,
    fulfillment,
    inventory,
    ledger_audit,
    monitoring,
    netsuite,
    orders,
    sandbox,
    settlement,
    tiktok,
)
from bridge.cli.app import Obj, ensure_migrated, main, pass_obj, preflight, require_specs

for _group in (
    bench,
    tiktok,
    netsuite,
    sandbox,
    orders,
    inventory,
    fulfillment,
    settlement,
    ledger_audit,
    monitoring,
    demo,
    doctor,
):
    _group.register(main)

__all__ = ["Obj", "ensure_migrated", "main", "pass_obj", "preflight", "require_specs"]
