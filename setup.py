"""Build hook: the wheel carries the project files an installed bridge needs besides its Python package.

``mapping_specs/`` (the default specs), ``suitecloud/`` (the SuiteCloud project deployed into NetSuite
and run by the NetSuite sandbox, without ``node_modules``) and ``deploy/`` (systemd units, the nginx
example, the example configuration: docs/deploy.md) are copied into ``bridge/_project/`` of the
build, where ``bridge.resources`` finds them. A source checkout (and an editable install) uses the
repository's own folders instead. Everything else is declared in ``pyproject.toml``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
BUNDLED = ("mapping_specs", "suitecloud", "deploy")
SKIP = shutil.ignore_patterns("node_modules", ".ttns-installed", "coverage", "*.log", "__pycache__")


class BuildWithProjectFiles(build_py):  # type: ignore[misc]
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # the checkout's folders are used in place
        target = Path(self.build_lib) / "bridge" / "_project"
        for name in BUNDLED:
            dest = target / name
            if dest.exists():
                shutil.rmtree(dest)
            shutil.copytree(ROOT / name, dest, ignore=SKIP)


setup(cmdclass={"build_py": BuildWithProjectFiles})
