"""The composition root's overrides: what can be swapped is named by the ``Ports`` and ``Flows`` fields (one
list), and every flow is built over what was swapped in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.bootstrap import App, build
from bridge.settings import Settings


class NoShipping:
    """A TikTok shipping port that must never be called here (only identity is compared)."""


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    built = build(Settings(database_url=f"sqlite:///{tmp_path}/bridge.db"), migrate=True)
    yield built
    built.close()


def test_a_port_swapped_by_its_field_name_reaches_every_flow_that_uses_it(app: App) -> None:
    fake = NoShipping()
    swapped = app.with_ports(tiktok_shipping=fake)
    f = swapped.flows.fulfillment
    assert (f.tiktok, f.shipping.tiktok, f.fbt.tiktok, f.sla.tiktok, f.stock.tiktok) == (fake,) * 5
    assert swapped.flows.cancellations.tiktok is fake
    assert app.flows.fulfillment.shipping.tiktok is not fake  # the original app is unchanged
    assert swapped.registry.get("fulfillment.push").__self__ is f.shipping  # type: ignore[attr-defined]


def test_an_override_that_names_no_port_or_flow_is_refused(app: App, tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="tiktok_order"):
        app.with_ports(tiktok_order=object())
    with pytest.raises(TypeError, match="fulfilment"):
        app.with_flows(fulfilment=app.flows.fulfillment)
    with pytest.raises(TypeError, match="netsuite_lookups"):
        build(Settings(database_url=f"sqlite:///{tmp_path}/other.db"), netsuite_lookups=object())

