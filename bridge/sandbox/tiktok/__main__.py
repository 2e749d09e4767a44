"""Run the TikTok Shop sandbox on its own: ``python -m bridge.sandbox.tiktok --port 8710``."""

from __future__ import annotations

import argparse
import json
import signal
import threading

from ...serving import BackgroundServer
from .app import create_app
from .config import TikTokSandboxConfig


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bridge.sandbox.tiktok", description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8710)
    ap.add_argument("--seed", type=int, default=TikTokSandboxConfig.seed)
    ap.add_argument("--no-demo-data", action="store_true", help="start empty (no app, shops or products)")
    ap.add_argument("--webhook-time-scale", type=float, default=1.0, help="multiplies the retry schedule")
    ap.add_argument("--clock-speed", type=float, default=1.0, help="business time per wall-clock second")
    ap.add_argument("--qps", type=float, default=50.0, help="rate limit per app, shop and API")
    ap.add_argument("--redirect-uri", default=TikTokSandboxConfig.demo_redirect_uri,
                    help="the demo app's OAuth redirect URI (the bridge's callback)")
    ap.add_argument("--webhook-url", default=None, help="the demo app's default webhook address")
    ap.add_argument("--webhook-loopback-http", action="store_true",
                    help="accept http:// and a port on loopback webhook addresses (a named leniency)")
    args = ap.parse_args(argv)
    cfg = TikTokSandboxConfig(seed=args.seed, demo_data=not args.no_demo_data, qps=args.qps,
                              webhook_time_scale=args.webhook_time_scale, clock_speed=args.clock_speed,
                              demo_redirect_uri=args.redirect_uri, demo_webhook_url=args.webhook_url,
                              webhook_loopback_http=args.webhook_loopback_http)
    app = create_app(cfg)
    server = BackgroundServer(app, host=args.host, port=args.port, name="tiktok-sandbox").start()
    state = app.extensions["tiktok_sandbox"].describe()
    print(f"TikTok Shop sandbox on {server.url}")
    print(json.dumps({"apps": state["apps"], "shops": [{k: s[k] for k in ("id", "name", "region", "cipher")}
                                                       for s in state["shops"]]}, indent=2))
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    server.stop()
    app.extensions["tiktok_sandbox"].close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
