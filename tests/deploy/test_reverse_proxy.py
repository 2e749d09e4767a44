"""The slow-header attack, with and without deploy/nginx/ttns.conf in front of `ttns web`.

A gunicorn thread that reads a request is held until the request's head is complete, so a few connections
that send half a request head and wait hold every thread: the webhook endpoint stops answering. Behind
nginx (Debian's package, configured with the shipped example, TLS included) the same connections wait in
nginx, which forwards only complete requests, and are cut off after client_header_timeout: the bridge keeps
answering at once. The bridge runs with 1 worker × 2 threads here so a handful of connections shows what 24
do to the default 2 × 8.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
import urllib3

from bridge.benchmarks.harness import free_port, wait_http

ROOT = Path(__file__).resolve().parents[2]
HEAD = b"POST /webhooks/tiktok HTTP/1.1\r\nHost: bridge.example.com\r\nContent-Type: application/json\r\n"


def _nginx() -> str:
    exe = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    assert exe, "nginx is missing: scripts/bootstrap installs Debian's nginx"
    return exe


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bridge.example.com")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=1))
            .not_valid_after(now + timedelta(days=1)).sign(key, hashes.SHA256()))
    crt, pem = tmp / "fullchain.pem", tmp / "privkey.pem"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    return crt, pem


def render_site(bridge_port: int, http_port: int, https_port: int, crt: Path, key: Path) -> str:
    """deploy/nginx/ttns.conf with this test's ports and certificate; nothing else changes."""
    text = (ROOT / "deploy/nginx/ttns.conf").read_text()
    text = text.replace("server 127.0.0.1:8700;", f"server 127.0.0.1:{bridge_port};")
    text = re.sub(r"\n\s*listen \[::\]:\d+[^;]*;", "", text)
    text = text.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
    text = text.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
    text = text.replace("/etc/letsencrypt/live/bridge.example.com/fullchain.pem", str(crt))
    text = text.replace("/etc/letsencrypt/live/bridge.example.com/privkey.pem", str(key))
    assert "8700" not in text and "/etc/letsencrypt" not in text
    return text


@pytest.fixture
def bridge_web(tmp_path: Path, sqlite_url: str) -> Iterator[int]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TTNS_")}
    env.update(TTNS_DATABASE_URL=sqlite_url, TTNS_WEB_THREADS="2", TTNS_TIKTOK_APP_KEY="k",
               TTNS_TIKTOK_APP_SECRET="s", TTNS_LOG_LEVEL="WARNING")
    proc = subprocess.Popen([sys.executable, "-m", "bridge.cli", "web", "--bind", f"127.0.0.1:{port}", "--workers",
                             "1"], env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", timeout=60)
        yield port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


@pytest.fixture
def nginx(tmp_path: Path, bridge_web: int) -> Iterator[int]:
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    prefix.chmod(0o755)
    tmp_path.chmod(0o755)
    crt, key = _self_signed(prefix)
    http_port, https_port = free_port(), free_port()
    (prefix / "ttns.conf").write_text(render_site(bridge_web, http_port, https_port, crt, key))
    (prefix / "nginx.conf").write_text(f"""
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/ttns.conf;
}}
""")
    exe = _nginx()
    check = subprocess.run([exe, "-t", "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e",
                            str(prefix / "error.log")], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    proc = subprocess.Popen([exe, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e",
                             str(prefix / "error.log"), "-g", "daemon off;"], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if _get(f"https://127.0.0.1:{https_port}/healthz", 2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, (prefix / "error.log").read_text()
            time.sleep(0.1)
        yield https_port
    finally:
        proc.send_signal(signal.SIGQUIT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _get(url: str, timeout: float) -> requests.Response:
    with urllib3.warnings.catch_warnings():
        urllib3.warnings.simplefilter("ignore")
        return requests.get(url, timeout=timeout, verify=False)


def _post_webhook(base: str, timeout: float) -> requests.Response:
    with urllib3.warnings.catch_warnings():
        urllib3.warnings.simplefilter("ignore")
        return requests.post(f"{base}/webhooks/tiktok", data=b"{}", timeout=timeout, verify=False,
                             headers={"Authorization": "0" * 64, "Content-Type": "application/json"})


def _slow_connections(port: int, n: int, tls: bool) -> list[socket.socket]:
    """``n`` connections that each send part of a request head and then wait."""
    out: list[socket.socket] = []
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        if tls:
            s = ctx.wrap_socket(s, server_hostname="bridge.example.com")
        s.sendall(HEAD)
        out.append(s)
    return out


def test_slow_headers_starve_gunicorn_alone(bridge_web: int) -> None:
    base = f"http://127.0.0.1:{bridge_web}"
    assert _post_webhook(base, 3).status_code == 401  # answering: a bad signature is refused
    held = _slow_connections(bridge_web, 4, tls=False)
    try:
        time.sleep(0.5)
        with pytest.raises(requests.exceptions.Timeout):
            _post_webhook(base, 3)  # TikTok gives up after 3 s
    finally:
        for s in held:
            s.close()
    time.sleep(0.5)
    assert _post_webhook(base, 5).status_code == 401  # back once the attackers let go


def test_behind_the_shipped_nginx_config_slow_headers_are_harmless(nginx: int) -> None:
    base = f"https://127.0.0.1:{nginx}"
    held = _slow_connections(nginx, 48, tls=True)  # 24 per default gunicorn thread pool, twice over
    try:
        time.sleep(0.5)
        for _ in range(5):
            t0 = time.monotonic()
            res = _post_webhook(base, 3)
            assert res.status_code == 401 and time.monotonic() - t0 < 2.0  # TikTok allows 3 s
        assert _get(f"{base}/healthz", 3).status_code == 200
        # nginx cuts the slow ones off after client_header_timeout (10 s): 408 or a closed connection.
        deadline = time.monotonic() + 20
        for s in held:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                data = s.recv(1024)
            except (ssl.SSLError, ConnectionError):
                data = b""
            assert data == b"" or data.startswith(b"HTTP/1.1 408"), data[:100]
    finally:
        for s in held:
            s.close()
    assert _post_webhook(base, 3).status_code == 401
