"""Fixtures shared by the inventory tests: ``world`` (stock flow with fakes) and ``catalog_world``
(catalog and prices with fakes), defined next to the tests that explain them."""

from tests.inventory.test_catalog_prices import world as catalog_world  # noqa: F401
from tests.inventory.test_inventory_flow import world  # noqa: F401
