"""NetSuite sandbox: an emulated account (REST records, SuiteQL, RESTlets, TBA/OAuth 2.0) that runs
the SuiteCloud project's own SuiteScript through a Node harness. See docs/sandbox-netsuite.md."""

from .app import create_app
from .config import Faults, LatencyModel, NetSuiteSandboxConfig, OAuth2Client, TbaToken
from .sandbox import ExecContext, NetSuiteSandbox

__all__ = [
    "ExecContext",
    "Faults",
    "LatencyModel",
    "NetSuiteSandbox",
    "NetSuiteSandboxConfig",
    "OAuth2Client",
    "TbaToken",
    "create_app",
]
