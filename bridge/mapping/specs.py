"""Mapping specs: YAML files in ``TTNS_SPECS_DIR`` validated by pydantic models.

A spec is data with a small closed vocabulary (airbyte-style): unknown keys are refused, enums are
closed, and every error names the file, the key and the fix, e.g.::

    mapping_specs/orders.yaml: defaults.discounts.seller.mode: 'percent' is not allowed.
      fix: use one of 'discount_line', 'line_rate'

Each flow adds its spec model to ``SPEC_MODELS`` (file stem → model). ``SpecSet`` loads every spec
file present; a flow asks for the one it needs and gets a clear error when it is missing.

Placeholders: the shipped specs name no account's records. Where a merchant must name one, the value is
``"<SET ME: what to put here>"``. A placeholder loads (the console shows the spec, the reference is
generated from it), but ``ttns specs check`` and ``ttns doctor`` list each one with its file, key and
fix, and a flow asking for a spec that still holds one is refused (``SpecNotReadyError``, an
exception for the admin) rather than sending the placeholder to NetSuite or TikTok.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from bridge.errors import FatalError, NeedsHumanError

M = TypeVar("M", bound=BaseModel)

PLACEHOLDER = re.compile(r"^\s*<SET ME(?::\s*(?P<what>.*?))?\s*>\s*$", re.DOTALL)


def is_placeholder(value: object) -> bool:
    """Whether ``value`` is a ``"<SET ME: …>"`` placeholder a merchant still has to replace."""
    return isinstance(value, str) and PLACEHOLDER.match(value) is not None


def placeholder_problems(raw: Any, file: str, prefix: tuple[Any, ...] = ()) -> list[SpecProblem]:
    """One problem (file, key, fix) per placeholder anywhere in a parsed spec file."""
    out: list[SpecProblem] = []
    if isinstance(raw, dict):
        for k, v in raw.items():
            if is_placeholder(k):
                out.append(_placeholder(file, _key((*prefix, k)), str(k)))
            out.extend(placeholder_problems(v, file, (*prefix, k)))
    elif isinstance(raw, list):
        for i, v in enumerate(raw):
            out.extend(placeholder_problems(v, file, (*prefix, i)))
    elif isinstance(raw, str) and is_placeholder(raw):
        out.append(_placeholder(file, _key(prefix), raw))
    return out


def _placeholder(file: str, key: str, text: str) -> SpecProblem:
    match = PLACEHOLDER.match(text)
    what = (match.group("what") if match else "") or "the value this key needs"
    return SpecProblem(file, key, "placeholder not filled in",
                       f"replace it with {what}, then run `ttns specs check`")


class SpecNotReadyError(NeedsHumanError):
    """A flow asked for a spec that still holds ``"<SET ME: …>"`` placeholders."""

    def __init__(self, name: str, problems: list[SpecProblem]) -> None:
        listed = "; ".join(f"{p.file}: {p.key}" for p in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(
            f"{name}.yaml still holds {len(problems)} placeholder(s): {listed}{more}",
            code="spec_placeholder", owner="admin",
            fix_hint=f"replace every <SET ME: …> value in {name}.yaml with the record it asks for "
                     "(`ttns specs check` lists each with its fix), then replay")
        self.problems = problems


@dataclass(frozen=True)
class SpecProblem:
    file: str
    key: str
    problem: str
    fix: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.key}" if self.key else self.file
        return f"{where}: {self.problem}\n  fix: {self.fix}"


class SpecModel(BaseModel):
    """Base of every spec model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def extra_problems(self, file: str) -> list[SpecProblem]:
        """Checks that span keys (e.g. per-shop overrides merged onto defaults); none by default."""
        return []


