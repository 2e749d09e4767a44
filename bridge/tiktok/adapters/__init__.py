"""The TikTok ports of ``bridge.ports.tiktok`` implemented over the TikTok client, one module per area
(``orders``, ``inventory``, ``fulfillment``, ``settlement``). Each adapter takes the client as a
zero-argument callable (``bridge.bootstrap.Lazy``), so the client is built on the first call. Only
``bridge.bootstrap`` imports them; tests pass fakes of the ports (``build(settings, tiktok_orders=fake)``).
"""
