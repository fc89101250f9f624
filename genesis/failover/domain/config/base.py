"""What every config section shares: strict models, and the validators for names, secrets
(always the NAME of an environment variable), server addresses and API URLs.

Errors of type ``SECRET_ERROR`` never echo the value: it may be a secret.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from genesis.failover.domain.addresses import split_host_port

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# The longest duration any setting may name. Beyond it `timedelta` overflows (1e300 seconds) or a
# typo passes for a setting (a cooldown of 30 years): the monitor would crash on it in a workflow
# task, over and over, instead of the loader refusing it once.
MAX_SECONDS = 366 * 86400


class StrictModel(BaseModel):
    # No inf or nan (TOML has both): `interval_seconds = inf` would load, then fail to reach the
    # monitor at all (JSON has no infinity) and leave the site unwatched.
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False
    )

    @field_validator("*")
    @classmethod
    def _durations_fit(cls, value: object, info: ValidationInfo) -> object:
        name = info.field_name or ""
        if (
            name.endswith("_seconds")
            and isinstance(value, int | float)
            and not isinstance(value, bool)
            and abs(value) > MAX_SECONDS
        ):
            raise ValueError(f"must be at most {MAX_SECONDS} seconds (366 days)")
        return value


# Errors of this type never echo the value: it may be a secret (a password in a URL, or a secret
# pasted where the NAME of its environment variable belongs).
SECRET_ERROR = "secret_value"


def _check_env_name(value: str) -> str:
    if not _ENV_NAME.fullmatch(value):
        raise PydanticCustomError(
            SECRET_ERROR,
            "must be the NAME of an environment variable (letters, digits, '_'), "
            "not the secret itself",
        )
    return value


EnvVarName = Annotated[str, AfterValidator(_check_env_name)]


def _check_server_address(value: str) -> str:
    """Checked at load time: a typo'd nameserver would otherwise only show during a failover's
    propagation check. config_error_from adds the field and "(got <value>)"."""
    split_host_port(value)
    return value


ServerAddress = Annotated[str, AfterValidator(_check_server_address)]


_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")


def _check_domain(value: str) -> str:
    """A DNS name: a typo'd one ("genesis.example.com,") would otherwise only show when the
    first failover asks the provider for it."""
    labels = value.removesuffix(".").split(".")
    if labels[0] == "*":  # a wildcard record
        labels = labels[1:]
    if len(value.removesuffix(".")) > 253 or not labels or not all(map(_LABEL.match, labels)):
        raise ValueError(
            "must be a DNS name: dot-separated labels of 1-63 letters, digits, '-' or '_' "
            "(not starting or ending with '-'), 253 characters at most"
        )
    return value


DomainName = Annotated[str, AfterValidator(_check_domain)]


def _check_api_url(value: str) -> str:
    if not re.match(r"^https?://[^/\s]+", value):
        raise ValueError("must be an http:// or https:// URL")
    if re.match(r"^https?://[^/@]*@", value):
        raise PydanticCustomError(
            SECRET_ERROR, "must not contain credentials (they belong in the environment)"
        )
    return value.rstrip("/")


ApiUrl = Annotated[str, AfterValidator(_check_api_url)]
