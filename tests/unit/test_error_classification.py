"""One classification per NetSuite / TikTok error code (``bridge.errors``), and one error tree: every
exception the bridge defines is a ``BridgeError``, so none becomes "a bug" by accident."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import bridge
from bridge.cli.errors import OperatorError
from bridge.errors import (
    NETSUITE_CODES,
    TIKTOK_CODES,
    BridgeError,
    Evidence,
    FatalError,
    NeedsHumanError,
    RetriableError,
    classify_http,
    netsuite_order_error,
    tiktok_refusal,
)
from bridge.flows import catalog, inventory
from bridge.flows.fulfillment import push
from bridge.flows.orders import _write_error
from bridge.netsuite.client import order_error
from bridge.ports.netsuite import WriteResult
from bridge.retry import decide

# (code, outcome) written out here, not read from the table: a change to the table must change this too.
NETSUITE = [
    ("CONCURRENCY_LIMIT_EXCEEDED", "retry"),
    ("SSS_REQUEST_LIMIT_EXCEEDED", "retry"),
    ("INVALID_LOGIN", "retry"),
    ("INVALID_LOGIN_ATTEMPT", "retry"),
    ("RCRD_HAS_BEEN_CHANGED", "retry"),
    ("SSS_USAGE_LIMIT_EXCEEDED", "retry"),
    ("SSS_TIME_LIMIT_EXCEEDED", "retry"),
    ("UNEXPECTED_ERROR", "retry"),
    ("INSUFFICIENT_PERMISSION", "needs_human"),
    ("USER_ERROR", "needs_human"),
    ("NONEXISTENT_ID", "fatal"),
    ("SSS_INVALID_SCRIPTLET_ID", "fatal"),
    ("INVALID_CONTENT", "fatal"),
    ("UNKNOWN_FIELD", "fatal"),
    ("INVALID_SHAPE", "fatal"),
    ("UNSUPPORTED_RECORD", "fatal"),
    ("UNSUPPORTED_REFERENCE", "fatal"),
    ("UNSUPPORTED_FIELD", "fatal"),
    ("READ_ONLY_FIELD", "fatal"),
    ("TTNS_INVALID_REQUEST", "fatal"),
]
TIKTOK = [
    ("0", "ok"),
    ("36009002", "retry"),
    ("105002", "refresh_token"),
    ("105001", "fatal"),
    ("106001", "fatal"),
    ("36009004", "fatal"),
    ("36009003", "retry"),
    ("36009006", "retry"),
    ("36009007", "retry"),
    ("36004005", "needs_human"),
    ("36004001", "needs_human"),
]

# TikTok's business refusals: (code, what it means to the flows), from the Partner Center pages' error tables.
TIKTOK_REFUSED = [
    ("21042057", "ORDER_ON_HOLD"),
    ("21011012", "ORDER_ON_HOLD"),
    ("21004012", "INVALID_TRACKING"),
    ("21004015", "INVALID_TRACKING"),
    ("11028006", "INVALID_TRACKING"),
    ("21011022", "INVALID_TRACKING"),
    ("21004016", "INVALID_TRACKING"),
    ("21011025", "DUPLICATE_TRACKING"),
    ("21034012", "DUPLICATE_TRACKING"),
    ("21011026", "DUPLICATE_TRACKING"),
    ("21008099", "ALREADY_SHIPPED"),
    ("21011006", "ALREADY_SHIPPED"),
    ("21011020", "ALREADY_SHIPPED"),
    ("21042056", "ALREADY_SHIPPED"),
    ("11006021", "ALREADY_SHIPPED"),
    ("21011040", "ALREADY_SHIPPED"),
    ("21011027", "ALREADY_SHIPPED"),
    ("21011003", "SHIPPED_CANCELLED_UNITS"),
    ("21011041", "SHIPPED_CANCELLED_UNITS"),
    ("21011007", "SHIPPED_CANCELLED_UNITS"),
    ("21008044", "SHIPPED_CANCELLED_UNITS"),
    ("21008025", "FBT_ORDER"),
    ("12019028", "WAREHOUSES_CHANGED"),
    ("12052533", "WAREHOUSES_CHANGED"),
    ("12052037", "WAREHOUSES_CHANGED"),
    ("12019022", "WAREHOUSES_CHANGED"),
    ("12052393", "PROMOTION_LOCKED"),
    ("12052901", "NOT_LIVE"),
    ("12052055", "QUANTITY_OUT_OF_RANGE"),
    ("12052032", "PRODUCT_GONE"),
    ("12052260", "PRODUCT_GONE"),
    ("12052556", "PRODUCT_GONE"),
    ("12052031", "PRODUCT_GONE"),
    ("12052038", "PRICE_LOCKED"),
    ("12019045", "PRICE_LOCKED"),
]
TIKTOK += [(code, "fatal") for code, _ in TIKTOK_REFUSED]  # a refusal is final for that call


@pytest.mark.parametrize(("code", "outcome"), [pytest.param(c, o, id=f"netsuite-{c}") for c, o in NETSUITE])
def test_netsuite_code(code: str, outcome: str) -> None:
    assert classify_http("netsuite", 400, code) == outcome
    assert NETSUITE_CODES[code].why


@pytest.mark.parametrize(("code", "outcome"), [pytest.param(c, o, id=f"tiktok-{c}") for c, o in TIKTOK])
def test_tiktok_code(code: str, outcome: str) -> None:
    assert classify_http("tiktok", 200, code) == outcome
    assert TIKTOK_CODES[code].why


def test_every_code_in_the_tables_is_tested_here() -> None:
    assert set(NETSUITE_CODES) == {c for c, _ in NETSUITE}
    assert set(TIKTOK_CODES) == {c for c, _ in TIKTOK}



@pytest.mark.parametrize(("code", "refusal"), [pytest.param(c, r, id=f"tiktok-refusal-{c}") for c, r in TIKTOK_REFUSED])
def test_tiktok_refusal_means_one_thing(code: str, refusal: str) -> None:
    assert tiktok_refusal(code) == tiktok_refusal(int(code)) == refusal
    assert classify_http("tiktok", 400, code) == "fatal"


def test_codes_without_a_business_meaning_are_not_refusals() -> None:
    assert [tiktok_refusal(c) for c in ("0", "36009002", "105002", "99999999", None)] == ["", "", "", "", ""]


SHIPMENT_REFUSALS = sorted({r for c, r in TIKTOK_REFUSED if c.startswith(("21", "11"))})


@pytest.mark.parametrize("refusal", SHIPMENT_REFUSALS)
def test_a_refused_shipment_becomes_the_exception_its_code_names(refusal: str) -> None:
    code = next(c for c, r in TIKTOK_REFUSED if r == refusal)
    got, owner, hint = push._refusal(code, ("TIKTOK_REFUSED_SHIPMENT", "ops", "read TikTok's message"))
    assert (got, owner) == (refusal, "ops") and hint != "read TikTok's message"
    assert push._refusal("12052393", ("TIKTOK_REFUSED_SHIPMENT", "ops", "x")) == ("TIKTOK_REFUSED_SHIPMENT", "ops", "x")


def test_the_inventory_and_catalog_flows_read_their_codes_from_the_table() -> None:
    by_name: dict[str, set[str]] = {}
    for c, r in TIKTOK_REFUSED:
        by_name.setdefault(r, set()).add(c)
    used = {"WAREHOUSES_CHANGED": inventory.WAREHOUSES_CHANGED, "PRODUCT_GONE": inventory.GONE,
            "NOT_LIVE": inventory.NOT_LIVE, "PROMOTION_LOCKED": inventory.PROMOTION_LOCKED,
            "QUANTITY_OUT_OF_RANGE": inventory.QUANTITY_OUT_OF_RANGE, "PRICE_LOCKED": catalog.PRICE_LOCKED}
    assert used == {name: by_name[name] for name in used}


@pytest.mark.parametrize(
    ("system", "status", "code", "outcome"),
    [
        pytest.param("netsuite", 429, "INVALID_CONTENT", "retry", id="netsuite-429-beats-any-code"),
        pytest.param("tiktok", 501, "36009003", "fatal", id="tiktok-501-beats-try-again"),
        pytest.param("netsuite", 400, "SOME_NEW_CODE", "fatal", id="netsuite-unknown-code-4xx"),
        pytest.param("netsuite", 503, "SOME_NEW_CODE", "retry", id="netsuite-unknown-code-5xx"),
        pytest.param("tiktok", 200, "99999999", "fatal", id="tiktok-unknown-code"),
        pytest.param("other", 408, None, "retry", id="any-408"),
        pytest.param("other", 204, None, "ok", id="any-2xx-without-code"),
    ],
)
def test_status_rules(system: str, status: int, code: str | None, outcome: str) -> None:
    assert classify_http(system, status, code) == outcome


# One order NetSuite refused: the RESTlet's per-order error and the orders flow's failed write result
# give the same class (they disagreed on UNKNOWN_FIELD and INVALID_CONTENT).
ORDER_REFUSALS = [
    pytest.param("UNKNOWN_FIELD", 'unknown property "memoo" for salesOrder', FatalError, None, id="unknown-field"),
    pytest.param("INVALID_CONTENT", "Unsupported field colour.", FatalError, None, id="invalid-content"),
    pytest.param("INVALID_CONTENT", "You have entered an Invalid Field Value 999 for the following field: item",
                 NeedsHumanError, "NS_INVALID_REFERENCE", id="invalid-content-bad-reference"),
    pytest.param("READ_ONLY_FIELD", 'property "total" cannot be written', FatalError, None, id="read-only-field"),
    pytest.param("RCRD_HAS_BEEN_CHANGED", "Record has been changed", RetriableError, None, id="record-changed"),
    pytest.param("SSS_USAGE_LIMIT_EXCEEDED", "Script Execution Usage Limit Exceeded", RetriableError, None,
                 id="usage-limit"),
    pytest.param("USER_ERROR", "The accounting period for this transaction is closed.", NeedsHumanError,
                 "NS_PERIOD_CLOSED", id="period-closed"),
    pytest.param("CUSTOMER_CONFLICT", "two customers share this email", NeedsHumanError, "NS_CUSTOMER_CONFLICT",
                 id="unknown-business-refusal"),
    pytest.param("", "", RetriableError, None, id="no-code-at-all"),
]


@pytest.mark.parametrize(("code", "message", "cls", "human_code"), ORDER_REFUSALS)
def test_one_order_refusal_classification(code: str, message: str, cls: type, human_code: str | None) -> None:
    restlet = order_error("TTS-1", {"code": code, "message": message})
    flow = _write_error(WriteResult("TTS-1", None, "error", error={"code": code, "message": message}), "1")
    direct = netsuite_order_error("1", code, message, Evidence())
    for err in (restlet, flow, direct):
        assert type(err) is cls, err
        if human_code is not None:
            assert isinstance(err, NeedsHumanError) and err.code == human_code


def _bridge_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(bridge.__path__, "bridge."):
        if info.name.startswith(("bridge.sandbox", "bridge.store.migrations")) or info.name.endswith(".__main__"):
            continue  # the sandboxes emulate the platforms' own errors; migrations are Alembic scripts; a
            # __main__ runs its command on import
        names.append(info.name)
    return names




def test_every_exception_the_bridge_defines_is_in_the_tree() -> None:
    stray = []
    for name in _bridge_modules():
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != name or not issubclass(cls, BaseException):
                continue
            qual = f"{name}.{cls.__qualname__}"
            # click's operator messages (exit codes for `ttns`) never reach the worker: deliberately outside
            if not issubclass(cls, BridgeError | OperatorError):
                stray.append(qual)
    assert stray == []


def test_a_stray_error_is_no_longer_a_bug() -> None:
    from bridge.ports.tiktok import TikTokRefusal

    assert decide(TikTokRefusal("21011025", "duplicate tracking"), 1, 5, base=1, cap=10, rand=0.5).decision == "fatal"
