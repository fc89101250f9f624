"""The one validated config model (TOML file -> ``FailoverConfig``).

Checks are data validated at load time, so a typo in a threshold fails the deploy rather than the
3 a.m. failover. Unknown keys are rejected everywhere: a misspelt ``cooldown_second`` silently
falling back to a default is exactly the kind of surprise a safety system must not have.
Secrets never appear in the file: only the NAME of the environment variable that holds them
(``*_env`` keys), resolved by the worker process when it builds its clients.

One module per section, by meaning: ``site`` (Temporal, site, policy), ``checks``, ``dns``
(providers, records, propagation), ``hooks``, ``gates``, ``notifications``, ``metrics``; ``base``
holds the shared validators and ``loader`` the root model. Import from here.
"""

from genesis.failover.domain.config.base import (
    SECRET_ERROR,
    ApiUrl,
    EnvVarName,
    ServerAddress,
    StrictModel,
)
from genesis.failover.domain.config.checks import CheckConfig, CheckType
from genesis.failover.domain.config.dns import (
    IMPLEMENTED_PROVIDERS,
    CloudflareSettings,
    DigitalOceanSettings,
    DnsRecordConfig,
    DnsSettings,
    PropagationSettings,
    ProviderName,
    Rfc2136Settings,
    Route53Settings,
)
from genesis.failover.domain.config.gates import GatesSettings, ReplicationLagGate
from genesis.failover.domain.config.hooks import HookConfig, HookKind, HooksSettings
from genesis.failover.domain.config.loader import (
    FailoverConfig,
    check_from_seed_dict,
    config_error_from,
    failover_workflow_id,
    load_config,
    monitor_workflow_id,
    parse_config,
)
from genesis.failover.domain.config.metrics import MetricsSettings
from genesis.failover.domain.config.notifications import (
    ALL_EVENTS,
    PAGERDUTY_DEFAULT_EVENTS,
    Channel,
    EmailSettings,
    EventKind,
    NotificationsSettings,
    PagerDutySettings,
    SlackSettings,
)
from genesis.failover.domain.config.site import (
    PolicySettings,
    SiteSettings,
    TemporalSettings,
    TlsSettings,
)

__all__ = [
    "ALL_EVENTS",
    "PAGERDUTY_DEFAULT_EVENTS",
    "Channel",
    "EventKind",
    "GatesSettings",
    "HookKind",
    "ReplicationLagGate",
    "IMPLEMENTED_PROVIDERS",
    "SECRET_ERROR",
    "ApiUrl",
    "CheckConfig",
    "CheckType",
    "CloudflareSettings",
    "DigitalOceanSettings",
    "DnsRecordConfig",
    "DnsSettings",
    "EmailSettings",
    "EnvVarName",
    "FailoverConfig",
    "HookConfig",
    "HooksSettings",
    "MetricsSettings",
    "NotificationsSettings",
    "PagerDutySettings",
    "PolicySettings",
    "PropagationSettings",
    "ProviderName",
    "Rfc2136Settings",
    "Route53Settings",
    "ServerAddress",
    "SiteSettings",
    "SlackSettings",
    "StrictModel",
    "TemporalSettings",
    "TlsSettings",
    "check_from_seed_dict",
    "config_error_from",
    "failover_workflow_id",
    "load_config",
    "monitor_workflow_id",
    "parse_config",
]
