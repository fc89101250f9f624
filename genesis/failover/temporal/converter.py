"""The one data converter every Temporal client of a site uses: the worker (worker/main.py), the
CLI (cli/monitor.py), the Python facade (coordinator.py) and the codec server.

Pydantic models as JSON, as always; with ``[temporal.encryption]`` the JSON is encrypted
(``EncryptionCodec``) and failure messages and stack traces travel inside the encrypted payload
too (the SDK otherwise stores them in clear, and an error can name a host or a record).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes

from genesis.failover.domain.config.site import EncryptionSettings
from genesis.failover.temporal.codec import EncryptionCodec

__all__ = ["data_converter"]


def data_converter(
    encryption: EncryptionSettings | None = None, environ: Mapping[str, str] | None = None
) -> DataConverter:
    """``pydantic_data_converter``, with the payload codec when ``encryption`` is set (its keys
    read from ``environ``, default this process's; ``ConfigError`` when one is missing)."""
    if encryption is None:
        return pydantic_data_converter
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=EncryptionCodec.from_settings(encryption, environ),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )
