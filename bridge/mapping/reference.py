"""The mapping-spec reference, generated from the spec models (``ttns specs reference``), so the
README's reference cannot drift from what the bridge accepts."""

from __future__ import annotations

import types
import typing
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from bridge.mapping.specs import SPEC_MODELS


def _type_name(annotation: Any) -> str:
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin in (typing.Union, types.UnionType):
        parts = [a for a in args if a is not type(None)]
        inner = " \\| ".join(_type_name(a) for a in parts)
        return f"{inner} (optional)" if len(parts) < len(args) else inner
    if origin in (list, tuple, set, frozenset):
        return f"list of {_type_name(args[0])}" if args else "list"
    if origin is dict:
        return f"map {_type_name(args[0])} → {_type_name(args[1])}" if args else "map"
    if origin is typing.Annotated:
        return _type_name(args[0])
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
        return {"str": "string", "int": "integer", "bool": "true/false", "Decimal": "decimal",
                "float": "number", "Path": "path"}.get(annotation.__name__, annotation.__name__)
    return str(annotation).replace("typing.", "")


def _default(field: FieldInfo) -> str:
    if field.default is not PydanticUndefined:
        value = field.default
        if isinstance(value, BaseModel):
            return ""
        return "" if value in (None, {}, []) else f"`{value}`"
    if field.default_factory is not None:
        return ""
    return "**required**"


def _models_of(model: type[BaseModel], seen: list[type[BaseModel]]) -> None:
    if model in seen:
        return
    seen.append(model)
    for field in model.model_fields.values():
        for candidate in _nested(field.annotation):
            _models_of(candidate, seen)


def _nested(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    out: list[type[BaseModel]] = []
    for arg in get_args(annotation):
        out.extend(_nested(arg))
    return out


def reference_markdown() -> str:
    """Markdown for every registered spec: one table per model, nested models after their parent."""
    from bridge.mapping import register_spec_models

    register_spec_models()
    out: list[str] = []
    for file_stem, model in sorted(SPEC_MODELS.items()):
        out.append(f"### `mapping_specs/{file_stem}.yaml`\n")
        doc = (model.__doc__ or "").strip()
        if doc:
            out.append(doc.split("\n\n")[0].replace("\n", " ") + "\n")
        models: list[type[BaseModel]] = []
        _models_of(model, models)
        for m in models:
            out.append(f"#### {m.__name__}\n")
            mdoc = (m.__doc__ or "").strip()
            if mdoc and m is not model:
                out.append(mdoc.split("\n\n")[0].replace("\n", " ") + "\n")
            out.append("| key | type | default | meaning |\n|---|---|---|---|")
            for name, field in m.model_fields.items():
                key = field.alias or name
                desc = (field.description or "").replace("|", "\\|").replace("\n", " ")
                out.append(f"| `{key}` | {_type_name(field.annotation)} | {_default(field)} | {desc} |")
            out.append("")
    return "\n".join(out).rstrip() + "\n"


START, END = "<!-- spec-reference:start -->", "<!-- spec-reference:end -->"


def with_reference(document: str, reference: str) -> str:
    """``document`` with the text between the reference markers replaced by ``reference``."""
    head, sep, rest = document.partition(START)
    _old, sep2, tail = rest.partition(END)
    if not sep or not sep2:
        raise ValueError(f"the document has no {START} … {END} markers to fill")
    return f"{head}{START}\n{reference}{END}{tail}"
