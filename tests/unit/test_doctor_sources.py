"""`ttns doctor` runs an explicit list of checks; a check that cannot run is a failure, never a skip."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner

from bridge import doctor
from bridge.cli import main
from bridge.doctor import Check, CheckSource, all_checks, check_sources


def passing(_c: Any) -> Iterator[Check]:
    yield Check("fine", True, "all good")


def crashing(_c: Any) -> Iterator[Check]:
    yield Check("first", True)
    raise RuntimeError("boom")


def missing_module(_c: Any) -> Iterator[Check]:
    import bridge.flows.doctor_that_is_not_there  # type: ignore[import-not-found]  # noqa: F401

    yield Check("never", True)


def silent(_c: Any) -> Iterator[Check]:
    yield from ()


def test_every_area_is_listed_explicitly() -> None:
    names = [s.name for s in check_sources()]
    assert names == ["database", "tiktok", "netsuite", "inventory", "mapping specs"]
    assert all(callable(s.run) for s in check_sources())


@pytest.mark.parametrize(
    ("run", "detail"),
    [
        pytest.param(crashing, "check crashed: RuntimeError: boom", id="raises"),
        pytest.param(missing_module, "check crashed: ModuleNotFoundError", id="module-missing"),
        pytest.param(silent, "no check ran", id="yields-nothing"),
    ],
)
def test_a_source_that_cannot_run_is_a_failed_check(run: Any, detail: str) -> None:
    got = list(all_checks(None, [CheckSource("fine", passing), CheckSource("broken", run)]))
    broken = [c for c in got if c.name == "broken"]
    assert got[0] == Check("fine", True, "all good")
    assert len(broken) == 1 and not broken[0].ok and not broken[0].warning
    assert broken[0].detail.startswith(detail) and broken[0].fix


def test_ttns_doctor_exits_non_zero_when_a_check_cannot_run(monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> None:
    monkeypatch.setattr(doctor, "check_sources", lambda: (CheckSource("fine", passing),
                                                         CheckSource("broken", missing_module)))
    res = CliRunner().invoke(main, ["doctor"], env={"TTNS_DATABASE_URL": sqlite_url})
    assert res.exit_code == 1, res.output
    assert "[ok  ] fine: all good" in res.output
    assert "[FAIL] broken: check crashed: ModuleNotFoundError" in res.output
    assert "1 ok, 1 failed" in res.output
    monkeypatch.setattr(doctor, "check_sources", lambda: (CheckSource("fine", passing),))
    res = CliRunner().invoke(main, ["doctor"], env={"TTNS_DATABASE_URL": sqlite_url})
    assert res.exit_code == 0 and "1 ok, 0 failed" in res.output, res.output
