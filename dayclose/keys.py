"""Merchants' BL keys at rest: encrypted with Fernet (AES-128-CBC + HMAC) from the cryptography library.

``DAYCLOSE_KEY_ENCRYPTION_KEY`` holds one or more Fernet keys, comma-separated, newest first:
new values are encrypted with the first, any of them decrypts (MultiFernet), so the key can be
rotated without downtime (see docs/runbook.md).
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from service.secrets import Secret


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
