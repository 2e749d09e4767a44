"""The NetSuite sandbox answers npm clients nobody here wrote: ``netsuite-rest`` (REST record and
SuiteQL) and ``nsrestlet`` (RESTlets), both TBA signed with ``oauth-1.0a``, driven by
tests/netsuite/node_clients.js over real HTTP on loopback. Both are devDependencies of suitecloud/
(installed by scripts/bootstrap's ``npm ci``); a missing one fails here with the command to run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.netsuite.sandbox_support import ACCOUNT, MUG, TBA, TTS_CUSTOMER, Sandbox, running_sandbox

REPO = Path(__file__).resolve().parents[2]
NODE_MODULES = REPO / "suitecloud" / "node_modules"
SCRIPT = Path(__file__).with_name("node_clients.js")


@pytest.fixture(scope="module")
def answers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, dict[str, Any]]]:
    node = shutil.which("node")
    assert node, "node is not on PATH (scripts/bootstrap needs Node.js >= 18 for suitecloud/)"
    for package in ("netsuite-rest", "nsrestlet"):
        assert (NODE_MODULES / package / "package.json").exists(), (
            f"npm package {package} is missing: run scripts/bootstrap (npm ci in suitecloud/)")
    with running_sandbox(tmp_path_factory.mktemp("netsuite-keys"), run_scripts=True) as sandbox:
        config = {"base": sandbox.url, "account": ACCOUNT, "consumer_key": TBA.consumer_key,
                  "consumer_secret": TBA.consumer_secret, "token_id": TBA.token_id, "token_secret": TBA.token_secret,
                  "customer": TTS_CUSTOMER, "item": MUG, "script": "customscript_ttns_rl_orders",
                  "deploy": "customdeploy_ttns_rl_orders"}
        done = subprocess.run([node, str(SCRIPT)], input=json.dumps(config), capture_output=True, text=True,
                              timeout=120, env={**os.environ, "NODE_PATH": str(NODE_MODULES)}, check=False)
        assert done.returncode == 0, done.stderr
        yield sandbox, json.loads(done.stdout)


def test_netsuite_rest_signed_get(answers: tuple[Sandbox, dict[str, Any]]) -> None:
    _, got = answers
    assert got["probe"]["status"] == 204 and got["probe_wrong_secret"]["status"] == 401
    assert got["get"]["status"] == 200, got["get"]
    assert got["get"]["data"]["id"] == TTS_CUSTOMER and got["get"]["data"]["companyName"] == "TikTok Shop Customers"
    assert got["wrong_secret"]["status"] == 401
    assert got["wrong_secret"]["data"]["o:errorDetails"][0]["o:errorCode"] == "INVALID_LOGIN"


def test_netsuite_rest_signed_writes(answers: tuple[Sandbox, dict[str, Any]]) -> None:
    sandbox, got = answers
    assert got["upsert"]["status"] == 204, got["upsert"]
    assert got["after_upsert"]["data"]["companyName"] == "Node client Ltd"
    assert sandbox.count("customer", "NODE-CLIENT-1") == 1
    assert got["create"]["status"] == 204, got["create"]
    assert sandbox.count("customer", "NODE-CLIENT-2") == 1
    # The sandbox sends the new record's Location (tests/sandbox/test_netsuite_records.py); netsuite-rest's
    # afterResponse hook returns `{...response, data}`, which loses got's `headers`, so a caller of this
    # client never sees it and must find the record by its external id. The client's limit, not the sandbox's.
    assert got["create"]["location"] is None


def test_netsuite_rest_suiteql_as_its_readme_sends_it(answers: tuple[Sandbox, dict[str, Any]]) -> None:
    _, got = answers
    page = got["suiteql"]
    assert page["status"] == 200, page
    assert page["data"]["count"] == 2 and page["data"]["offset"] == 2 and page["data"]["hasMore"]
    assert [set(row) - {"links"} for row in page["data"]["items"]] == [{"id", "itemid"}] * 2


def test_nsrestlet_call(answers: tuple[Sandbox, dict[str, Any]]) -> None:
    _, got = answers
    assert got["restlet_get"]["ok"], got["restlet_get"]
    assert got["restlet_get"]["data"] == {"results": [
        {"external_id": "TTS-NOPE-1", "found": False, "id": None, "record_type": None},
        {"external_id": "TTS-NOPE-2", "found": False, "id": None, "record_type": None}]}
    refused = got["restlet_wrong_secret"]
    assert not refused["ok"] and "INVALID_LOGIN" in refused["error"], refused


def test_nsrestlet_signed_write(answers: tuple[Sandbox, dict[str, Any]]) -> None:
    sandbox, got = answers
    assert got["restlet_post"]["ok"], got["restlet_post"]
    (first,) = got["restlet_post"]["data"]["results"]
    assert first["external_id"] == "TTS-NODE-1" and first["status"] == "created" and first["id"]
    (again,) = got["restlet_post_again"]["data"]["results"]
    assert again["status"] == "unchanged" and again["id"] == first["id"]  # an upsert by external id
    (found,) = got["restlet_after_post"]["data"]["results"]
    assert found["found"] and found["id"] == first["id"] and found["record_type"] == "salesOrder"
    assert sandbox.count("transaction", "TTS-NODE-1") == 1
