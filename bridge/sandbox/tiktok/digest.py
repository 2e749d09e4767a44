"""Load the generated API digest (``digest.json``) and validate requests against it.

The digest is facts only: per endpoint the method, path template, path / query / body parameters
with types, required flags, enums and documented limits, the response field tree and the
documented error codes. ``Digest.match`` resolves a request path to an endpoint;
``validate_query`` / ``validate_body`` list every problem with a JSON-path-like location.
"""

from __future__ import annotations

import json
import re
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from typing import Any

from .errors import INTERNAL_ERROR

COMMON_QUERY = frozenset({"app_key", "sign", "timestamp", "shop_cipher", "access_token", "version"})
# Documented ranges a named knob may relax, by dotted field path suffix (docs/sandbox-tiktok.md):
# ``TikTokSandboxConfig.inventory_zero_quantity`` lowers inventory ``quantity`` [1, 99,999] to 0.
ZERO_QUANTITY_RELAXATION: dict[str, tuple[int, int]] = {"inventory.quantity": (0, 99999)}
# The code an endpoint answers for an inventory quantity outside its documented range.
QUANTITY_OUT_OF_RANGE = 12052055
# The code each module uses for "invalid parameter" when an endpoint documents none of its own.
_MODULE_INVALID_PARAM = {"product": 12052910, "fulfillment": 21001001, "return_refund": 25001001}
_INVALID_PARAM_MSG = re.compile(r"invalid (param|request param|input param|parameter)", re.IGNORECASE)


@dataclass(frozen=True)
class Endpoint:
    id: str
    method: str
    path: str
    version: str
    module: str
    content_type: str
    shop_cipher: bool
    path_params: dict[str, Any]
    query: dict[str, Any]
    body: dict[str, Any]
    response: dict[str, Any]
    errors: dict[str, str]
    regex: re.Pattern[str] = field(compare=False, repr=False)
    prior_versions: tuple[str, ...] = ()  # earlier versions still documented as live (served alike)
    prior_regexes: tuple[re.Pattern[str], ...] = field(default=(), compare=False, repr=False)
    any_version: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def multipart(self) -> bool:
        return self.content_type.startswith("multipart")

    def error_message(self, code: int, default: str = "") -> str:
        return self.errors.get(str(code)) or default

    def invalid_param_code(self) -> int:
        for code, msg in self.errors.items():
            if _INVALID_PARAM_MSG.search(msg) and code.startswith(("12", "21", "25")):
                return int(code)
        for code, msg in self.errors.items():
            if _INVALID_PARAM_MSG.search(msg):
                return int(code)
        return _MODULE_INVALID_PARAM.get(self.module, INTERNAL_ERROR)

    def response_data_fields(self) -> dict[str, Any]:
        data = self.response.get("data") or {}
        fields: dict[str, Any] = data.get("fields") or {}
        return fields


def _compile(path: str) -> re.Pattern[str]:
    pattern = re.sub(r"\\\{([a-z_]+)\\\}", r"(?P<\1>[^/]+)", re.escape(path))
    return re.compile(f"^{pattern}$")


def _with_version(path: str, version: str) -> str:
    parts = path.split("/")
    if len(parts) > 2 and parts[2].isdigit():
        parts[2] = version
    return "/".join(parts)


def _any_version(path: str) -> re.Pattern[str] | None:
    parts = path.split("/")
    if len(parts) <= 2 or not parts[2].isdigit():
        return None
    pattern = _compile(path).pattern.replace(re.escape(parts[2]), r"\d{6}", 1)
    return re.compile(pattern)


