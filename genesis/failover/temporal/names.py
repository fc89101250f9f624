"""What Temporal sees of us, by name: workflow types, and the queries, signals and updates they
answer. The workflows declare their handlers with these names and ``MonitorClient`` calls them
with the same ones, so a name is written once. They are the operators' contract too
(`temporal workflow signal --name manual_failover`): change one only with a release note.
"""

from __future__ import annotations

MONITOR_WORKFLOW = "MonitorWorkflow"
FAILOVER_WORKFLOW = "FailoverWorkflow"

# MonitorWorkflow
STATUS_QUERY = "status"
HEALTH_QUERY = "health"
HISTORY_QUERY = "history"
MANUAL_FAILOVER_SIGNAL = "manual_failover"
MANUAL_FAILBACK_SIGNAL = "manual_failback"
REQUEST_FAILOVER_UPDATE = "request_failover"
REQUEST_FAILBACK_UPDATE = "request_failback"
APPLY_PLAN_SIGNAL = "apply_plan"

# FailoverWorkflow
STEPS_QUERY = "steps"  # ProgressStep list: kinds and facts, for programs
PROGRESS_QUERY = "progress"  # the same steps as text, for `temporal workflow query`

# The activity whose heartbeats tell a watcher which nameservers confirmed so far.
VERIFY_PROPAGATION_ACTIVITY = "verify_propagation"
