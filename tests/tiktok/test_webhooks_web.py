"""``POST /webhooks/tiktok``: verify → persist → answer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from bridge.bootstrap import App, build
from bridge.domain.keys import order_key
from bridge.settings import Settings
from bridge.store.queue import JobSpec
from bridge.tiktok import webhooks as tts
from bridge.web import create_app
from bridge.worker.registry import InboundEvent

KEY = "hookappkey"
SECRET = "hook-secret-for-tests"


def order_router(ev: InboundEvent) -> list[JobSpec]:
    oid = ev.data["data"]["order_id"]
    return [JobSpec(kind="orders.sync", key=order_key(ev.shop_id, oid), payload={"order_id": oid},
                    idempotency_key=f"orders.sync:{ev.event_id}")]


@pytest.fixture
def hook_container(db_url: str) -> Iterator[App]:
    """On SQLite and PostgreSQL: dedupe and the inbox+jobs transaction are the database's job."""
    c = build(Settings(database_url=db_url, tiktok_app_key=KEY, tiktok_app_secret=SECRET, environment="test"),
              areas=("shops",))
    c.registry.router("tiktok", "1", order_router)
    yield c
    c.close()


@pytest.fixture
def client(hook_container: App) -> FlaskClient:
    return create_app(root=hook_container).test_client()


def event(nid: str = "7327112393057371910", typ: int = 1, shop: str = "7494049642642441621",
          data: dict[str, Any] | None = None) -> bytes:
    return json.dumps({"type": typ, "tts_notification_id": nid, "shop_id": shop, "timestamp": 1644412885,
                       "data": data if data is not None else {"order_id": "576486316948490001",
                                                              "order_status": "AWAITING_SHIPMENT"}}).encode()


