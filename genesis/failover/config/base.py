"""What every config section shares: strict models, and the validators for names, secrets
(always the NAME of an environment variable), server addresses and API URLs.

Errors of type ``SECRET_ERROR`` never echo the value: it may be a secret.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic_core import PydanticCustomError

from genesis.failover.addresses import split_host_port

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


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


def _check_api_url(value: str) -> str:
    if not re.match(r"^https?://[^/\s]+", value):
        raise ValueError("must be an http:// or https:// URL")
    if re.match(r"^https?://[^/@]*@", value):
        raise PydanticCustomError(
            SECRET_ERROR, "must not contain credentials (they belong in the environment)"
        )
    return value.rstrip("/")


ApiUrl = Annotated[str, AfterValidator(_check_api_url)]
