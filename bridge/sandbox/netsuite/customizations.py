"""The SuiteCloud project as the account sees it: custom fields, custom record types, scripts,
their parameters and deployments, read from the SDF object XML in ``<project>/src/Objects``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from .schema import CustomField, served_records

FIELD_TAGS = {
    "transactionbodycustomfield",
    "transactioncolumncustomfield",
    "entitycustomfield",
    "itemcustomfield",
    "crmcustomfield",
    "othercustomfield",
}
SCRIPT_TAGS = {
    "restlet": "RESTLET",
    "usereventscript": "USEREVENT",
    "mapreducescript": "MAPREDUCE",
    "scheduledscript": "SCHEDULED",
    "suitelet": "SUITELET",
    "clientscript": "CLIENT",
}
_SALES = ("salesOrder", "invoice", "cashSale", "creditMemo", "cashRefund", "returnAuthorization")
# SDF "applies to" flags of transaction body (body…) and column (col…) fields -> REST record types
APPLIES_TO: dict[str, tuple[str, ...]] = {
    "bodysale": _SALES,
    "colsale": _SALES,
    "bodyitemfulfillment": ("itemFulfillment",),
    "colitemfulfillment": ("itemFulfillment",),
    "bodyitemreceipt": ("itemReceipt",),
    "colitemreceipt": ("itemReceipt",),
    "bodyinventoryadjustment": ("inventoryAdjustment", "inventoryTransfer"),
    "colinventoryadjustment": ("inventoryAdjustment", "inventoryTransfer"),
    "bodyjournal": ("journalEntry",),
    "coljournal": ("journalEntry",),
    "bodydeposit": ("deposit",),
    "bodycustomerpayment": ("customerDeposit", "customerRefund"),
    "bodytransferorder": ("transferOrder",),
    "coltransferorder": ("transferOrder",),
    "bodyitemfulfillmentorder": ("salesOrder", "transferOrder"),
    "colitemfulfillmentorder": ("salesOrder", "transferOrder"),
    "bodyitemreceiptorder": ("transferOrder", "returnAuthorization"),
    "colitemreceiptorder": ("transferOrder", "returnAuthorization"),
    "colreturnform": ("returnAuthorization", "creditMemo", "cashRefund"),
}
DEFAULT_FIELDS = {
    "custbody_ttns_order_id": "TEXT",
    "custbody_ttns_shop_id": "TEXT",
    "custbody_ttns_source": "TEXT",
    "custbody_ttns_sync_status": "TEXT",
    "custcol_ttns_line_item_ids": "TEXTAREA",
    "custcol_ttns_package": "TEXT",
}
DEFAULT_CUSTOM_RECORDS = {
    "customrecord_ttns_push": {
        "custrecord_ttns_push_kind": "TEXT",
        "custrecord_ttns_push_payload": "CLOBTEXT",
        "custrecord_ttns_push_status": "TEXT",
        "custrecord_ttns_push_attempts": "INTEGER",
        "custrecord_ttns_push_error": "TEXTAREA",
        "custrecord_ttns_push_record": "TEXT",
    }
}


@dataclass
class ScriptParam:
    scriptid: str
    fieldtype: str = "TEXT"
    default: str | None = None


@dataclass
class Deployment:
    scriptid: str
    internal_id: str
    status: str = "RELEASED"
    is_deployed: bool = True
    record_type: str | None = None  # REST record type a user event is deployed on
    event_type: str | None = None
    contexts: frozenset[str] | None = None
    values: dict[str, str] = field(default_factory=dict)
    log_level: str = "DEBUG"

    @property
    def active(self) -> bool:
        return self.is_deployed and self.status in ("RELEASED", "TESTING")


@dataclass
class Script:
    kind: str  # RESTLET | USEREVENT | MAPREDUCE | SCHEDULED | SUITELET | CLIENT
    scriptid: str
    internal_id: str
    file: str  # /SuiteScripts/ttns/x.js
    path: Path | None
    params: list[ScriptParam] = field(default_factory=list)
    deployments: list[Deployment] = field(default_factory=list)

    def parameter_values(self, deployment: Deployment, overrides: dict[str, str]) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        for p in self.params:
            out[p.scriptid] = overrides.get(p.scriptid, deployment.values.get(p.scriptid, p.default))
        for k, v in overrides.items():
            if k.startswith("custscript") and k not in out:
                out[k] = v
        return out

    def param_types(self) -> dict[str, str]:
        return {p.scriptid: p.fieldtype for p in self.params}


@dataclass
class Project:
    custom_fields: dict[str, CustomField] = field(default_factory=dict)
    custom_records: dict[str, list[str]] = field(default_factory=dict)
    scripts: list[Script] = field(default_factory=list)
    source: str = "defaults"

    def script(self, key: str) -> Script | None:
        for s in self.scripts:
            if key in (s.scriptid, s.internal_id):
                return s
        return None

    def user_events(self, record_type: str) -> list[tuple[Script, Deployment]]:
        out: list[tuple[Script, Deployment]] = []
        for s in self.scripts:
            if s.kind != "USEREVENT":
                continue
            for d in s.deployments:
                if d.active and d.record_type == record_type:
                    out.append((s, d))
        return out


def _text(el: ET.Element | None, tag: str) -> str | None:
    if el is None:
        return None
    child = el.find(tag)
    if child is None or child.text is None:
        return None
    return child.text.strip()


def _record_type(raw: str | None) -> str | None:
    if not raw:
        return None
    raw = raw.strip().strip("[]")
    if raw.lower().startswith("customrecord"):
        return raw.lower()
    by_lower = {r.lower(): r for r in served_records()}
    return by_lower.get(raw.lower(), raw)


def load_project(suitecloud_dir: Path | None, extra_fields: dict[str, str] | None = None) -> Project:
    """Read ``src/Objects/*.xml``; without a project, the default fields and push record."""
    project = Project()
    suitecloud_dir = suitecloud_dir.resolve() if suitecloud_dir else None
    objects = (suitecloud_dir / "src" / "Objects") if suitecloud_dir else None
    files = sorted(objects.glob("*.xml")) if objects and objects.is_dir() else []
    if not files:
        for fid, ft in DEFAULT_FIELDS.items():
            project.custom_fields[fid] = CustomField(fid, ft)
        for rid, fields in DEFAULT_CUSTOM_RECORDS.items():
            project.custom_records[rid] = list(fields)
            for fid, ft in fields.items():
                project.custom_fields[fid] = CustomField(fid, ft)
    else:
        project.source = str(objects)
        scripts: list[tuple[ET.Element, str]] = []
        for path in files:
            root = ET.parse(path).getroot()  # noqa: S314 - the project's own object XML
            tag = root.tag.lower()
            sid = (root.get("scriptid") or path.stem).strip()
            if tag in FIELD_TAGS:
                project.custom_fields[sid] = _field(root, sid)
            elif tag == "customrecordtype":
                field_list = root.find("customrecordcustomfields")
                names: list[str] = []
                for f in field_list.findall("customrecordcustomfield") if field_list is not None else []:
                    fid = (f.get("scriptid") or "").strip()
                    if fid:
                        project.custom_fields[fid] = _field(f, fid)
                        names.append(fid)
                project.custom_records[sid] = names
            elif tag in SCRIPT_TAGS:
                scripts.append((root, sid))
        deploy_no = 1
        for n, (root, sid) in enumerate(sorted(scripts, key=lambda x: x[1])):
            script, deploy_no = _script(root, sid, str(100 + n), deploy_no, suitecloud_dir)
            project.scripts.append(script)
    for fid, ft in (extra_fields or {}).items():
        project.custom_fields[fid] = CustomField(fid, ft)
    return project


def _field(el: ET.Element, sid: str) -> CustomField:
    select = _text(el, "selectrecordtype")
    target = None
    if select:
        target = _record_type(select) if not select.lstrip("-").isdigit() else None
    applies: set[str] = set()
    flagged = False
    for child in el:
        tag = child.tag.lower()
        if tag.startswith(("body", "col")) and tag not in (
            "bodyprintflag",
            "bodyprintpackingslip",
            "bodyprintstatement",
            "bodypickingticket",
            "colprintflag",
            "colpackingslip",
            "colpickingticket",
            "colgrouponinvoices",
            "colkititem",
            "colstorehidden",
            "colstorewithgroups",
        ):
            flagged = True
            if (child.text or "").strip().upper() == "T":
                applies.update(APPLIES_TO.get(tag, ()))
    return CustomField(sid, (_text(el, "fieldtype") or "TEXT").upper(), target, frozenset(applies) if flagged else None)


def _script(
    root: ET.Element, sid: str, internal_id: str, deploy_no: int, suitecloud_dir: Path | None
) -> tuple[Script, int]:
    kind = SCRIPT_TAGS[root.tag.lower()]
    file_ref = (_text(root, "scriptfile") or "").strip("[]")
    path = None
    if suitecloud_dir and file_ref:
        path = suitecloud_dir / "src" / "FileCabinet" / file_ref.lstrip("/")
    params: list[ScriptParam] = []
    pfields = root.find("scriptcustomfields")
    for p in pfields.findall("scriptcustomfield") if pfields is not None else []:
        pid = (p.get("scriptid") or "").strip()
        if pid:
            ftype = (_text(p, "fieldtype") or "TEXT").upper()
            default = _text(p, "defaultvalue") or None
            if ftype == "CHECKBOX" and default is None:
                default = "T" if (_text(p, "defaultchecked") or "F").upper() == "T" else "F"
            params.append(ScriptParam(pid, ftype, default))
    deployments: list[Deployment] = []
    dnode = root.find("scriptdeployments")
    for d in dnode.findall("scriptdeployment") if dnode is not None else []:
        did = (d.get("scriptid") or "").strip()
        contexts = _text(d, "executioncontext")
        values = {c.tag: (c.text or "").strip() for c in d if c.tag.startswith("custscript")}
        deployments.append(
            Deployment(
                scriptid=did,
                internal_id=str(deploy_no),
                status=(_text(d, "status") or "RELEASED").upper(),
                is_deployed=(_text(d, "isdeployed") or "T").upper() == "T",
                record_type=_record_type(_text(d, "recordtype")),
                event_type=(_text(d, "eventtype") or None),
                contexts=frozenset(c.strip().upper() for c in contexts.split("|") if c.strip()) if contexts else None,
                values=values,
                log_level=(_text(d, "loglevel") or "DEBUG").upper(),
            )
        )
        deploy_no += 1
    return Script(kind, sid, internal_id, file_ref, path, params, deployments), deploy_no
