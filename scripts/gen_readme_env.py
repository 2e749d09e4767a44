"""Regenerate the README's env-var table from the Settings model (`ttns config vars`)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

root = Path(__file__).resolve().parents[1]
readme = root / "README.md"
table = subprocess.run([sys.executable, "-m", "bridge.cli", "config", "vars"], capture_output=True, text=True,
                       check=True, cwd=root).stdout
text = readme.read_text()
new = re.sub(r"<!-- env-table:start -->.*<!-- env-table:end -->",
             lambda _m: "<!-- env-table:start -->\n" + table + "<!-- env-table:end -->", text, flags=re.S)
readme.write_text(new)
print("README env table updated" if new != text else "README env table already current")
