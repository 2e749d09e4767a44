"""A small fake of NetSuite's REST/SuiteQL/RESTlet surface, for testing the client over real HTTP.

It is deliberately tiny: the real emulator is ``bridge/sandbox/netsuite``. This fake exists so the
client's retry, resolution and paging logic can be driven precisely (scripted faults, counters).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from flask import Flask, Response, request

REST = "/services/rest"


def ns_error(status: int, code: str, detail: str, path: str | None = None) -> Response:
    d: dict[str, Any] = {"detail": detail, "o:errorCode": code}
    if path:
        d["o:errorPath"] = path
    body = {"type": "about:blank", "title": "error", "status": status, "o:errorDetails": [d]}
    return Response(json.dumps(body), status=status, content_type="application/vnd.oracle.resource+json")


@dataclass
class FakeState:
    public_key: str = ""
    client_id: str = "client-fake"
    kid: str = "kid-fake"
    realm: str = "1234567_SB1"
    limit: int = 5
    hold: float = 0.0  # seconds each request holds its pool slot
    in_flight: int = 0
    peak: int = 0
    rejected: int = 0
    records: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    ids: Any = field(default_factory=lambda: itertools.count(100))
    tokens: set[str] = field(default_factory=set)
    token_requests: int = 0
    faults: list[dict[str, Any]] = field(default_factory=list)  # one-shot: {"kind", "method"}
    requests: list[tuple[str, str]] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)  # SuiteQL rows, id ascending
    # one-shot canned answers, the first whose method and path fragment match: {"method", "path", "status", "body"}
    answers: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self, **values: Any) -> None:
        """Back to a fresh state (the server is shared by a module's tests: it is slow to stop)."""
        self.__dict__.update(FakeState(**values).__dict__)

    def take_fault(self, method: str) -> str | None:
        with self.lock:
            for i, f in enumerate(self.faults):
                if f.get("method") in (None, method):
                    del self.faults[i]
                    return str(f["kind"])
        return None

    def take_answer(self, method: str, path: str) -> dict[str, Any] | None:
        with self.lock:
            for i, a in enumerate(self.answers):
                if a.get("method") in (None, method) and str(a.get("path") or "") in path:
                    return self.answers.pop(i)
        return None


def create_fake_app(state: FakeState) -> Flask:
    app = Flask("fake-netsuite")

    @app.before_request
    def _pool() -> Response | None:
        state.requests.append((request.method, request.full_path))
        canned = state.take_answer(request.method, request.path)
        if canned is not None:  # a body written out as NetSuite might send it (e.g. holding NaN)
            return Response(canned["body"], status=int(canned.get("status", 200)), content_type="application/json")
        if request.path.endswith("/oauth2/v1/token"):
            return None
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            if auth[7:] not in state.tokens:
                return ns_error(401, "INVALID_LOGIN", "Invalid login attempt.")
        elif not auth.startswith(f'OAuth realm="{state.realm}"'):
            return ns_error(401, "INVALID_LOGIN", "Invalid login attempt.")
        with state.lock:
            if state.in_flight >= state.limit:
                state.rejected += 1
                if request.path.endswith("restlet.nl"):
                    return Response(json.dumps({"error": {"code": "SSS_REQUEST_LIMIT_EXCEEDED",
                                                          "message": "Request limit exceeded"}}),
                                    status=400, content_type="application/json")
                return ns_error(429, "CONCURRENCY_LIMIT_EXCEEDED", "Concurrent request limit exceeded.")
            state.in_flight += 1
            state.peak = max(state.peak, state.in_flight)
        request.environ["fake.slot"] = True
        fault = state.take_fault(request.method)
        request.environ["fake.fault"] = fault
        if fault == "500":
            return ns_error(500, "UNEXPECTED_ERROR", "An unexpected error occurred.")
        if state.hold:
            time.sleep(state.hold)
        return None

    @app.teardown_request
    def _release(_exc: BaseException | None) -> None:
        if request.environ.get("fake.slot"):
            with state.lock:
                state.in_flight -= 1

    def after_commit() -> None:
        """Fault: the write committed, then the answer never comes in time."""
        if request.environ.get("fake.fault") == "timeout_after_commit":
            time.sleep(2.0)  # the tests that arm this give the client a 1 s timeout

    @app.post(f"{REST}/auth/oauth2/v1/token")
    def token() -> Response:
        state.token_requests += 1
        assertion = request.form.get("client_assertion", "")
        try:
            jwt.decode(assertion, state.public_key, algorithms=["PS256", "ES256"], audience=request.base_url,
                       issuer=state.client_id)
        except jwt.PyJWTError as exc:
            return Response(json.dumps({"error": "invalid_grant", "error_description": type(exc).__name__}),
                            status=400, content_type="application/json")
        if jwt.get_unverified_header(assertion).get("kid") != state.kid:
            return Response(json.dumps({"error": "invalid_grant"}), status=400, content_type="application/json")
        tok = f"tok-{next(state.ids)}"
        state.tokens.add(tok)
        return Response(json.dumps({"access_token": tok, "expires_in": "3600", "token_type": "bearer"}),
                        content_type="application/json")

    def table(rtype: str) -> dict[str, dict[str, Any]]:
        return state.records.setdefault(rtype, {})

    def find(rtype: str, key: str) -> dict[str, Any] | None:
        if key.startswith("eid:"):
            eid = key[4:]
            return next((r for r in table(rtype).values() if r.get("externalId") == eid), None)
        return table(rtype).get(key)

    def written(rtype: str, rid: str) -> Response:
        after_commit()
        resp = Response(status=204)
        resp.headers["Location"] = f"{request.host_url.rstrip('/')}{REST}/record/v1/{rtype}/{rid}"
        return resp

    @app.post(f"{REST}/record/v1/<rtype>")
    def create(rtype: str) -> Response:
        body = request.get_json()
        if "memoo" in body:
            return ns_error(400, "INVALID_CONTENT", "Invalid content in the request body: unknown property 'memoo'.",
                            "memoo")
        rid = str(next(state.ids))
        with state.lock:
            table(rtype)[rid] = {"id": rid, **body}
        return written(rtype, rid)

    @app.get(f"{REST}/record/v1/<rtype>/<key>")
    def get(rtype: str, key: str) -> Response:
        rec = find(rtype, key)
        if rec is None:
            return ns_error(404, "NONEXISTENT_ID", "The record instance does not exist.")
        return Response(json.dumps(rec), content_type="application/vnd.oracle.resource+json")

    @app.put(f"{REST}/record/v1/<rtype>/<key>")
    def upsert(rtype: str, key: str) -> Response:
        body = request.get_json()
        with state.lock:
            rec = find(rtype, key)
            if rec is None:
                rid = str(next(state.ids))
                rec = table(rtype)[rid] = {"id": rid, "externalId": key[4:]}
            rec.update(body)
        return written(rtype, rec["id"])

    @app.patch(f"{REST}/record/v1/<rtype>/<key>")
    def patch(rtype: str, key: str) -> Response:
        rec = find(rtype, key)
        if rec is None:
            return ns_error(404, "NONEXISTENT_ID", "The record instance does not exist.")
        rec.update(request.get_json())
        after_commit()
        return Response(status=204)

    @app.delete(f"{REST}/record/v1/<rtype>/<key>")
    def delete(rtype: str, key: str) -> Response:
        if table(rtype).pop(key, None) is None:
            return ns_error(404, "NONEXISTENT_ID", "The record instance does not exist.")
        return Response(status=204)

    @app.post(f"{REST}/record/v1/<rtype>/<key>/!transform/<target>")
    def transform(rtype: str, key: str, target: str) -> Response:
        src = find(rtype, key)
        if src is None:
            return ns_error(404, "NONEXISTENT_ID", "The record instance does not exist.")
        rid = str(next(state.ids))
        with state.lock:
            table(target)[rid] = {"id": rid, "createdFrom": {"id": src["id"]}, **(request.get_json() or {})}
        return written(target, rid)

    @app.post(f"{REST}/query/v1/suiteql")
    def suiteql() -> Response:
        if request.headers.get("Prefer") != "transient":
            return ns_error(400, "INVALID_HEADER", "Prefer: transient is required.")
        limit, offset = int(request.args["limit"]), int(request.args["offset"])
        if limit > 1000 or offset % limit or offset + limit > 100_000:
            return ns_error(400, "INVALID_PARAMETER", "bad paging")
        q = request.get_json()["q"]
        rows = state.rows
        if " WHERE id > " in q:
            after = int(q.rsplit(" WHERE id > ", 1)[1].split()[0])
            rows = [r for r in rows if int(r["id"]) > after]
        page = rows[offset:offset + limit]
        body = {"links": [], "count": len(page), "hasMore": offset + limit < len(rows), "offset": offset,
                "totalResults": len(rows), "items": [{"links": [], **r} for r in page]}
        return Response(json.dumps(body), content_type="application/vnd.oracle.resource+json")

    @app.route("/app/site/hosting/restlet.nl", methods=["GET", "POST"])
    def restlet() -> Response:
        so = table("salesOrder")
        if request.method == "GET":
            ids = request.args["external_ids"].split(",")
            by_eid = {r.get("externalId"): r for r in so.values()}
            results = [{"external_id": e, "found": e in by_eid, "id": by_eid[e]["id"] if e in by_eid else None,
                        "record_type": "salesOrder" if e in by_eid else None} for e in ids]
            return Response(json.dumps(json.dumps({"results": results})), content_type="application/json")
        out = []
        for o in request.get_json()["orders"]:
            eid = o["external_id"]
            if o.get("record", {}).get("fail"):
                out.append({"external_id": eid, "status": "error", "id": None, "customer_id": None,
                            "error": {"code": "USER_ERROR", "message": "The accounting period is closed.",
                                      "path": "orders[0].record.tranDate"}})
                continue
            with state.lock:
                rec = next((r for r in so.values() if r.get("externalId") == eid), None)
                status = "updated"
                if rec is None:
                    rid = str(next(state.ids))
                    rec = so[rid] = {"id": rid, "externalId": eid}
                    status = "created"
            out.append({"external_id": eid, "status": status, "id": rec["id"], "customer_id": "9", "error": None})
        after_commit()
        return Response(json.dumps({"results": out}), content_type="application/json")

    return app
