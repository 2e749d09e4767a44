"""Encryption of credentials at rest: Fernet keys from ``TTNS_SECRET_KEY``, rotatable.

``TTNS_SECRET_KEY`` holds one or more Fernet keys separated by commas, newest first. New values
are encrypted with the first key; any listed key decrypts; ``rotate`` re-encrypts with the first.
The order that keeps every running process working during a rotation is in docs/security.md.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr

from bridge.errors import ConfigurationError, RetriableError


class KeyRotationPending(RetriableError):
    """A value was encrypted with a key this process does not hold. Retried, not fatal: during a key
    rotation another process (or this one after its restart) reads it; if the key is really gone the
    retries run out and the job becomes an exception."""


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


class SecretBox:
    def __init__(self, keys: SecretStr | str | None) -> None:
        raw = keys.get_secret_value() if isinstance(keys, SecretStr) else (keys or "")
        parts = [k.strip() for k in raw.split(",") if k.strip()]
        if not parts:
            raise ConfigurationError(
                "TTNS_SECRET_KEY is not set: tokens cannot be stored. Generate one with `ttns keys generate`."
            )
        try:
            self._fernet = MultiFernet([Fernet(p.encode("ascii")) for p in parts])
        except (ValueError, UnicodeEncodeError) as exc:
            raise ConfigurationError(
                "TTNS_SECRET_KEY must be Fernet keys (32 url-safe base64 bytes each), comma-separated; "
                "generate one with `ttns keys generate`"
            ) from exc

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise KeyRotationPending(
                "a stored credential cannot be decrypted with this process's TTNS_SECRET_KEY: another process "
                "already encrypts with a key this one does not list (restart it with the new list; the order "
                "is in docs/security.md), or a key was removed before `ttns keys rotate` ran"
            ) from exc

    def rotate(self, token: str) -> str:
        return self._fernet.rotate(token.encode("ascii")).decode("ascii")