class Digest:
    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.endpoints: list[Endpoint] = []
        for e in raw["endpoints"]:
            self.endpoints.append(
                Endpoint(
                    id=e["id"],
                    method=e["method"],
                    path=e["path"],
                    version=e["version"],
                    module=e["module"],
                    content_type=e["content_type"],
                    shop_cipher=e["shop_cipher"],
                    path_params=e["path_params"],
                    query=e["query"],
                    body=e["body"],
                    response=e["response"],
                    errors=e["errors"],
                    regex=_compile(e["path"]),
                    prior_versions=tuple(e.get("prior_versions") or ()),
                    prior_regexes=tuple(_compile(_with_version(e["path"], v)) for v in e.get("prior_versions") or ()),
                    any_version=_any_version(e["path"]),
                )
            )
        # static paths win over templated ones (…/products/activate vs …/products/{product_id})
        self.endpoints.sort(key=lambda ep: (ep.path.count("{"), ep.path))
        self.webhooks: dict[int, dict[str, Any]] = {w["type"]: w for w in raw.get("webhooks", [])}
        self.reasons: dict[str, Any] = raw.get("reasons", {})

    def match(self, method: str, path: str) -> tuple[Endpoint | None, dict[str, str], bool]:
        """(endpoint, path params, path_exists_with_other_method). A documented earlier version of an
        endpoint (``prior_versions``) resolves to the endpoint itself."""
        other = False
        for ep in self.endpoints:
            m = ep.regex.match(path)
            if not m:
                continue
            if ep.method == method:
                return ep, m.groupdict(), False
            other = True
        for ep in self.endpoints:
            for rx in ep.prior_regexes:
                if ep.method == method and (m := rx.match(path)):
                    return ep, m.groupdict(), False
        return None, {}, other

    def version_not_served(self, method: str, path: str) -> Endpoint | None:
        """The endpoint this path names at a version that is neither current nor documented as live
        (the versioning page: "If you use a retired or invalid version" → 36009014)."""
        for ep in self.endpoints:
            if ep.method == method and ep.any_version is not None and ep.any_version.match(path):
                return ep
        return None

    def endpoint(self, method: str, path: str) -> Endpoint:
        for ep in self.endpoints:
            if ep.method == method and ep.path == path:
                return ep
        raise KeyError(f"{method} {path} is not in the digest")

    def topic_type(self, topic: str) -> int | None:
        for t, w in self.webhooks.items():
            if w["topic"] == topic:
                return t
        return None

    # ------------------------------------------------------------------------------- queries
    def validate_query(self, ep: Endpoint, args: dict[str, str]) -> list[str]:
        problems: list[str] = []
        for name, fact in ep.query.items():
            if name in COMMON_QUERY:
                continue
            raw = args.get(name)
            if raw is None or raw == "":
                if fact.get("required"):
                    problems.append(f"{name}: required query parameter is missing")
                continue
            problems += _check_scalar_or_list(name, raw, fact, from_query=True)
        return problems

    def validate_body(self, ep: Endpoint, body: Any, relax: dict[str, tuple[int, int]] | None = None) -> list[str]:
        """Every problem of ``body``; ``relax`` widens documented ranges by path suffix (named knobs)."""
        if not ep.body:
            return []
        if body is None:
            body = {}
        if not isinstance(body, dict):
            return ["body: must be a JSON object"]
        token = _RELAX.set(relax or {})
        try:
            return _check_object("", body, ep.body)
        finally:
            _RELAX.reset(token)


def _type_ok(value: Any, typ: str) -> bool:
    if typ == "string":
        return isinstance(value, str)
    if typ == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if typ == "bool":
        return isinstance(value, bool)
    if typ == "number":
        return (isinstance(value, (int, float)) and not isinstance(value, bool)) or (
            isinstance(value, str) and _is_decimal(value)
        )
    if typ == "object":
        return isinstance(value, dict)
    if typ == "file":
        return True
    return True


def _is_decimal(text: str) -> bool:
    try:
        Decimal(text)
    except InvalidOperation:
        return False
    return True


_RELAX: ContextVar[dict[str, tuple[int, int]] | None] = ContextVar("tiktok_digest_relax", default=None)


def _range_for(path: str, fact: dict[str, Any]) -> tuple[Decimal, Decimal] | None:
    bare = re.sub(r"\[\d+\]", "", path)
    for suffix, rng in (_RELAX.get() or {}).items():
        if bare == suffix or bare.endswith("." + suffix):
            return Decimal(rng[0]), Decimal(rng[1])
    r = fact.get("range")
    return (Decimal(str(r[0])), Decimal(str(r[1]))) if r else None


def range_problem(path: str) -> bool:
    """Whether a problem line is a documented-range refusal of an inventory quantity."""
    return ".quantity: must be within" in path and "inventory" in path


