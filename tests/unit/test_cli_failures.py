"""Every `ttns` command fails like a tool: one `Error:` line with the fix, a non-zero exit code, no traceback.

The commands are discovered from the CLI itself, so a command another area adds is covered the day it lands.
Each runs with no configuration at all (no TTNS_* variable, no config file, an empty working directory),
against an unmigrated database, against a migrated one with no credentials, and with bad arguments.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from bridge.cli import main
from bridge.cli.errors import EX_CONFIG, EX_DATAERR, EX_FAILURE, EX_SOFTWARE, EX_USAGE

# Commands that build their own world (sandboxes, a fresh database) and run for minutes: only their argument
# handling is exercised here (the demo, chaos and bench have their own tests).
SELF_CONTAINED = {"demo", "sandbox", "chaos", "bench flash-sale", "bench queue", "bench webhooks"}
# Long-running processes: they must refuse before starting when something is wrong (tested below), and would
# run until stopped when nothing is.
PROCESSES = {"web", "worker", "scheduler"}
# Changes the state the other commands are run against (it is the fix they name).
MUTATES = {"db upgrade"}


def leaf_commands() -> Iterator[tuple[str, click.Command]]:
    def walk(cmd: click.Command, path: list[str]) -> Iterator[tuple[str, click.Command]]:
        if isinstance(cmd, click.Group):
            if cmd.invoke_without_command:
                yield " ".join(path), cmd
            for name, sub in sorted(cmd.commands.items()):
                yield from walk(sub, [*path, name])
        else:
            yield " ".join(path), cmd

    yield from walk(main, [])


ALL = sorted(leaf_commands(), key=lambda kv: kv[0])


def placeholder_args(cmd: click.Command) -> list[str]:
    """Plausible values for the required parameters (ids that do not exist, a date)."""
    args: list[str] = []
    for p in cmd.params:
        if not p.required:
            continue
        if isinstance(p.type, click.types.IntParamType):
            value = "999"
        elif p.name == "since":
            value = "2026-11-01"
        elif isinstance(p.type, click.Choice):
            value = str(p.type.choices[0])
        else:
            value = "X"
        if isinstance(p, click.Option):
            if p.prompt:
                continue  # answered on stdin
            args += [p.opts[0], value]
        else:
            args.append(value)
    return args


@pytest.fixture
def bare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No configuration: no TTNS_* variable, an empty home and working directory."""
    for key in list(os.environ):
        if key.startswith("TTNS_") or key == "STATE_DIRECTORY":
            monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    return tmp_path


def run(args: list[str]) -> Result:
    return CliRunner().invoke(main, args, input="pw-12345678\npw-12345678\n", catch_exceptions=True)


def assert_tool_like(name: str, res: Result) -> None:
    out = res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), (
        f"`ttns {name}` raised {res.exception!r}:\n{out}")
    assert "Traceback" not in out and '  File "' not in out, f"`ttns {name}` printed a traceback:\n{out}"
    assert "[SQL:" not in out and "sqlalche.me" not in out, f"`ttns {name}` printed raw SQL:\n{out}"
    assert res.exit_code != EX_SOFTWARE, f"`ttns {name}` hit an internal error:\n{out}"
    if res.exit_code != 0 and name != "doctor":  # doctor's report names each failed check and its fix
        errors = [ln for ln in out.splitlines() if ln.startswith("Error:")]
        assert len(errors) == 1, f"`ttns {name}` (exit {res.exit_code}) should say what is wrong in one line:\n{out}"


def test_the_sweep_covers_every_command() -> None:
    names = {n for n, _ in ALL}
    assert {"exceptions", "shops list", "replay", "orders sync", "inventory show", "settlement report",
            "specs check", "specs diff", "web", "worker", "scheduler", "doctor"} <= names


@pytest.mark.parametrize("name,cmd", [(n, c) for n, c in ALL if n not in SELF_CONTAINED | MUTATES],
                         ids=[n for n, _ in ALL if n not in SELF_CONTAINED | MUTATES])
