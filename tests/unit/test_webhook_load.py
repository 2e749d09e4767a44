"""The webhook benchmark's load generator reads answers with the least parsing HTTP/1.1 allows: it must still
find each answer's end (split over reads, or two in one read) and say when the server closed the connection."""

from __future__ import annotations

import socket
import threading

import pytest

from bridge.benchmarks.webhook_load import read_answer, request_bytes
from bridge.tiktok.webhooks import sign, verify


def test_answers_split_over_reads_or_sharing_one_are_read_one_by_one() -> None:
    a, b = socket.socketpair()
    first = b"HTTP/1.1 200 OK\r\nServer-Timing: app;dur=3.5\r\nContent-Length: 0\r\n\r\n"
    second = b'HTTP/1.1 400 BAD REQUEST\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{"error":"x"}'

    def serve() -> None:
        b.sendall(first[:20])
        b.sendall(first[20:] + second[:30])
        b.sendall(second[30:])
        b.close()

    t = threading.Thread(target=serve)
    t.start()
    buf = bytearray()
    assert read_answer(a, buf) == (200, 3.5)
    assert read_answer(a, buf) == (400, None)
    with pytest.raises(ConnectionError, match="closed"):
        read_answer(a, buf)
    t.join(5)
    a.close()


def test_a_prepared_request_carries_a_valid_signature() -> None:
    body = b'{"type":1}'
    raw = request_bytes("127.0.0.1:8000", "/webhooks/tiktok", "key", "secret", body)
    head, _, sent = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /webhooks/tiktok HTTP/1.1" and sent == body
    auth = next(v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:]) if k == "Authorization")
    assert auth == sign("key", "secret", body) and verify("key", "secret", sent, auth)
    assert f"Content-Length: {len(body)}" in lines
