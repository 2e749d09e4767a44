"""The Python side of the SuiteScript harness: Node processes running ``suitecloud/harness/harness.js``.

Protocol: JSON lines over the child's stdin/stdout.

* sandbox → node ``{"t": "exec", "id", "kind": "restlet"|"userevent"|"mapreduce", "file", "root",
  "script": {…}, "context": {…}, "entry", "args"}``
* node → sandbox ``{"t": "call", "id", "op", "args"}`` — a SuiteScript API that needs the account
  (``record.load``, ``record.save``, ``query.run``, ``secret.get`` …); the sandbox answers
  ``{"t": "reply", "id", "ok", "value"|"error"}``. While answering, the sandbox may send a nested
  ``exec`` (a user event fired by a save the script made); the harness runs it and answers first.
* node → sandbox ``{"t": "log", …}`` (N/log) and ``{"t": "result", "id", "ok", "value"|"error", "usage"}``.

One process runs one execution at a time (SuiteScript's APIs are synchronous); the host keeps a
small pool of processes, started on first use.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import queue
import select
import subprocess
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .customizations import Deployment, Script
from .errors import NsError, user_error

if TYPE_CHECKING:
    from .sandbox import ExecContext, NetSuiteSandbox

USAGE_LIMITS = {"RESTLET": 5000, "USEREVENT": 1000, "SCHEDULED": 10000, "SUITELET": 1000, "MAPREDUCE": 10000}
CONTEXT_OF_KIND = {"RESTLET": "RESTLET", "MAPREDUCE": "MAPREDUCE", "SCHEDULED": "SCHEDULED", "SUITELET": "SUITELET"}
EXEC_TIMEOUT_SECONDS = 300.0


class ScriptError(Exception):
    """A SuiteScript error that escaped the script (RESTlets answer it as ``{"error": …}``)."""

    def __init__(self, name: str, message: str, status: int = 400) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message
        self.status = status


def default_harness_dir(suitecloud_dir: Path | None) -> Path:
    if suitecloud_dir is not None and (suitecloud_dir / "harness" / "harness.js").is_file():
        return suitecloud_dir / "harness"
    from bridge.resources import project_dir

    return project_dir("suitecloud") / "harness"


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(type(value).__name__)


class HarnessProcess:
    """One Node process. Used by one thread at a time (checked out of the host's pool)."""

    _ids = itertools.count(1)

    def __init__(self, host: HarnessHost) -> None:
        self.host = host
        env = dict(os.environ)
        env["NODE_OPTIONS"] = ""
        self.proc = subprocess.Popen(
            [host.node, str(host.harness_dir / "harness.js")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=str(host.harness_dir),
            env=env,
        )
        self._buf = b""
        self.stderr_tail: list[str] = []
        threading.Thread(target=self._drain_stderr, name="ns-harness-stderr", daemon=True).start()
        hello = self._read(time.monotonic() + 30)
        if hello.get("t") != "ready":
            raise RuntimeError(f"the harness did not start: {hello}")

    def _drain_stderr(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            self.stderr_tail.append(line)
            del self.stderr_tail[:-50]

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def _send(self, msg: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        data = json.dumps(msg, default=_json_default, separators=(",", ":")) + "\n"
        self.proc.stdin.write(data.encode("utf-8"))
        self.proc.stdin.flush()

    def _read(self, deadline: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                raise ScriptError("SSS_TIME_LIMIT_EXCEEDED", "Script Execution Time Exceeded.")
            ready, _, _ = select.select([fd], [], [], min(remaining, 1.0))
            if not ready:
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                tail = " | ".join(self.stderr_tail[-5:])
                raise ScriptError("UNEXPECTED_ERROR", f"the SuiteScript harness exited ({tail})", 500)
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        msg: dict[str, Any] = json.loads(line)
        return msg

    def execute(self, request: dict[str, Any], ctx: ExecContext) -> Any:
        """Run one execution, serving its callbacks (and nested executions) until it ends."""
        exec_id = next(self._ids)
        request = dict(request, t="exec", id=exec_id)
        self._send(request)
        deadline = time.monotonic() + EXEC_TIMEOUT_SECONDS
        callbacks = Callbacks(self.host.sandbox, self, ctx, request)
        while True:
            msg = self._read(deadline)
            kind = msg.get("t")
            if kind == "call":
                self._send(callbacks.handle(msg))
            elif kind == "log":
                self.host.sandbox.log_script({k: v for k, v in msg.items() if k != "t"})
            elif kind == "result" and msg.get("id") == exec_id:
                usage = int(msg.get("usage") or 0)
                self.host.sandbox.counters.governance(str(request["script"]["id"]), usage)
                if msg.get("ok"):
                    return msg.get("value")
                err = msg.get("error") or {}
                raise ScriptError(
                    str(err.get("name") or "UNEXPECTED_ERROR"),
                    str(err.get("message") or ""),
                    int(err.get("status") or 400),
                )

    def kill(self) -> None:
        if self.alive:
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)


class HarnessHost:
    """Runs the SuiteCloud project's scripts for one sandbox (implements ``ScriptHost``)."""

    def __init__(self, sandbox: NetSuiteSandbox) -> None:
        self.sandbox = sandbox
        cfg = sandbox.config
        self.node = cfg.node_binary
        self.harness_dir = (cfg.harness_dir or default_harness_dir(cfg.suitecloud_dir)).resolve()
        self.suitecloud_dir = cfg.suitecloud_dir.resolve() if cfg.suitecloud_dir else None
        self._idle: queue.LifoQueue[HarnessProcess] = queue.LifoQueue()
        self._count = 0
        self._lock = threading.Lock()
        self._all: list[HarnessProcess] = []
        self._closed = False

    # -- pool -------------------------------------------------------------------------------------
    def _checkout(self) -> HarnessProcess:
        while True:
            proc = self._take_idle(block=False) or self._spawn() or self._take_idle(block=True)
            assert proc is not None
            if proc.alive:
                return proc
            self._discard(proc)

    def _take_idle(self, *, block: bool) -> HarnessProcess | None:
        try:
            return self._idle.get(timeout=EXEC_TIMEOUT_SECONDS) if block else self._idle.get_nowait()
        except queue.Empty:
            if block:
                raise ScriptError("SSS_REQUEST_LIMIT_EXCEEDED", "No script runtime became free.") from None
            return None

    def _spawn(self) -> HarnessProcess | None:
        with self._lock:
            if self._closed:
                raise ScriptError("UNEXPECTED_ERROR", "the harness is closed", 500)
            size = self.sandbox.config.harness_processes or (self.sandbox.pool.limit + 1)
            if self._count >= size:
                return None
            self._count += 1
        try:
            proc = HarnessProcess(self)
        except Exception:
            with self._lock:
                self._count -= 1
            raise
        with self._lock:
            self._all.append(proc)
        return proc

    def _discard(self, proc: HarnessProcess) -> None:
        with self._lock:
            self._count -= 1
            if proc in self._all:
                self._all.remove(proc)

    def _checkin(self, proc: HarnessProcess) -> None:
        if proc.alive and not self._closed:
            self._idle.put(proc)
        else:
            self._discard(proc)

    def run(self, request: dict[str, Any], ctx: ExecContext) -> Any:
        session = ctx.session if isinstance(ctx.session, HarnessProcess) else None
        if session is not None:
            return session.execute(request, ctx)
        proc = self._checkout()
        try:
            return proc.execute(request, ctx)
        finally:
            self._checkin(proc)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            procs = list(self._all)
            self._all.clear()
        for p in procs:
            try:
                if p.proc.stdin:
                    p.proc.stdin.close()
            except OSError:
                pass
            p.kill()

    # -- requests ---------------------------------------------------------------------------------
    def _request(
        self,
        kind: str,
        script: Script,
        dep: Deployment,
        entry: str,
        args: dict[str, Any],
        context_type: str,
        usage_limit: int,
    ) -> dict[str, Any]:
        if script.path is None or not script.path.is_file():
            raise ScriptError("SSS_MISSING_SCRIPT_FILE", f"The script file {script.file} does not exist.", 500)
        cfg = self.sandbox.config
        root = (self.suitecloud_dir / "src" / "FileCabinet") if self.suitecloud_dir else script.path.parent
        params = script.parameter_values(dep, cfg.script_parameters)
        return {
            "kind": kind,
            "file": str(script.path),
            "root": str(root),
            "script": {
                "id": script.scriptid,
                "internalId": script.internal_id,
                "deploymentId": dep.scriptid,
                "deploymentInternalId": dep.internal_id,
                "type": script.kind,
                "params": params,
                "paramTypes": script.param_types(),
                "logLevel": dep.log_level,
            },
            "context": {
                "executionContext": context_type,
                "account": cfg.account_id,
                "envType": "SANDBOX",
                "usageLimit": usage_limit,
                "version": "2026.1",
                "user": {
                    "id": -4,
                    "name": "-System-",
                    "email": "",
                    "role": "administrator",
                    "roleId": 3,
                    "roleCenter": "BASIC",
                    "subsidiary": 1,
                    "location": 0,
                    "department": 0,
                },
                "timeouts": {"connect": cfg.https_connect_timeout_seconds, "total": cfg.https_total_timeout_seconds},
                "httpsAllowHttp": cfg.https_allow_http,
                "clockOffsetMs": round(self.sandbox.clock_offset * 1000),
            },
            "entry": entry,
            "args": args,
        }

    def user_event(
        self,
        script: Script,
        deployment: Deployment,
        entry: str,
        event_type: str,
        new_record: dict[str, Any] | None,
        old_record: dict[str, Any] | None,
        ctx: ExecContext,
    ) -> dict[str, Any] | None:
        from .sandbox import ExecContext as Ctx

        request = self._request(
            "userevent",
            script,
            deployment,
            entry,
            {"type": event_type, "newRecord": new_record, "oldRecord": old_record},
            ctx.context_type,
            USAGE_LIMITS["USEREVENT"],
        )
        inner = Ctx(context_type=ctx.context_type, fire_user_events=False, session=ctx.session)
        try:
            value = self.run(request, inner)
        except ScriptError as exc:
            # beforeSubmit: the save is refused; afterSubmit: the record stays saved but the caller
            # still gets the error (as a person in the UI or an integration does)
            self.sandbox.log_script(
                {"level": "ERROR", "script": script.scriptid, "title": f"{entry}: {exc.name}", "details": exc.message}
            )
            raise user_error(f"{exc.name}: {exc.message}", script_code=exc.name) from None
        if isinstance(value, dict) and value.get("changes"):
            changes: dict[str, Any] = value["changes"]
            return changes
        return None

    def restlet(
        self, script: Script, deployment: Deployment, method: str, args: dict[str, Any], ctx: ExecContext
    ) -> Any:
        request = self._request("restlet", script, deployment, method.lower(), args, "RESTLET", USAGE_LIMITS["RESTLET"])
        return self.run(request, ctx)

    def map_reduce(
        self, script: Script, deployment: Deployment, ctx: ExecContext, params: dict[str, Any] | None = None
    ) -> Any:
        request = self._request(
            "mapreduce", script, deployment, "run", {"params": params or {}}, "MAPREDUCE", USAGE_LIMITS["MAPREDUCE"]
        )
        if params:
            request["script"]["params"].update(params)
        return self.run(request, ctx)


class Callbacks:
    """Serves one execution's SuiteScript API calls against the sandbox."""

    def __init__(
        self, sandbox: NetSuiteSandbox, proc: HarnessProcess, ctx: ExecContext, request: dict[str, Any]
    ) -> None:
        self.sb = sandbox
        self.proc = proc
        self.ctx = ctx
        self.kind = str(request["script"]["type"])
        self.context_type = str(request["context"]["executionContext"])

    def _write_ctx(self, event_type: str | None = None) -> ExecContext:
        from .sandbox import ExecContext as Ctx

        # a user event's own saves fire no user events; every other script's saves do
        return Ctx(
            context_type=self.context_type,
            fire_user_events=self.kind != "USEREVENT",
            session=self.proc,
            property_validation="Ignore",
            allow_standalone=False,
            event_type=event_type,
        )

    def handle(self, msg: dict[str, Any]) -> dict[str, Any]:
        op = str(msg.get("op"))
        args = msg.get("args") or {}
        try:
            fn = getattr(self, "op_" + op.replace(".", "_"), None)
            if fn is None:
                raise ScriptError("SSS_UNSUPPORTED_API", f"{op} is not supported by the sandbox harness")
            return {"t": "reply", "id": msg.get("id"), "ok": True, "value": fn(args)}
        except NsError as exc:
            return {
                "t": "reply",
                "id": msg.get("id"),
                "ok": False,
                "error": {"name": exc.script_code, "message": exc.detail},
            }
        except ScriptError as exc:
            return {"t": "reply", "id": msg.get("id"), "ok": False, "error": {"name": exc.name, "message": exc.message}}

    # -- N/record ---------------------------------------------------------------------------------
    def _type(self, script_type: str) -> str:
        from .schema import served_records

        lower = str(script_type).lower()
        for t in [*served_records(), "salesTaxItem", *self.sb.project.custom_records]:
            if t.lower() == lower:
                return t
        raise ScriptError("SSS_INVALID_RECORD_TYPE", f"The record type {script_type} is invalid.")

    def op_record_load(self, a: dict[str, Any]) -> dict[str, Any]:
        rec = self.sb.get(self._type(a["type"]), str(a["id"]))
        return self.sb.script_view(rec)

    def op_record_create(self, a: dict[str, Any]) -> dict[str, Any]:
        return self.sb.new_record_view(self._type(a["type"]), a.get("defaultValues") or {})

    def op_record_copy(self, a: dict[str, Any]) -> dict[str, Any]:
        rec = self.sb.get(self._type(a["type"]), str(a["id"]))
        view = self.sb.script_view(rec)
        view["id"] = None
        for f in ("externalid", "tranid", "status", "createddate", "lastmodifieddate"):
            view["fields"].pop(f, None)
        return view

    def op_record_transform(self, a: dict[str, Any]) -> dict[str, Any]:
        from_type, to_type = self._type(a["fromType"]), self._type(a["toType"])
        view = self.sb.transform_draft(from_type, str(a["fromId"]), to_type)
        view["transformedFrom"] = {"type": from_type, "id": str(a["fromId"])}
        return view

    def op_record_save(self, a: dict[str, Any]) -> dict[str, Any]:
        rec_type = self._type(a["type"])
        view = a.get("record") or {}
        with self.sb.lock:
            body, replaced = self.sb.renderer.body_from_script(rec_type, view)
        ctx = self._write_ctx()
        src = a.get("transformedFrom")
        if src:
            result = self.sb.transform(src["type"], str(src["id"]), rec_type, body, ctx, replace={"item"})
        elif a.get("id"):
            result = self.sb.update(rec_type, str(a["id"]), body, ctx, replace=replaced)
        else:
            result = self.sb.create(rec_type, body, ctx, replace=replaced)
        return {"id": result.rec.id}

    def op_record_submitFields(self, a: dict[str, Any]) -> dict[str, Any]:
        rec_type = self._type(a["type"])
        with self.sb.lock:
            body, _ = self.sb.renderer.body_from_script(rec_type, {"fields": a.get("values") or {}})
        result = self.sb.update(rec_type, str(a["id"]), body, self._write_ctx("xedit"))
        return {"id": result.rec.id}

    def op_record_delete(self, a: dict[str, Any]) -> dict[str, Any]:
        rec_type = self._type(a["type"])
        self.sb.delete(rec_type, str(a["id"]), self._write_ctx())
        return {"id": str(a["id"])}

    # -- N/query, N/search --------------------------------------------------------------------------
    def op_query_run(self, a: dict[str, Any]) -> dict[str, Any]:
        self.sb.counters.inc("scripts.suiteql")
        columns, rows = self.sb.suiteql_raw(str(a.get("query") or ""), list(a.get("params") or []))
        return {"columns": columns, "rows": rows}

    def op_search_lookupFields(self, a: dict[str, Any]) -> dict[str, Any]:
        rec = self.sb.get(self._type(a["type"]), str(a["id"]))
        view = self.sb.script_view(rec)
        out: dict[str, Any] = {}
        for col in a.get("columns") or []:
            name = str(col).lower()
            value = view["fields"].get(name)
            if name in view["texts"]:
                out[col] = [{"value": str(value), "text": view["texts"][name]}] if value not in (None, "") else []
            else:
                out[col] = "" if value is None else value
        return out

    def op_search_run(self, a: dict[str, Any]) -> dict[str, Any]:
        rec_type = self._type(a["type"])
        filters = a.get("filters") or []
        columns = [str(c).lower() for c in a.get("columns") or []]
        rows = []
        for rid in self.sb.list_ids(rec_type):
            view = self.sb.script_view(self.sb.get(rec_type, rid))
            if all(_match(view, f) for f in filters):
                rows.append(
                    {
                        "id": rid,
                        "recordType": rec_type.lower(),
                        "values": {c: view["fields"].get(c) for c in columns},
                        "texts": {c: view["texts"].get(c) for c in columns if c in view["texts"]},
                    }
                )
        return {"rows": rows}

    # -- secrets, https log, tasks -------------------------------------------------------------------
    def op_secret_get(self, a: dict[str, Any]) -> dict[str, Any]:
        key = str(a.get("id") or "")
        value = self.sb.config.api_secrets.get(key)
        if value is None:
            raise ScriptError(
                "INVALID_SECRET_KEY", f"The API secret {key} does not exist or is not shared with this script."
            )
        return {"value": value}

    def op_https_log(self, a: dict[str, Any]) -> None:
        self.sb.counters.inc("scripts.https_calls")
        self.sb.log_outbound({k: a.get(k) for k in ("method", "url", "status", "ms", "error", "script")})

    def op_task_submit(self, a: dict[str, Any]) -> dict[str, Any]:
        script_id = str(a.get("scriptId") or "")
        task_id = f"MAPREDUCETASK_{uuid.uuid4().hex[:24]}"
        self.sb.tasks[task_id] = {"status": "PENDING", "scriptId": script_id}
        threading.Thread(
            target=_run_task,
            args=(self.sb, task_id, script_id, a.get("deploymentId"), a.get("params") or {}),
            daemon=True,
        ).start()
        return {"taskId": task_id}

    def op_task_status(self, a: dict[str, Any]) -> dict[str, Any]:
        return dict(self.sb.tasks.get(str(a.get("taskId")), {"status": "FAILED"}))


def _run_task(sb: NetSuiteSandbox, task_id: str, script_id: str, deployment_id: Any, params: dict[str, Any]) -> None:
    sb.tasks[task_id]["status"] = "PROCESSING"
    try:
        sb_run_map_reduce(sb, script_id, str(deployment_id) if deployment_id else None, params)
        sb.tasks[task_id]["status"] = "COMPLETE"
    except Exception as exc:  # a failed task is reported through task.checkStatus, as in NetSuite
        sb.tasks[task_id]["status"] = "FAILED"
        sb.log_script({"level": "ERROR", "script": script_id, "title": "map/reduce task failed", "details": str(exc)})


def sb_run_map_reduce(
    sb: NetSuiteSandbox, script_id: str, deployment_id: str | None = None, params: dict[str, Any] | None = None
) -> Any:
    """Run a Map/Reduce script's deployment now (all stages, in the MAPREDUCE context)."""
    from .sandbox import ExecContext

    host = sb.scripts
    if not isinstance(host, HarnessHost):
        raise ScriptError("SSS_SCRIPTS_DISABLED", "Scripts are not enabled in this sandbox.", 500)
    script = sb.project.script(script_id)
    if script is None or script.kind != "MAPREDUCE":
        raise ScriptError("SSS_INVALID_SCRIPT_ID", f"No map/reduce script {script_id}.")
    deps = [d for d in script.deployments if deployment_id in (None, d.scriptid, d.internal_id)]
    if not deps:
        raise ScriptError("SSS_INVALID_DEPLOYMENT_ID", f"No deployment {deployment_id} of {script_id}.")
    sb.counters.inc("scripts.mapreduce_runs")
    return host.map_reduce(script, deps[0], ExecContext(context_type="MAPREDUCE"), params)


def _match(view: dict[str, Any], f: Any) -> bool:
    if not isinstance(f, list | tuple) or len(f) < 2:
        return True
    name, op = str(f[0]).lower(), str(f[1]).lower()
    values = [str(v) for v in f[2:]] if len(f) > 2 else []
    if len(values) == 1 and isinstance(f[2], list):
        values = [str(v) for v in f[2]]
    current = view["fields"].get(name)
    if name in ("internalid",):
        current = view.get("id")
    text = "" if current is None else str(current)
    if op in ("is", "equalto", "anyof"):
        if isinstance(current, bool):
            text = "T" if current else "F"
        return text in values if op != "is" else (text == values[0] if values else False)
    if op in ("isnot", "noneof", "notequalto"):
        return text not in values
    if op == "isempty":
        return text == ""
    if op == "isnotempty":
        return text != ""
    if op == "contains":
        return bool(values) and values[0].lower() in text.lower()
    if op == "startswith":
        return bool(values) and text.lower().startswith(values[0].lower())
    try:
        num, ref = float(text), float(values[0])
    except (ValueError, IndexError):
        return False
    return {
        "greaterthan": num > ref,
        "lessthan": num < ref,
        "greaterthanorequalto": num >= ref,
        "lessthanorequalto": num <= ref,
    }.get(op, True)
