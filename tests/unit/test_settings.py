from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bridge.cli import main
from bridge.settings import Settings, env_var_table


def test_env_prefix_and_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TTNS_NETSUITE_CONCURRENCY", "3")
    monkeypatch.setenv("TTNS_PUBLIC_URL", "https://bridge.example.com/")
    s = Settings()
    assert s.netsuite_concurrency == 3 and s.public_url == "https://bridge.example.com"
    assert s.database_url.startswith("sqlite") and s.is_sqlite


def test_toml_file_named_by_ttns_config_and_env_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = tmp_path / "ttns.toml"
    cfg.write_text('worker_threads = 7\nnetsuite_account = "123_SB1"\ntiktok_app_key = "from-file"\n')
    monkeypatch.setenv("TTNS_CONFIG", str(cfg))
    monkeypatch.setenv("TTNS_TIKTOK_APP_KEY", "from-env")
    s = Settings()
    assert s.worker_threads == 7 and s.netsuite_account == "123_SB1" and s.tiktok_app_key == "from-env"


def test_missing_config_file_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TTNS_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(FileNotFoundError, match="nope.toml"):
        Settings()


def test_bad_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TTNS_NETSUITE_AUTH", "password")
    with pytest.raises(Exception, match="netsuite_auth"):
        Settings()


def test_config_show_redacts_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TTNS_TIKTOK_APP_SECRET", "super-secret-value")
    monkeypatch.setenv("TTNS_DATABASE_URL", "postgresql+psycopg://ttns:db-password@db/ttns")
    result = CliRunner().invoke(main, ["config", "show", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["tiktok_app_secret"] == "********"
    assert "super-secret-value" not in result.output and "db-password" not in result.output
    assert data["database_url"].startswith("postgresql+psycopg://ttns:***@db")


def test_the_readme_env_table_is_current() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    generated = CliRunner().invoke(main, ["config", "vars"]).output
    missing = [name for name, _d, _m in env_var_table() if f"`{name}`" not in readme]
    assert missing == [], f"README lacks {missing}: run `python scripts/gen_readme_env.py`"
    assert generated in readme, "the README env table is stale: run `python scripts/gen_readme_env.py`"


def test_a_worker_at_the_defaults_has_threads_for_every_netsuite_slot_and_more(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """With fewer job threads than NetSuite slots one worker process could never fill its share of the
    account's concurrency (it was 4 threads for 5 slots)."""
    for name in ("TTNS_WORKER_THREADS", "TTNS_NETSUITE_CONCURRENCY", "TTNS_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    s = Settings()
    assert s.worker_threads > s.netsuite_concurrency
    assert s.netsuite_concurrency == 5  # NetSuite's default account limit (docs/netsuite.md, "Concurrency share")
