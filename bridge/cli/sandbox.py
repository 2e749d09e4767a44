"""`ttns sandbox`: both emulators, one catalog, and the settings that point a bridge at them."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import click


def register(main: click.Group) -> None:
    @main.command()
    @click.option("--tiktok-port", default=8701, show_default=True)
    @click.option("--netsuite-port", default=8702, show_default=True)
    @click.option("--bridge-port", default=8700, show_default=True,
                  help="Where you will run `ttns web` (SuiteScript and TikTok webhooks call it there).")
    @click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=Path(".ttns-sandbox"),
                  show_default=True, help="Keys and the env file are written here.")
    @click.option("--no-scripts", is_flag=True, help="Do not run the SuiteScript project in the NetSuite sandbox.")
    def sandbox(tiktok_port: int, netsuite_port: int, bridge_port: int, workdir: Path, no_scripts: bool) -> None:
        """Run the TikTok Shop and NetSuite sandboxes until Ctrl-C.

        Writes WORKDIR/bridge.env with every TTNS_* setting a bridge needs to use them; then
        `set -a; . WORKDIR/bridge.env; set +a; ttns db upgrade; ttns web & ttns worker & ttns shops connect …`.
        """
        from bridge.private_files import write_private
        from bridge.sandbox.world import SandboxWorld

        bridge_url = f"http://127.0.0.1:{bridge_port}"
        world = SandboxWorld(workdir, ports=(tiktok_port, netsuite_port, 0), run_scripts=not no_scripts,
                             bridge_url=bridge_url)
        world.start()
        values = world.settings_values(database_url=f"sqlite:///{workdir.resolve() / 'bridge.db'}",
                                       public_url=bridge_url, web_bind=f"127.0.0.1:{bridge_port}")
        env_file = workdir / "bridge.env"
        write_private(env_file, "".join(f"TTNS_{k.upper()}={v}\n" for k, v in values.items()).encode())
        code = world.tiktok_sb.authorize(world.app_key, shop_id=world.shop_id)
        click.echo(f"TikTok Shop sandbox  {world.tiktok_url}   (US shop {world.shop_id})")
        click.echo(f"NetSuite sandbox     {world.netsuite_url}   (account {world.netsuite_config.account_id})")
        click.echo(f"bridge settings      {env_file}  (secrets inside: keep it private)")
        click.echo(f"mapping specs        {world.specs_dir}  (mapping_specs/ + the overlay bridge/sandbox/specs/)")
        click.echo(f"\nconnect the shop:    ttns shops connect --auth-code {code}   (valid 30 minutes)")
        click.echo("or open the bridge's /connect/tiktok page once `ttns web` runs.\nCtrl-C stops the sandboxes.")
        stop = threading.Event()
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        stop.wait()
        world.close()
