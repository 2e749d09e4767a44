"""The wheel is what a server installs: it must carry the SuiteCloud project, the default specs and the
migrations, run from any folder, and the systemd units must verify against the installed `ttns`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out),
                    str(ROOT)], check=True, capture_output=True, text=True, cwd=out)
    (whl,) = out.glob("ttns_bridge-*.whl")
    return whl


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel installed into a folder of its own (dependencies come from the test's environment)."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target", str(target),
                    str(wheel)], check=True, capture_output=True, text=True)
    return target


def test_the_wheel_carries_the_project_files(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "bridge/store/migrations/env.py" in names
    shipped = sorted(p.name for p in (ROOT / "bridge/store/migrations/versions").glob("*.py"))
    assert shipped and all(f"bridge/store/migrations/versions/{n}" in names for n in shipped)
    specs = sorted(p.name for p in (ROOT / "mapping_specs").glob("*.yaml"))
    assert specs and all(f"bridge/_project/mapping_specs/{n}" in names for n in specs)
    for f in ("suitecloud.config.js", "package.json", "src/manifest.xml", "src/deploy.xml", "harness/harness.js"):
        assert f"bridge/_project/suitecloud/{f}" in names, f
    scripts = [p.relative_to(ROOT / "suitecloud").as_posix()
               for p in (ROOT / "suitecloud/src/FileCabinet").rglob("*.js")]
    assert scripts and all(f"bridge/_project/suitecloud/{s}" in names for s in scripts)
    assert not [n for n in names if "node_modules" in n]
    for f in ("systemd/ttns-web.service", "systemd/ttns-worker.service", "systemd/ttns-scheduler.service",
              "systemd/ttns.target", "nginx/ttns.conf", "ttns.toml.example"):
        assert f"bridge/_project/deploy/{f}" in names, f
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)


def _run(installed: Path, cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("TTNS_")}
    base.update(PYTHONPATH=str(installed), HOME=str(cwd), XDG_STATE_HOME=str(cwd / "state"))
    return subprocess.run([str(installed / "bin" / "ttns"), *args], cwd=cwd, env={**base, **(env or {})},
                          capture_output=True, text=True, timeout=120)


def test_the_installed_bridge_runs_from_any_folder(installed: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    probe = subprocess.run([sys.executable, "-c", "import bridge, bridge.resources as r; print(bridge.__file__); "
                            "print(r.default_specs_dir()); print(r.project_dir('suitecloud'))"],
                           env={**os.environ, "PYTHONPATH": str(installed)}, cwd=elsewhere, capture_output=True,
                           text=True, check=True).stdout.split()
    assert all(p.startswith(str(installed)) for p in probe), probe  # the installed copy, not the checkout

    # A configuration file elsewhere, with relative paths: they are relative to its folder.
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "ttns.toml").write_text('database_url = "sqlite:///data/ttns.db"\nspecs_dir = "mapping_specs"\n')
    env = {"TTNS_CONFIG": str(etc / "ttns.toml")}
    res = _run(installed, elsewhere, "exceptions", env=env)
    assert res.returncode == 78 and "ttns db upgrade" in res.stderr and "Traceback" not in res.stderr
    res = _run(installed, elsewhere, "db", "upgrade", env=env)
    assert res.returncode == 0, res.stderr
    assert (etc / "data" / "ttns.db").is_file() and not list(elsewhere.glob("*.db"))
    res = _run(installed, elsewhere, "specs", "init", str(etc / "mapping_specs"), env=env)
    assert res.returncode == 0, res.stderr
    res = _run(installed, tmp_path, "specs", "check", "--offline", env=env)  # another folder again
    assert f"spec file(s) in {etc / 'mapping_specs'} valid" in res.stdout, res.stdout + res.stderr
    assert "placeholder" in res.stderr  # the shipped specs name no account's records
    res = _run(installed, elsewhere, "db", "current", env=env)
    assert res.returncode == 0, res.stderr

    # No configuration at all: the shipped specs, and the database in the state directory.
    res = _run(installed, elsewhere, "config", "show", "--json")
    assert res.returncode == 0, res.stderr
    assert str(installed / "bridge" / "_project" / "mapping_specs") in res.stdout
    assert str(elsewhere / "state" / "ttns" / "ttns.db") in res.stdout


def test_systemd_units_verify(installed: Path, tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing: scripts/bootstrap installs Debian's systemd"
    units = tmp_path / "units"
    units.mkdir()
    for unit in sorted((ROOT / "deploy/systemd").iterdir()):
        text = unit.read_text()
        # The units name /opt/ttns/bin/ttns (docs/deploy.md); here the wheel is installed elsewhere.
        (units / unit.name).write_text(text.replace("/opt/ttns/bin/ttns", str(installed / "bin" / "ttns")))
    names = sorted(p.name for p in units.iterdir())
    assert names == ["ttns-scheduler.service", "ttns-web.service", "ttns-worker.service", "ttns.target"]
    res = subprocess.run([analyze, "verify", *[str(units / n) for n in names]], capture_output=True, text=True,
                         timeout=120)
    # systemd-analyze exits 0 on unknown keys but prints them: any output is a finding.
    assert res.returncode == 0 and not (res.stdout + res.stderr).strip(), res.stdout + res.stderr
    for n in names[:3]:
        text = (units / n).read_text()
        assert "User=ttns" in text and "Environment=TTNS_CONFIG=/etc/ttns/ttns.toml" in text
        assert "RestartPreventExitStatus=65 78" in text
