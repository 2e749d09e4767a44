"""TikTok Shop sandbox: an emulator of the TikTok Shop Open API (DESIGN §6).

``create_app(config)`` returns the Flask app; ``app.extensions["tiktok_sandbox"]`` is the live
``TikTokSandbox`` whose methods mirror the control API under ``/_sandbox``. See
docs/sandbox-tiktok.md.
"""

from .app import EXTENSION, create_app
from .config import FaultConfig, TikTokSandboxConfig
from .errors import ApiError, SandboxError
from .sandbox import TikTokSandbox
from .signing import request_sign, webhook_signature

__all__ = [
    "EXTENSION",
    "ApiError",
    "FaultConfig",
    "SandboxError",
    "TikTokSandbox",
    "TikTokSandboxConfig",
    "create_app",
    "request_sign",
    "webhook_signature",
]
