"""Secrets come from the environment variable the config names, never from the config itself.

One reader, so every missing secret fails the same way: at worker start (and in ``validate``),
naming the variable and the config key, never echoing a value.
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping

from pydantic import BaseModel

from genesis.failover.domain.errors import ConfigError

__all__ = [
    "hidden_from_http_log",
    "known_secrets",
    "redact",
    "secret_env_names",
    "secret_from_env",
]


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


# Credentials the AWS SDK reads by itself (Route53): never named in our config, still secrets.
_IMPLICIT = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
# Shorter values are not scrubbed: replacing "1" in every output would say nothing and hide a lot.
_MIN_SECRET_LEN = 4
_NOT_SECRET = frozenset({"username_env"})


def secret_env_names(config: BaseModel) -> list[str]:
    """Every environment variable ``config`` names as holding a secret (``*_env`` keys, ``*_envs``
    lists and a command hook's ``pass_env``), plus the AWS SDK's own credential variables."""
    names: list[str] = list(_IMPLICIT)

    def walk(value: object) -> None:
        if isinstance(value, BaseModel):
            for key in type(value).model_fields:
                item = getattr(value, key)
                # A username is not a secret, and scrubbing a common word ("failover") from
                # every hook output would garble them.
                if key.endswith("_env") and key not in _NOT_SECRET and isinstance(item, str):
                    names.append(item)
                elif (key == "pass_env" or key.endswith("_envs")) and isinstance(item, list):
                    # pass_env: what a command hook may see; *_envs: several secrets (the
                    # payload keys that still decrypt, [temporal.encryption]).
                    names.extend(str(v) for v in item)
                else:
                    walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    walk(config)
    return list(dict.fromkeys(names))


def known_secrets(config: BaseModel, environ: Mapping[str, str]) -> list[str]:
    """The values of every secret ``config`` refers to that is set in ``environ``: what a hook's
    output, an error text or a log line must never show."""
    values = (environ.get(name, "").strip() for name in secret_env_names(config))
    # Sorted only so the list is stable; redact() orders them longest first itself.
    return sorted({v for v in values if len(v) >= _MIN_SECRET_LEN})


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret replaced by ``***`` (longest first, so a secret that contains
    another is replaced whole)."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


class _HttpLogRedactor(logging.Filter):
    """httpx logs every request's full URL at INFO ("HTTP Request: POST https://hooks.slack.com/
    services/T/B/secret ..."): a worker run with INFO logging would write a Slack or webhook URL
    to its log. This filter, on the "httpx" logger, scrubs the secrets registered with it."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: Counter[str] = Counter()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            scrubbed = redact(message, self.secrets)
            if scrubbed != message:
                record.msg, record.args = scrubbed, ()
        return True

    def hide(self, secrets: Iterable[str]) -> None:
        self.secrets.update(s for s in secrets if s)

    def unhide(self, secrets: Iterable[str]) -> None:
        self.secrets.subtract(s for s in secrets if s)
        self.secrets = +self.secrets  # drop the counts that reached 0


HTTP_LOG_REDACTOR = _HttpLogRedactor()
logging.getLogger("httpx").addFilter(HTTP_LOG_REDACTOR)


@contextlib.contextmanager
def hidden_from_http_log(secrets: Iterable[str]) -> Iterator[None]:
    """While inside, httpx's log lines show ``***`` for each of ``secrets`` (counted, so two
    users of one secret do not unhide it for each other)."""
    held = [s for s in secrets if s]
    HTTP_LOG_REDACTOR.hide(held)
    try:
        yield
    finally:
        HTTP_LOG_REDACTOR.unhide(held)
