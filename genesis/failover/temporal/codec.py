"""Encryption at rest for what the site's workflows store in Temporal: an AES-256-GCM
``PayloadCodec``.

Every payload (workflow inputs and results, activity arguments and results, queries, updates,
memos, User Metadata summaries, and failure texts with the encoded-attributes failure converter)
leaves the client or the worker as::

    metadata: {"encoding": "binary/encrypted", "encryption-key-id": "<16 hex>"}
    data:     <12-byte nonce> <ciphertext of the original Payload protobuf> <16-byte GCM tag>

The key id is a fingerprint of the key (never the key): the current key encrypts, and any key
the codec holds decrypts, so keys rotate without losing the histories older keys wrote. The
nonce is random per payload; the key id and the encoding are bound as associated data, so a
payload whose metadata was edited fails like one whose bytes were. Payloads that are not
encrypted (written before encryption was turned on) pass through ``decode`` unchanged.

Errors (``UnknownKeyError``, ``TamperedPayloadError``) say which key id and what went wrong,
never a key or a plaintext. Keys come from the environment variables ``[temporal.encryption]``
names (``EncryptionCodec.from_settings``); docs/security.md says how to make and rotate one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Iterable, Mapping, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from genesis.failover.domain.config.site import EncryptionSettings
from genesis.failover.domain.errors import ConfigError
from genesis.failover.domain.secrets import secret_from_env

__all__ = [
    "ENCODING",
    "KEY_BYTES",
    "KEY_ID_KEY",
    "CodecError",
    "EncryptionCodec",
    "TamperedPayloadError",
    "UnknownKeyError",
    "key_id",
    "new_key",
]

ENCODING = b"binary/encrypted"
KEY_ID_KEY = "encryption-key-id"
KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # GCM's standard nonce; random per payload (2^32 payloads per key is far off)
_KEY_ID_CONTEXT = b"genesis-failover payload key v1\x00"


class CodecError(Exception):
    """A payload could not be decrypted. Retrying with the same keys cannot help; a worker
    given the missing key (or a client with the right one) can."""


class UnknownKeyError(CodecError):
    """The payload was encrypted with a key this codec does not hold."""

    def __init__(self, key_id: str, known: Iterable[str]) -> None:
        self.key_id = key_id
        self.known = sorted(known)
        super().__init__(
            f"payload encrypted with key {key_id!r}, which this codec does not hold "
            f"(it holds {', '.join(self.known)}): put that key in "
            "[temporal.encryption] previous_key_envs"
        )


class TamperedPayloadError(CodecError):
    """The payload's bytes or metadata were changed after encryption (or it is not ours)."""


def key_id(key: bytes) -> str:
    """The key's public fingerprint (16 hex digits): what each payload names its key by."""
    return hashlib.sha256(_KEY_ID_CONTEXT + key).hexdigest()[:16]


def new_key() -> str:
    """A fresh key, as the environment variable holds it (base64 of 32 random bytes)."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode()


def _aad(kid: str) -> bytes:
    return ENCODING + b"\x00" + kid.encode()


class EncryptionCodec(PayloadCodec):
    """AES-256-GCM with ``key`` (32 bytes); ``previous`` keys decrypt only."""

    def __init__(self, key: bytes, previous: Sequence[bytes] = ()) -> None:
        for k in (key, *previous):
            if len(k) != KEY_BYTES:
                raise ValueError(f"an AES-256 key is {KEY_BYTES} bytes, got {len(k)}")
        self.key_id = key_id(key)
        self._ciphers = {key_id(k): AESGCM(k) for k in (*previous, key)}

    @property
    def key_ids(self) -> list[str]:
        """Every key id this codec decrypts, the current one first."""
        return [self.key_id, *(k for k in self._ciphers if k != self.key_id)]

    @classmethod
    def from_settings(
        cls, settings: EncryptionSettings, environ: Mapping[str, str] | None = None
    ) -> EncryptionCodec:
        """The codec for ``[temporal.encryption]``, its keys read from ``environ`` (default:
        this process's). ``ConfigError`` naming the field and the variable (never its value)
        when a key is unset, not base64 or not 32 bytes."""
        env = os.environ if environ is None else environ
        current = _key_from_env(env, settings.key_env, "temporal.encryption.key_env")
        previous = [
            _key_from_env(env, var, f"temporal.encryption.previous_key_envs[{i}]")
            for i, var in enumerate(settings.previous_key_envs)
        ]
        return cls(current, previous)

    # -- one payload at a time (the codec server and the async API below) --------------------

    def encrypt(self, payload: Payload) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self.key_id].encrypt(
            nonce, payload.SerializeToString(), _aad(self.key_id)
        )
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID_KEY: self.key_id.encode()},
            data=nonce + sealed,
        )

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # never encrypted (written before encryption was turned on)
        raw_id = payload.metadata.get(KEY_ID_KEY)
        if raw_id is None:
            raise TamperedPayloadError(f"encrypted payload without its {KEY_ID_KEY!r} metadata")
        kid = raw_id.decode("ascii", "replace")
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise UnknownKeyError(kid, self._ciphers)
        data = payload.data
        try:
            plain = cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], _aad(kid))
        except InvalidTag:
            raise TamperedPayloadError(
                f"payload encrypted with key {kid!r} fails its integrity check: "
                "it was changed after encryption"
            ) from None
        decoded = Payload()
        try:
            decoded.ParseFromString(plain)
        except DecodeError:  # authentic bytes that are not a payload: not written by us
            raise TamperedPayloadError(
                f"payload encrypted with key {kid!r} does not hold a payload"
            ) from None
        return decoded

    # -- the PayloadCodec API (clients and workers) ---------------------------------------------

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(p) for p in payloads]


def _key_from_env(environ: Mapping[str, str], var: str, field: str) -> bytes:
    holds = f"a payload key: base64 of {KEY_BYTES} random bytes (see docs/security.md)"
    value = secret_from_env(environ, var, field=field, holds=holds)
    try:
        # Standard or URL-safe alphabet; padding required, nothing else allowed.
        key = base64.b64decode(value.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(
            f"environment variable {var} ({field}) is not base64; it must hold {holds}",
            field=field,
            value=var,
        ) from None
    if len(key) != KEY_BYTES:
        raise ConfigError(
            f"environment variable {var} ({field}) decodes to {len(key)} bytes, not "
            f"{KEY_BYTES}; it must hold {holds}",
            field=field,
            value=var,
        )
    return key
