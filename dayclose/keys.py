"""Merchants' BL keys at rest: encrypted with Fernet (AES-128-CBC + HMAC) from the cryptography library.

``DAYCLOSE_KEY_ENCRYPTION_KEY`` holds one or more Fernet keys, comma-separated, newest first:
new values are encrypted with the first, any of them decrypts (MultiFernet), so the key can be
rotated without downtime (see docs/runbook.md).
"""

from __future__ import annotations

import re

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from dayclose.secrets import Secret

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def canonical_key(text: str) -> str:
    """A merchant's BL public key in the one form we store, look up and compare: a GUID in lower case,
    hyphenated (RFC 9562 §4: hex digits are case-insensitive on input, lower case on output).

    Everything that names a key (the wizard's input, the stored key, its look-up digest, BL's callbacks)
    goes through here, so ``ABC…`` and ``abc…`` can never be two keys. Raises ValueError (naming no part
    of the key) when ``text`` is not a GUID."""
    candidate = text.strip()
    if not _GUID.fullmatch(candidate):
        raise ValueError("not a GUID (8-4-4-4-12 hexadecimal characters)")
    return candidate.lower()


class KeyVaultError(RuntimeError):
    pass


class KeyVault:
    def __init__(self, keys: Secret) -> None:
        parts = [k.strip() for k in keys.reveal().split(",") if k.strip()]
        if not parts:
            raise KeyVaultError("DAYCLOSE_KEY_ENCRYPTION_KEY is empty")
        try:
            self._fernet = MultiFernet([Fernet(k.encode()) for k in parts])
        except ValueError:
            raise KeyVaultError("DAYCLOSE_KEY_ENCRYPTION_KEY is not a list of Fernet keys") from None

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode()

    def encrypt(self, value: Secret) -> bytes:
        return self._fernet.encrypt(value.reveal().encode())

    def decrypt(self, token: bytes) -> Secret:
        try:
            return Secret(self._fernet.decrypt(bytes(token)).decode())
        except InvalidToken:
            raise KeyVaultError("stored key cannot be decrypted with the configured key(s)") from None

    def rotate(self, token: bytes) -> bytes:
        """Re-encrypt with the newest key."""
        return self._fernet.rotate(bytes(token))