def post(client: FlaskClient, body: bytes, signature: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    sig = tts.sign(KEY, SECRET, body) if signature is None else signature
    if sig:
        headers["Authorization"] = sig
    return client.post("/webhooks/tiktok", data=body, headers=headers)


def test_valid_event_is_stored_with_its_jobs_and_answered_200_empty(client: FlaskClient,
                                                                   hook_container: App) -> None:
    body = event()
    resp = post(client, body)
    assert resp.status_code == 200 and resp.data == b""
    ev = hook_container.store.inbox.find("tiktok", "7327112393057371910")
    assert ev is not None and ev.body == body and ev.topic == "1" and ev.status == "routed"
    assert ev.shop_id == "7494049642642441621" and ev.entity == "order:7494049642642441621:576486316948490001"
    assert "Authorization" not in ev.headers
    (job,) = hook_container.store.queue.claim("w", 10, 5)
    assert job.kind == "orders.sync" and job.key == "order:7494049642642441621:576486316948490001"


def test_bad_or_missing_signature_is_401_empty_and_nothing_stored(client: FlaskClient,
                                                                  hook_container: App) -> None:
    body = event()
    for sig in ("0" * 64, "", tts.sign(KEY, SECRET + "x", body), tts.sign(KEY, SECRET, body + b" ")):
        resp = post(client, body, sig)
        assert resp.status_code == 401 and resp.data == b""
    assert hook_container.store.inbox.count() == 0


def test_malformed_payloads_are_400_and_valid_ones_still_land(client: FlaskClient,
                                                             hook_container: App) -> None:
    bad = [b"{not json", b"[1,2]", json.dumps({"type": 1, "shop_id": "S"}).encode(),
           json.dumps({"type": "x", "tts_notification_id": "n", "shop_id": "S"}).encode(),
           json.dumps({"type": 1, "tts_notification_id": "n", "shop_id": "S", "data": [1]}).encode(),
           b"\xff\xfe"]
    for body in bad:
        resp = post(client, body)
        assert resp.status_code == 400, body
    assert hook_container.store.inbox.count() == 0
    assert post(client, event(nid="n-after")).status_code == 200
    assert hook_container.store.inbox.count() == 1


def test_duplicate_is_200_without_a_second_row(client: FlaskClient, hook_container: App) -> None:
    body = event(nid="dup-1")
    assert post(client, body).status_code == 200
    again = post(client, body)
    assert again.status_code == 200 and again.data == b""
    assert hook_container.store.inbox.count() == 1
    assert hook_container.store.queue.counts() == {"queued": 1}


def test_unknown_topic_is_stored_and_skipped(client: FlaskClient, hook_container: App) -> None:
    assert post(client, event(nid="u-1", typ=99, data={"x": 1})).status_code == 200
    ev = hook_container.store.inbox.find("tiktok", "u-1")
    assert ev is not None and ev.status == "skipped"


def test_seller_deauthorization_routes_to_the_shop_job(client: FlaskClient, hook_container: App) -> None:
    body = event(nid="d-1", typ=6, data={"message": "deauthorized"})
    assert post(client, body).status_code == 200
    (job,) = hook_container.store.queue.claim("w", 10, 5)
    assert job.kind == "shops.deauthorized" and job.key == "shop:7494049642642441621"
    ev = hook_container.store.inbox.find("tiktok", "d-1")
    assert ev is not None and ev.entity == "shop:7494049642642441621"


def test_storage_failure_is_503_not_500(client: FlaskClient, hook_container: App,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*a: Any, **kw: Any) -> Any:
        raise RuntimeError("database is gone")

    monkeypatch.setattr("bridge.web.webhooks.ingest", broken)
    resp = post(client, event(nid="f-1"))
    assert resp.status_code == 503 and resp.data == b""


def test_unconfigured_bridge_refuses_every_webhook(sqlite_url: str) -> None:
    c = build(Settings(database_url=sqlite_url), areas=())
    resp = post(create_app(root=c).test_client(), event())
    assert resp.status_code == 401 and c.store.inbox.count() == 0
    c.close()


@pytest.mark.parametrize(("typ", "data", "entity"), [
    (1, {"order_id": "9"}, "order:S:9"),
    (12, {"order_id": "9", "return_id": "R"}, "order:S:9"),
    (4, {"package_list": [{"package_id": "P", "order_id_list": ["9"]}]}, "package:S:P"),
    (5, {"product_id": 42}, "product:S:42"),
    (7, {"message": "m"}, "shop:S"),
    (13, {"conversation_id": "c"}, None),
])
def test_entities(typ: int, data: dict[str, Any], entity: str | None) -> None:
    assert tts.parse(event(typ=typ, shop="S", data=data)).entity == entity


def test_concurrent_duplicates_store_one_row(hook_container: App) -> None:
    import threading

    app = create_app(root=hook_container)
    body = event(nid="race-1")
    statuses: list[int] = []
    barrier = threading.Barrier(6)

    def go() -> None:
        c = app.test_client()
        barrier.wait()
        statuses.append(post(c, body).status_code)

    threads = [threading.Thread(target=go) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * 6
    assert hook_container.store.inbox.count() == 1 and hook_container.store.queue.counts() == {"queued": 1}


def _answers(client: FlaskClient, bodies: list[tuple[bytes, str | None]]) -> list[tuple[int, Any, list[str], str]]:
    out = []
    for body, sig in bodies:
        r = client.post("/webhooks/tiktok", data=body, headers={
            "Content-Type": "application/json", "X-Correlation-Id": "cid-parity-1",
            **({"Authorization": tts.sign(KEY, SECRET, body) if sig is None else sig} if sig != "" else {})})
        headers = sorted(k for k, _v in r.headers.items() if k != "Server-Timing")
        out.append((r.status_code, r.get_json(silent=True) if r.data else r.data, headers,
                    r.headers["X-Correlation-Id"]))
        assert r.headers["Server-Timing"].startswith("app;dur=")
    return out


def test_the_fast_path_and_flasks_view_answer_alike(hook_container: App) -> None:
    """Webhooks with a Content-Length are answered by ``FastPath`` ahead of Flask; the same app with it taken out
    answers every webhook through Flask's view: both give the same status, body and headers, store alike."""
    fast = create_app(root=hook_container)
    plain = create_app(root=hook_container)
    plain.wsgi_app = plain.wsgi_app.next_app  # type: ignore[attr-defined,method-assign]

    def cases(tag: str) -> list[tuple[bytes, str | None]]:
        ok = event(nid=f"{tag}-1")
        return [(ok, None), (ok, None), (event(nid=f"{tag}-2"), "0" * 64), (event(nid=f"{tag}-3"), ""),
                (b'{"type": 1}', None), (b"not json", None)]

    a, b = _answers(fast.test_client(), cases("fast")), _answers(plain.test_client(), cases("plain"))
    assert a == b
    assert [s for s, *_ in a] == [200, 200, 401, 401, 400, 400]
    assert all(cid == "cid-parity-1" for *_, cid in a)
    q = hook_container.store.queue
    assert q.counts() == {"queued": 2} and hook_container.store.inbox.count("tiktok") == 2


def test_an_unexpected_error_on_the_fast_path_is_a_json_500_with_its_correlation_id(
        client: FlaskClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def bug(*a: Any, **kw: Any) -> Any:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr("bridge.web.webhooks.answer", bug)
    resp = post(client, event(nid="bug-1"))
    assert resp.status_code == 500
    assert resp.get_json() == {"error": "internal error", "correlation_id": resp.headers["X-Correlation-Id"]}
    assert any("unhandled error in POST /webhooks/tiktok" in r.getMessage() for r in caplog.records)
