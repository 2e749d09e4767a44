"""NetSuite adapter: account ids and URLs (``account``), OAuth 2.0 M2M and TBA (``auth``), the
concurrency governor (``governor``), the REST record / SuiteQL / RESTlet client (``client``), error
mapping (``errors``), SuiteScript event signatures (``events``), ``ttns netsuite …`` (``cli``),
``ttns doctor`` checks (``doctor``) and the ``"netsuite"`` service (``wiring``). See docs/netsuite.md.
"""
