"""The NetSuite ports of ``bridge.ports.netsuite`` implemented over the NetSuite client (REST, SuiteQL,
RESTlet), one module per area (``orders``, ``inventory``, ``fulfillment``, ``settlement``,
``ledger_audit``, ``monitoring``). Each adapter takes the client as a zero-argument callable
(``bridge.bootstrap.Lazy``), so the client is built on the first call. Only ``bridge.bootstrap`` imports
them; tests pass fakes of the ports (``build(settings, netsuite_orders=fake)``).
"""
