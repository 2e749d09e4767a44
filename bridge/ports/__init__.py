"""Every port a flow calls, in one place. Flows import these Protocols (and the domain, mapping and
error modules), never a concrete client, adapter, store table or the worker; ``bridge.bootstrap`` is
the one module that picks the implementations and hands them to the flows' constructors.

* ``tiktok`` — TikTok Shop reads and writes, one Protocol per area (``bridge.tiktok.adapters``);
* ``netsuite`` — NetSuite reads and writes, one Protocol per area (``bridge.netsuite.adapters``);
* ``queue`` — the durable job queue (``bridge.store.queue``: SQL, and the memory double);
* ``specs`` — the validated mapping specs (``bridge.mapping.specs.SpecSet``, loaded on first use);
* ``clock`` — the time source (``bridge.clock``).
"""
