"""Request signing and webhook signatures: the official vectors, and properties over any body."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.tiktok import signing, webhooks

VECTORS = json.loads((Path(__file__).parent / "signing_vectors.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("v", VECTORS["request_signing"], ids=lambda v: v["id"])
def test_request_vector(v: dict[str, Any]) -> None:
    body = None if v["body"] is None else v["body"].encode("utf-8")
    if v["string_to_sign"] is not None:
        assert signing.string_to_sign(v["path"], v["query"], body) == v["string_to_sign"].encode("utf-8")
    assert signing.sign(v["app_secret"], v["path"], v["query"], body) == v["expected_sign"]
    assert signing.verify(v["app_secret"], v["path"], v["query"], body, v["expected_sign"].upper())


@pytest.mark.parametrize("v", VECTORS["webhook_signing"], ids=lambda v: v["id"])
def test_webhook_vector(v: dict[str, Any]) -> None:
    body = v["raw_body"].encode("utf-8")
    assert webhooks.sign(v["app_key"], v["app_secret"], body) == v["expected_authorization"]
    assert webhooks.verify(v["app_key"], v["app_secret"], body, v["expected_authorization"])
    assert not webhooks.verify(v["app_key"], v["app_secret"] + "x", body, v["expected_authorization"])
    assert not webhooks.verify(v["app_key"], v["app_secret"], body, "")
    assert not webhooks.verify(v["app_key"], v["app_secret"], body, None)


def test_vectors_cover_the_official_examples() -> None:
    ids = {v["id"] for v in VECTORS["request_signing"]}
    assert {"V1_official_get_authorized_shops", "V2_same_plus_access_token_and_sign_in_query"} <= ids
    assert len(VECTORS["webhook_signing"]) >= 3


def test_query_values_arrays_are_comma_joined_and_access_token_and_sign_excluded() -> None:
    q = {"ids": ["576461413038785752", "576461413038785753"], "app_key": "k", "timestamp": 1700000000,
         "shop_cipher": "C", "access_token": "T", "sign": "S", "flag": True, "skip": None}
    assert signing.canonical_query(q)["ids"] == "576461413038785752,576461413038785753"
    assert signing.string_to_sign("/p", q) == (
        b"/papp_keykflagtrueids576461413038785752,576461413038785753shop_cipherCtimestamp1700000000")


def test_multipart_and_empty_bodies_are_not_signed() -> None:
    q = {"app_key": "k", "timestamp": "1"}
    assert signing.sign("s", "/p", q, None) == signing.sign("s", "/p", q, b"")


def test_encode_body_is_compact_utf8_and_decimals_are_exact_json_numbers() -> None:
    from decimal import Decimal

    assert signing.encode_body({"a": "é", "p": Decimal("0.10")}) == '{"a":"é","p":0.10}'.encode()
    with pytest.raises(TypeError):
        signing.encode_body({"x": object()})


_query_keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12)
_queries = st.dictionaries(_query_keys, st.text(max_size=20), max_size=6)


@settings(max_examples=150, deadline=None)
@given(secret=st.text(min_size=1, max_size=40), path=st.from_regex(r"/[a-z0-9_/]{1,40}", fullmatch=True),
       query=_queries, body=st.binary(min_size=1, max_size=300), data=st.data())
def test_request_sign_any_body_verifies_any_changed_byte_does_not(
    secret: str, path: str, query: dict[str, str], body: bytes, data: st.DataObject
) -> None:
    sig = signing.sign(secret, path, query, body)
    assert signing.verify(secret, path, query, body, sig)
    i = data.draw(st.integers(0, len(body) - 1))
    delta = data.draw(st.integers(1, 255))
    tampered = body[:i] + bytes([(body[i] + delta) % 256]) + body[i + 1:]
    assert not signing.verify(secret, path, query, tampered, sig)


@settings(max_examples=150, deadline=None)
@given(key=st.text(min_size=1, max_size=20), secret=st.text(min_size=1, max_size=40),
       body=st.binary(min_size=1, max_size=300), data=st.data())
def test_webhook_any_body_verifies_any_changed_byte_does_not(
    key: str, secret: str, body: bytes, data: st.DataObject
) -> None:
    header = webhooks.sign(key, secret, body)
    assert webhooks.verify(key, secret, body, header)
    i = data.draw(st.integers(0, len(body) - 1))
    delta = data.draw(st.integers(1, 255))
    tampered = body[:i] + bytes([(body[i] + delta) % 256]) + body[i + 1:]
    assert not webhooks.verify(key, secret, tampered, header)
    j = data.draw(st.integers(0, len(header) - 1))
    flipped = header[:j] + ("0" if header[j] != "0" else "1") + header[j + 1:]
    assert not webhooks.verify(key, secret, body, flipped)
