"""Throw-away keys generated at test time (never committed)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa


@cache
def rsa_key() -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@cache
def ec_key() -> Any:
    return ec.generate_private_key(ec.SECP256R1())


def private_pem(key: Any) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def public_pem(key: Any) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def write_private_key(key: Any, directory: Path) -> Path:
    path = directory / "netsuite-test-key.pem"
    path.write_bytes(private_pem(key))
    return path
