"""Adapters: the ports of ``bridge.ports`` implemented over the TikTok and NetSuite clients, one module
per area (``orders``, ``inventory``, ``fulfillment``, ``settlement``, ``ledger_audit``, ``monitoring``).
Each adapter takes its client as a zero-argument callable (``bridge.bootstrap.Lazy``), so the client is
built on the first call, never at wiring time. ``bridge.bootstrap`` is the only module that imports them;
tests pass fakes of the ports instead (``build(settings, tiktok_orders=fake)``).
"""