class SpecError(FatalError):
    """One or more problems in a spec file; ``str()`` lists each with its file, key and fix."""

    def __init__(self, problems: list[SpecProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
        self.message = "\n".join(str(p) for p in problems)  # every problem, however long the list


SPEC_MODELS: dict[str, type[SpecModel]] = {}


def spec_model(name: str) -> Any:
    """Class decorator: register a spec model for ``mapping_specs/<name>.yaml``."""

    def deco(cls: type[SpecModel]) -> type[SpecModel]:
        SPEC_MODELS[name] = cls
        return cls

    return deco


def _key(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for p in loc:
        if isinstance(p, int):
            parts.append(f"[{p}]")
        else:
            parts.append(("." if parts else "") + str(p))
    return "".join(parts)


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed at ``loc`` in ``model`` (best effort, for 'did you mean')."""
    current: Any = model
    for p in loc:
        if isinstance(p, int) or current is None:
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or p not in fields:
            return []
        ann = fields[p].annotation
        current = _model_in(ann)
    fields = getattr(current, "model_fields", None)
    return sorted(fields) if fields else []


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def shop_problems(file: str, model: type[BaseModel], shops: Iterable[str],
                  for_shop: Callable[[str], Any]) -> list[SpecProblem]:
    """Each shop's merged settings must be valid too; problems are named under ``shops.<id>``
    (the empty shop id stands for the defaults alone)."""
    out: list[SpecProblem] = []
    for shop_id in shops:
        try:
            for_shop(shop_id)
        except ValidationError as exc:
            prefix = f"shops.{shop_id}." if shop_id else ""
            for p in problems_from(file, model, exc):
                out.append(SpecProblem(file, f"{prefix}{p.key}".rstrip("."), p.problem, p.fix))
    return out


def market_keys(v: dict[str, Any]) -> dict[str, Any]:
    """``markets`` keys are TikTok shop regions (two upper-case letters), as orders.yaml names them."""
    bad = [k for k in v if len(k) != 2 or not k.isalpha() or not k.isupper()]
    if bad:
        raise ValueError(f"markets keys are TikTok shop regions, not {bad} | fix: use two upper-case letters "
                         "as TikTok names the shop's region (US, GB, DE, FR, …)")
    return v


def market_problems(file: str, model: type[BaseModel], markets: Iterable[str],
                    for_shop: Callable[[str, str], Any]) -> list[SpecProblem]:
    """Each market's merged settings must be valid too; problems are named under ``markets.<region>``."""
    out: list[SpecProblem] = []
    for region in markets:
        try:
            for_shop("", region)
        except ValidationError as exc:
            out += [SpecProblem(file, f"markets.{region}.{p.key}".rstrip("."), p.problem, p.fix)
                    for p in problems_from(file, model, exc)]
    return out


def layered(model: type[M], defaults: BaseModel, *layers: dict[str, Any] | None) -> M:
    """``defaults`` with each layer (a market's, then a shop's settings) merged over it, key by key."""
    present = [layer for layer in layers if layer]
    if not present:
        return defaults  # type: ignore[return-value]
    merged = defaults.model_dump(by_alias=True, exclude_unset=True, mode="json")
    for layer in present:
        merged = deep_merge(merged, layer)
    return model.model_validate(merged)


def problems_from(file: str, model: type[BaseModel], exc: ValidationError) -> list[SpecProblem]:
    out: list[SpecProblem] = []
    for err in exc.errors():
        loc = tuple(err.get("loc", ()))
        key = _key(loc)
        etype = err.get("type", "")
        given = err.get("input")
        if etype == "extra_forbidden":
            allowed = _allowed_keys(model, loc[:-1])
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            fix = f"did you mean '{close[0]}'?" if close else (
                f"remove it; allowed keys here: {', '.join(allowed)}" if allowed else "remove it")
            out.append(SpecProblem(file, key, "unknown key", fix))
        elif etype == "missing":
            out.append(SpecProblem(file, key, "required key is missing", "add it (see the mapping-spec reference)"))
        elif etype in ("literal_error", "enum"):
            expected = err.get("ctx", {}).get("expected", "")
            out.append(SpecProblem(file, key, f"{given!r} is not allowed", f"use one of {expected}"))
        else:
            msg = err.get("msg", "invalid value")
            fix = "correct the value"
            if etype.startswith("decimal") or etype.startswith("float") or etype.startswith("int"):
                fix = "write a number (quote money, e.g. '0.05')"
            elif etype.startswith("string"):
                fix = "write a string (quote ids, e.g. '123')"
            elif etype == "value_error":
                msg = msg.removeprefix("Value error, ")
                msg, _, fix = msg.partition(" | fix: ")
                fix = fix or "see the message"
            out.append(SpecProblem(file, key, f"{msg} (got {given!r})" if given is not None and
                                   not isinstance(given, dict | list) else msg, fix))
    return out


def load_spec(path: Path, model: type[M], *, display_root: Path | None = None) -> M:
    """Parse and validate one spec file, or raise ``SpecError`` naming file, key and fix."""
    shown = str(path.relative_to(display_root)) if display_root and path.is_relative_to(display_root) else str(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError([SpecProblem(shown, "", "file not found",
                                     "create it (start from the example in the mapping-spec reference)")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SpecError([SpecProblem(shown, where, f"not valid YAML: {getattr(exc, 'problem', exc)}",
                                     "fix the YAML syntax (indentation, quotes, colons)")]) from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise SpecError([SpecProblem(shown, "", "the file must hold a mapping of keys", "start with `version: 1`")])
    try:
        spec = model.model_validate(raw)
    except ValidationError as exc:
        raise SpecError(problems_from(shown, model, exc)) from None
    more = spec.extra_problems(shown) if isinstance(spec, SpecModel) else []
    if more:
        raise SpecError(more)
    return spec


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` on top of ``base``; nested mappings merge, everything else replaces."""
    out = dict(base)
    for k, v in override.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def fingerprint(model: BaseModel) -> str:
    """A stable hash of a validated spec (part of every content hash it influences)."""
    blob = json.dumps(model.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _under(key: str, needs: tuple[str, ...]) -> bool:
    """Whether ``key`` (as a SpecProblem names it) lies under one of ``needs``, in the defaults, at the top
    level or in a shop override."""
    padded = f".{key}"
    return any(re.search(rf"^(\.defaults|\.shops\.[^\[]*?)?\.{re.escape(n)}($|[.\[])", padded) for n in needs)


@dataclass
class SpecSet:
    """Every spec in a directory, validated. Missing files are fine until a flow asks for them."""

    directory: Path
    specs: dict[str, SpecModel] = field(default_factory=dict)
    # spec name -> its "<SET ME: …>" placeholders (loaded fine, not ready to use)
    placeholders: dict[str, list[SpecProblem]] = field(default_factory=dict)

    @classmethod
    def load(cls, directory: Path, *, strict: bool = True) -> SpecSet:
        directory = Path(directory)
        out = cls(directory)
        problems: list[SpecProblem] = []
        for name, model in SPEC_MODELS.items():
            path = directory / f"{name}.yaml"
            if not path.exists():
                continue
            try:
                out.specs[name] = load_spec(path, model, display_root=directory.parent)
            except SpecError as exc:
                problems.extend(exc.problems)
                continue
            found = placeholder_problems(yaml.safe_load(path.read_text(encoding="utf-8")),
                                         str(path.relative_to(directory.parent)))
            if found:
                out.placeholders[name] = found
        if directory.exists():
            known = set(SPEC_MODELS)
            for path in sorted(directory.glob("*.y*ml")):
                if path.stem not in known:
                    close = difflib.get_close_matches(path.stem, sorted(known), n=1)
                    problems.append(SpecProblem(
                        str(path.relative_to(directory.parent)), "", "not a known spec file",
                        f"rename it to {close[0]}.yaml" if close else f"known specs: {', '.join(sorted(known))}"))
        if problems and strict:
            raise SpecError(problems)
        return out

    def get(self, name: str, model: type[M], *, needs: tuple[str, ...] = ()) -> M:
        """The spec ``name``; refused (``SpecNotReadyError``) while it holds a placeholder, or, with
        ``needs``, a placeholder under one of those keys (``defaults.`` and ``shops.<id>.`` aside), for a
        caller that reads only part of the file (e.g. the inventory flow reads catalog.yaml's ``match``)."""
        spec = self.specs.get(name)
        if spec is None:
            raise SpecError([SpecProblem(f"{self.directory.name}/{name}.yaml", "", "file not found",
                                         "create it (see the mapping-spec reference in the README)")])
        if not isinstance(spec, model):
            raise TypeError(f"spec {name} is a {type(spec).__name__}, not {model.__name__}")
        found = [p for p in self.placeholders.get(name, []) if not needs or _under(p.key, needs)]
        if found:
            raise SpecNotReadyError(name, found)
        return spec

    def unfilled(self) -> list[SpecProblem]:
        """Every placeholder still in the loaded specs, file by file."""
        return [p for _, found in sorted(self.placeholders.items()) for p in found]

    def __iter__(self) -> Iterator[tuple[str, SpecModel]]:
        return iter(sorted(self.specs.items()))