def test_no_config_and_an_unmigrated_database(bare: Path, name: str, cmd: click.Command) -> None:
    res = run([*name.split(), *placeholder_args(cmd)])
    assert_tool_like(name, res)
    if name in {"exceptions", "shops list", "replay", "orders sync", "inventory show", "settlement report",
                "inbox", "doctor", *PROCESSES} and name != "doctor":
        assert res.exit_code == EX_CONFIG, res.output
        assert "has no tables" in res.output and "ttns db upgrade" in res.output
        # No configuration file is in use: the message says which database it looked at (not one in the cwd).
        assert str(bare / "state" / "ttns" / "ttns.db") in res.output


@pytest.fixture
def migrated(bare: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    res = run(["db", "upgrade"])
    assert res.exit_code == 0, res.output
    return bare


@pytest.mark.parametrize("name,cmd", [(n, c) for n, c in ALL if n not in SELF_CONTAINED | MUTATES | PROCESSES],
                         ids=[n for n, _ in ALL if n not in SELF_CONTAINED | MUTATES | PROCESSES])
def test_no_config_and_no_credentials(migrated: Path, name: str, cmd: click.Command) -> None:
    res = run([*name.split(), *placeholder_args(cmd)])
    assert_tool_like(name, res)


def test_local_data_needs_no_remote_credentials(migrated: Path) -> None:
    for args in (["exceptions"], ["shops", "list"], ["inbox"], ["settlement", "report"]):
        res = run(args)
        assert res.exit_code == 0, (args, res.output)
    res = run(["inventory", "show", "SKU-1"])
    assert res.exit_code == EX_FAILURE and "no active shop" in res.output  # not a NetSuite credentials error
    # Commands that must talk to NetSuite or TikTok name the missing setting.
    res = run(["netsuite", "query", "SELECT id FROM item"])
    assert res.exit_code == EX_CONFIG and "TTNS_NETSUITE_ACCOUNT" in res.output


def test_replay_of_an_unknown_exception_fails(migrated: Path) -> None:
    res = run(["replay", "999"])
    assert res.exit_code == EX_FAILURE
    assert "no exception 999" in res.output


def test_specs_check_from_another_folder_uses_the_shipped_specs(migrated: Path) -> None:
    res = run(["specs", "check", "--offline"])
    assert "0 spec file(s)" not in res.output and "orders" in res.output
    # The shipped specs name no account's records: their placeholders are listed and fail the check.
    assert res.exit_code == EX_FAILURE and "placeholder" in res.output


def test_a_missing_specs_folder_is_an_error(migrated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TTNS_SPECS_DIR", str(migrated / "nowhere"))
    res = run(["specs", "check", "--offline"])
    assert res.exit_code == EX_CONFIG and "does not exist" in res.output and "ttns specs init" in res.output


@pytest.mark.parametrize("process", sorted(PROCESSES))
def test_processes_refuse_a_broken_spec(migrated: Path, monkeypatch: pytest.MonkeyPatch, process: str) -> None:
    specs = migrated / "specs"
    assert run(["specs", "init", str(specs)]).exit_code == 0
    orders = specs / "orders.yaml"
    orders.write_text(orders.read_text().replace("version: 1", "version: 1\nshipping_itme: 5", 1))
    monkeypatch.setenv("TTNS_SPECS_DIR", str(specs))
    res = run([process])
    assert_tool_like(process, res)
    assert res.exit_code == EX_DATAERR, res.output
    assert "orders.yaml: shipping_itme: unknown key" in res.output and "fix:" in res.output


@pytest.mark.parametrize("name,cmd", ALL, ids=[n for n, _ in ALL])
def test_bad_arguments(bare: Path, name: str, cmd: click.Command) -> None:
    res = run([*name.split(), "--no-such-option"])
    assert_tool_like(name, res)
    assert res.exit_code == EX_USAGE
    ints = [p for p in cmd.params if isinstance(p, click.Argument) and isinstance(p.type, click.types.IntParamType)]
    if ints:
        res = run([*name.split(), "not-a-number"])
        assert_tool_like(name, res)
        assert res.exit_code == EX_USAGE


def test_debug_shows_the_traceback(bare: Path) -> None:
    res = CliRunner().invoke(main, ["--debug", "netsuite", "query", "SELECT 1"], catch_exceptions=True)
    # Unmigrated: a known error stays one line; an unexpected one would propagate (CliRunner catches it).
    assert res.exit_code == EX_CONFIG
    from bridge.cli.errors import describe

    err = describe(ZeroDivisionError("division by zero"))
    assert err.exit_code == EX_SOFTWARE and "--debug" in err.format_message()