def _check_scalar_or_list(path: str, raw: str, fact: dict[str, Any], from_query: bool) -> list[str]:
    typ: str = fact.get("type", "string")
    problems: list[str] = []
    if typ.startswith("[]"):
        items = [x for x in raw.split(",")] if from_query else []
        inner = typ[2:]
        limit = fact.get("max_count") or fact.get("max_length")
        if limit and len(items) > int(limit):
            problems.append(f"{path}: at most {limit} values allowed, got {len(items)}")
        for item in items:
            problems += _check_scalar_or_list(path, item, {**fact, "type": inner}, from_query)
        return problems
    if typ == "int":
        try:
            num = int(raw)
        except ValueError:
            return [f"{path}: must be an integer"]
        rng = _range_for(path, fact)
        if rng and not (rng[0] <= num <= rng[1]):
            problems.append(f"{path}: must be within [{rng[0]}, {rng[1]}]")
        return problems
    if typ == "bool":
        if raw.lower() not in ("true", "false"):
            return [f"{path}: must be true or false"]
        return []
    if typ == "number" and not _is_decimal(raw):
        return [f"{path}: must be a number"]
    enum = fact.get("enum")
    if enum and raw not in enum:
        problems.append(f"{path}: {raw!r} is not one of {', '.join(enum)}")
    problems += _string_range(path, raw, fact) if typ == "string" else []
    return problems


def _string_range(path: str, text: str, fact: dict[str, Any]) -> list[str]:
    """A documented range on a decimal string (``price.amount`` "Valid range: [0.01, 7600]")."""
    rng = _range_for(path, fact)
    if not rng:
        return []
    if not _PLAIN_NUMBER.match(text.strip()):  # "abc", "1e2", "NaN": a documented range takes a plain number
        return [f"{path}: must be a number within [{rng[0]}, {rng[1]}]"]
    value = Decimal(text)
    if not (rng[0] <= value <= rng[1]):
        return [f"{path}: must be within [{rng[0]}, {rng[1]}]"]
    return []


_PLAIN_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def _check_value(path: str, value: Any, fact: dict[str, Any]) -> list[str]:
    typ: str = fact.get("type", "string")
    if typ.startswith("[]"):
        if not isinstance(value, list):
            return [f"{path}: must be an array"]
        problems: list[str] = []
        limit = fact.get("max_count") or fact.get("max_length")
        if limit and len(value) > int(limit):
            problems.append(f"{path}: at most {limit} items allowed, got {len(value)}")
        inner = {**fact, "type": typ[2:]}
        inner.pop("max_count", None)
        inner.pop("max_length", None)
        for i, item in enumerate(value):
            problems += _check_value(f"{path}[{i}]", item, inner)
        return problems
    if not _type_ok(value, typ):
        return [f"{path}: must be of type {typ}"]
    if typ == "object":
        return _check_object(path + ".", value, fact.get("fields") or {})
    problems = []
    enum = fact.get("enum")
    if enum and isinstance(value, str) and value not in enum:
        problems.append(f"{path}: {value!r} is not one of {', '.join(enum)}")
    if typ == "int":
        rng = _range_for(path, fact)
        if rng and not (rng[0] <= value <= rng[1]):
            problems.append(f"{path}: must be within [{rng[0]}, {rng[1]}]")
    if typ == "string" and fact.get("max_length") and len(value) > int(fact["max_length"]):
        problems.append(f"{path}: longer than {fact['max_length']} characters")
    if typ == "string":
        problems += _string_range(path, value, fact)
    return problems


def _check_object(prefix: str, obj: dict[str, Any], fields: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for name, fact in fields.items():
        path = f"{prefix}{name}"
        if name not in obj or obj[name] is None:
            if fact.get("required"):
                problems.append(f"{path}: required field is missing")
            continue
        if fact.get("required") and obj[name] == "" and fact.get("type") == "string":
            problems.append(f"{path}: must not be empty")
            continue
        problems += _check_value(path, obj[name], fact)
    return problems


@lru_cache(maxsize=1)
def load_digest() -> Digest:
    text = resources.files(__package__).joinpath("digest.json").read_text(encoding="utf-8")
    return Digest(json.loads(text))
