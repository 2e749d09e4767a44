"""Run the NetSuite sandbox in the foreground: ``python -m bridge.sandbox.netsuite [options]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from werkzeug.serving import make_server

from .app import create_app
from .config import NetSuiteSandboxConfig, config_from_toml


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bridge.sandbox.netsuite", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8711)
    parser.add_argument("--config", type=Path, help="TOML settings (see docs/sandbox-netsuite.md)")
    parser.add_argument("--suitecloud", type=Path, help="SuiteCloud project directory (runs its scripts)")
    parser.add_argument("--no-scripts", action="store_true", help="do not run SuiteScript")
    args = parser.parse_args(argv)
    cfg = config_from_toml(args.config) if args.config else NetSuiteSandboxConfig()
    if args.suitecloud:
        cfg.suitecloud_dir = args.suitecloud.resolve()
    if args.no_scripts:
        cfg.run_scripts = False
    app = create_app(cfg)
    server = make_server(args.host, args.port, app, threaded=True)
    print(f"NetSuite sandbox for {cfg.account_id} on http://{args.host}:{server.server_port}", file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        app.extensions["netsuite_sandbox"].close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
