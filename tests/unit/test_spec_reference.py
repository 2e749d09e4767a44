"""The mapping-spec reference in docs/ is the one the spec models generate."""

from pathlib import Path

import pytest

from bridge.mapping.reference import END, START, reference_markdown, with_reference

DOC = Path(__file__).resolve().parents[2] / "docs" / "mapping-specs.md"


def test_docs_reference_matches_the_models() -> None:
    text = DOC.read_text()
    assert with_reference(text, reference_markdown()) == text, (
        "docs/mapping-specs.md is stale: run `ttns specs reference --write docs/mapping-specs.md`")


def test_reference_names_every_spec_file() -> None:
    ref = reference_markdown()
    for stem in ("orders", "inventory", "locations", "carriers", "returns", "settlement"):
        assert f"### `mapping_specs/{stem}.yaml`" in ref


def test_with_reference_replaces_only_between_markers() -> None:
    doc = f"intro\n{START}\nold\n{END}\noutro\n"
    assert with_reference(doc, "new\n") == f"intro\n{START}\nnew\n{END}\noutro\n"


def test_with_reference_refuses_a_document_without_markers() -> None:
    with pytest.raises(ValueError, match="markers"):
        with_reference("no markers here", "x")
