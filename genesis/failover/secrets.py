"""Secrets come from the environment variable the config names, never from the config itself.

One reader, so every missing secret fails the same way: at worker start (and in ``validate``),
naming the variable and the config key, never echoing a value.
"""

from __future__ import annotations

from collections.abc import Mapping

from genesis.failover.errors import ConfigError

__all__ = ["secret_from_env"]


def secret_from_env(environ: Mapping[str, str], var: str, *, field: str, holds: str) -> str:
    """The value of ``var`` (surrounding whitespace removed); ``ConfigError`` naming ``var`` and
    ``field`` when it is unset or blank. ``holds`` says what it must contain ("a Cloudflare
    API token with DNS edit permission for the zone")."""
    value = environ.get(var, "").strip()
    if not value:
        raise ConfigError(
            f"environment variable {var} ({field}) is not set or empty; it must hold {holds}",
            field=field,
            value=var,
        )
    return value
