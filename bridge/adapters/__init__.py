"""Adapters: the flow ports (``bridge/flows/ports.py``) implemented over the TikTok and NetSuite
clients. One module per area, each exposing ``provide(container)`` which registers its services
(e.g. ``container.provide("tiktok.orders", …)``); ``bridge.bootstrap`` calls every module listed in
``ADAPTER_MODULES``. Tests replace any service with ``container.set(name, fake)``.
"""
