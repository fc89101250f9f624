"""Bad config, fuzzed: every mutation of a valid config either loads into a config the system can
run, or is refused with a ConfigError that names the field path and the value given.

The story: an operator edits the TOML at 3 a.m. (a typo, a pasted secret, a value in the wrong
unit). A loader that answers with a traceback, names no field, echoes the secret, or accepts a
value that only breaks the monitor later (``interval_seconds = inf``) is a second outage.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import os
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from temporalio.contrib.pydantic import pydantic_data_converter

from genesis.failover.app.cli import main
from genesis.failover.domain.config import FailoverConfig, load_config, parse_config
from genesis.failover.domain.errors import ConfigError
from genesis.failover.domain.plan import MonitorInput, MonitorPlan, build_monitor_plan
from tests.support import toml_text

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_TEXT = (ROOT / "examples" / "production.toml").read_text()
EXAMPLES = {p.name: tomllib.loads(p.read_text()) for p in (ROOT / "examples").glob("*.toml")}
BASE: dict[str, Any] = EXAMPLES["production.toml"]

# Values of the environment variables the configs name: none may ever appear in an error.
SECRETS = {
    "GENESIS_TSIG_SECRET": "c2VjcmV0LXRzaWcta2V5LWZ1enotOTk5",
    "SMTP_PASSWORD": "smtp-pass-fuzz-7781",
    "SLACK_WEBHOOK_URL": "https://hooks.slack.example/T0/B0/fuzzsecret",
    "PAGERDUTY_ROUTING_KEY": "pd-routing-fuzz-4242",
    "REPLICA_MONITOR_PASSWORD": "replica-pass-fuzz-1313",
}

Path_ = tuple[str | int, ...]


def _paths(node: Any, prefix: Path_ = ()) -> list[Path_]:
    """Every key and list item under ``node``, tables included (a table replaced by a number)."""
    found: list[Path_] = []
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        path = (*prefix, key)
        found.append(path)
        if isinstance(value, dict | list):
            found += _paths(value, path)
    return found


def _tables(node: Any, prefix: Path_ = ()) -> list[Path_]:
    found: list[Path_] = [prefix] if isinstance(node, dict) else []
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        if isinstance(value, dict | list):
            found += _tables(value, (*prefix, key))
    return found


PATHS = sorted(_paths(BASE), key=str)
TABLES = sorted(_tables(BASE), key=str)
ENV_PATHS = [p for p in PATHS if str(p[-1]).endswith("_env")]


def dotted(path: Path_) -> str:
    return ".".join(str(p) for p in path)


def _get(data: Any, path: Path_) -> Any:
    for part in path:
        data = data[part]
    return data


def with_value(path: Path_, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    _get(data, path[:-1])[path[-1]] = value
    return data


def without(path: Path_) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    parent = _get(data, path[:-1])
    del parent[path[-1]]
    return data


# Wrong types, out-of-range numbers, bad addresses, names, enums; strings with control characters.
numbers = st.one_of(
    st.integers(min_value=-(10**6), max_value=10**6),
    st.sampled_from([0, -1, 70000, 65536, 2**31, 2**63, 10**30, -(10**30)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.inf, -math.inf, math.nan, 1e300, 1e-300, 0.0, -0.0]),
)
words = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            " ",
            "abc",
            "ftp",
            "999.1.1.1",
            "1.2.3",
            "::g",
            "localhost:70000",
            "host:-1",
            "host:",
            ":53",
            "exa mple.com",
            "-bad-.example.com",
            "a" * 300,
            "x" * 64 + ".example.com",
            "..",
            "1BAD_ENV",
            "sk_live_not-an-env-name!",
            "https://user:pw@api.example.com",
            "postgresql://u:pw@db/x",
            "genesis_hooks:stop",
            "HTTP",
            "A",
            "CNAME",
            "Route53",
            "nul\x00byte",
            "line\nbreak",
        ]
    ),
)
scalars = st.one_of(st.booleans(), numbers, words)
junk: st.SearchStrategy[Any] = st.recursive(
    st.one_of(st.none(), scalars),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def usable(config: FailoverConfig) -> None:
    """A config that loads must be one the worker and the monitor can run: its plan survives
    the trip through Temporal (JSON) unchanged, and every duration is a timedelta."""
    plan = build_monitor_plan(config)
    payload = pydantic_data_converter.payload_converter.to_payloads([MonitorInput(plan=plan)])
    back = pydantic_data_converter.payload_converter.from_payloads(payload, [MonitorInput])[0]
    assert back.plan == plan, "the monitor's plan does not survive the trip through Temporal"

    def durations(node: Any, key: str = "") -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                durations(v, k)
        elif isinstance(node, list):
            for v in node:
                durations(v, key)
        elif key.endswith("_seconds") and isinstance(node, int | float):
            timedelta(seconds=node)  # OverflowError here is a monitor crashing later

    durations(plan.model_dump(mode="python"))
    assert isinstance(json.loads(MonitorPlan.model_validate(plan).model_dump_json()), dict)


def lines_of(error: ConfigError) -> list[tuple[str, str]]:
    """(field path, problem) per reported problem."""
    text = str(error)
    assert text.startswith("invalid config: "), text
    out = []
    for line in text.removeprefix("invalid config: ").split("; "):
        field, sep, problem = line.partition(": ")
        if sep:
            out.append((field, problem))
    return out


def related(field: str, path: Path_) -> bool:
    """``field`` is the mutated path, inside it, its parent model (a rule across fields), or a
    sibling in the same model (``check_type`` changed, so ``target`` no longer fits)."""
    f = field.split(".") if field else []
    p = [str(x) for x in path]
    common = 0
    for a, b in zip(f, p, strict=False):
        if a != b:
            break
        common += 1
    return bool(f) and common >= min(len(f), len(p) - 1, len(p))


def assert_clear(error: ConfigError, *, secrets: tuple[str, ...] = ()) -> None:
    text = str(error)
    assert "Traceback" not in text and "pydantic" not in text.lower(), text
    assert error.field, f"no field named: {text}"
    for secret in (*SECRETS.values(), *secrets):
        if secret and len(secret) >= 4:
            assert secret not in text, f"secret {secret!r} echoed: {text}"
            assert secret != error.value


@pytest.fixture(autouse=True)
def _secret_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEMPORAL_ADDRESS", raising=False)
    monkeypatch.delenv("TEMPORAL_NAMESPACE", raising=False)
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)


# GENESIS_FUZZ_EXAMPLES=5000 digs deeper (minutes); the default keeps the file at a few seconds.
SCALE = int(os.environ.get("GENESIS_FUZZ_EXAMPLES", "300"))
FAST = settings(
    max_examples=SCALE,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def test_every_example_config_loads_and_is_usable() -> None:
    for data in EXAMPLES.values():
        usable(parse_config(data))


def near(original: Any) -> st.SearchStrategy[Any]:
    """Mostly a value of the original's kind (a number for a number: out of range, inf, huge),
    sometimes anything at all."""
    if isinstance(original, bool):
        kind: st.SearchStrategy[Any] = st.one_of(words, numbers)
    elif isinstance(original, int | float):
        kind = numbers
    elif isinstance(original, str):
        kind = words
    elif isinstance(original, list) and original and isinstance(original[0], str):
        kind = st.lists(words, max_size=3)
    elif isinstance(original, list) and original and isinstance(original[0], int | float):
        kind = st.lists(numbers, max_size=4)
    else:
        kind = junk
    return st.one_of(kind, kind, junk)


@st.composite
def mutation(draw: st.DrawFn) -> tuple[Path_, Any]:
    path = draw(st.sampled_from(PATHS))
    return path, draw(near(_get(BASE, path)))


@FAST
@given(change=mutation())
@example(change=(("checks", 0, "interval_seconds"), math.inf))
@example(change=(("checks", 0, "interval_seconds"), 1e300))
@example(change=(("policy", "cooldown_seconds"), 1e300))
@example(change=(("hooks", "pre_failover", 0, "timeout_seconds"), math.nan))
@example(change=(("dns", "ttl"), 10**30))
@example(change=(("dns", "records", 0, "domain"), "genesis.example.com,"))
@example(change=(("dns", "rfc2136", "zone"), "exa mple.com"))
@example(change=(("hooks", "pre_failover", 0, "pass_env"), "ghp_pastedTokenInsteadOfAList"))
@example(change=(("site", "primary_ip"), "999.1.1.1"))
@example(change=(("notifications", "email", "smtp_port"), 70000))
@example(change=(("checks", 1, "failure_threshold"), 0))
@example(change=(("checks", 0, "check_type"), "ftp"))
@example(change=(("dns", "rfc2136", "server"), "localhost:70000"))
@example(change=(("dns", "rfc2136", "tsig_algorithm"), ""))
@example(change=(("dns", "rfc2136", "tsig_key_name"), "bad key"))
def test_a_wrong_value_anywhere_is_refused_naming_its_field_and_value_or_is_usable(
    change: tuple[Path_, Any],
) -> None:
    path, value = change
    try:
        config = parse_config(with_value(path, value))
    except ConfigError as error:
        secret_field = any(str(p).endswith("_env") for p in path)
        assert_clear(error, secrets=(value,) if secret_field and isinstance(value, str) else ())
        problems = lines_of(error)
        assert any(related(f, path) for f, _ in problems), (dotted(path), str(error))
        exact = [p for f, p in problems if f == dotted(path)]
        # A value that may be a secret (a DSN with a password) is withheld on purpose.
        withheld = error.field == dotted(path) and error.value is None
        if exact and not (secret_field or withheld) and isinstance(value, str | int | float):
            shown = (repr(value)[:60], str(value)[:60])  # long values are cut short
            assert any(s in p for s in shown for p in exact), (dotted(path), value, str(error))
        return
    usable(config)


@FAST
@given(path=st.sampled_from(PATHS))
def test_a_missing_key_is_named_or_its_default_is_used(path: Path_) -> None:
    try:
        config = parse_config(without(path))
    except ConfigError as error:
        assert_clear(error)
        assert any(related(f, path) for f, _ in lines_of(error)), (dotted(path), str(error))
        return
    usable(config)


@FAST
@given(
    table=st.sampled_from(TABLES),
    key=st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC0123456789_-", min_size=1, max_size=20),
    value=scalars,
)
def test_an_unknown_key_is_refused_with_its_path(table: Path_, key: str, value: Any) -> None:
    data = copy.deepcopy(BASE)
    # "x_" keeps clear of every real key and alias (which would be a wrong value, not unknown).
    key = f"x_{key}"
    _get(data, table)[key] = value
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    assert_clear(caught.value)
    problems = lines_of(caught.value)
    assert any(f == dotted((*table, key)) and p.startswith("unknown key") for f, p in problems), (
        str(caught.value)
    )


@FAST
@given(path=st.sampled_from(ENV_PATHS), tail=st.text(min_size=4, max_size=40))
def test_a_secret_pasted_where_a_variable_name_belongs_is_never_repeated(
    path: Path_, tail: str
) -> None:
    secret = f"tok-{tail}"  # a token's shape, and no word of the config's own
    try:
        usable(parse_config(with_value(path, secret)))
    except ConfigError as error:
        assert_clear(error, secrets=(secret,))
        assert error.field == dotted(path) and error.value is None, str(error)


@FAST
@given(
    index=st.integers(min_value=0, max_value=1),
    name=st.sampled_from(["primary_api", "primary_db"]),
)
def test_two_checks_with_one_name_are_refused_naming_checks_and_the_name(
    index: int, name: str
) -> None:
    data = copy.deepcopy(BASE)
    data["checks"][index]["name"] = name
    data["checks"][1 - index]["name"] = name
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    assert_clear(caught.value)
    assert caught.value.field == "checks" and repr(name) in str(caught.value), str(caught.value)


@st.composite
def mangled_toml(draw: st.DrawFn) -> str:
    """The production example with lines dropped, repeated, cut or spliced with junk."""
    lines = PRODUCTION_TEXT.splitlines()
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        i = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        how = draw(st.sampled_from(["drop", "repeat", "cut", "splice", "junk"]))
        if how == "drop":
            del lines[i]
        elif how == "repeat":
            lines.insert(i, lines[i])
        elif how == "cut":
            lines[i] = lines[i][: draw(st.integers(min_value=0, max_value=len(lines[i])))]
        elif how == "splice":
            at = draw(st.integers(min_value=0, max_value=len(lines[i])))
            lines[i] = lines[i][:at] + draw(st.text(max_size=6)) + lines[i][at:]
        else:
            lines.insert(i, draw(st.sampled_from(["[", "]]", "x = ", "= 1", '"', "[[checks]]"])))
    return "\n".join(lines)


@settings(max_examples=max(SCALE * 2 // 3, 1), deadline=None, database=None)
@given(text=st.one_of(mangled_toml(), st.binary(max_size=64).map(lambda b: b.decode("latin-1"))))
def test_a_mangled_toml_file_is_refused_with_a_config_error_or_loads_usable(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "failover.toml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    try:
        config = load_config(path)
    except ConfigError as error:
        assert_clear(error)
        assert str(path) in str(error) or str(error).startswith("invalid config: "), str(error)
        return
    usable(config)


LAB: dict[str, Any] = EXAMPLES["local-lab.toml"]
LAB_SCALARS = [p for p in sorted(_paths(LAB), key=str) if not isinstance(_get(LAB, p), dict | list)]


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@settings(max_examples=max(SCALE // 4, 1), deadline=None, database=None)
@given(data=st.data())
def test_validate_exits_2_with_the_loaders_message_for_a_bad_config_file(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    """The same refusal, through `genesis-failover validate`: exit 2, the message naming the
    field and value on stderr, nothing on stdout, no traceback, no secret."""
    path = data.draw(st.sampled_from(LAB_SCALARS))
    value = data.draw(st.one_of(st.booleans(), numbers, words))
    changed = copy.deepcopy(LAB)
    _get(changed, path[:-1])[path[-1]] = value
    file = tmp_path_factory.getbasetemp() / "cli-validate.toml"
    file.write_text(toml_text(changed))
    try:
        expected: ConfigError | None = None
        load_config(file)
    except ConfigError as error:
        expected = error
    code, out, err = run_cli("-c", str(file), "validate")
    for secret in SECRETS.values():
        assert secret not in out + err
    assert "Traceback" not in err
    if expected is not None:
        assert (code, out, err) == (2, "", f"genesis-failover: {expected}\n")
    elif code != 0:
        # Loaded, but the environment does not fit it (a renamed *_env variable that is unset):
        # validate checks that too, and says so in one line.
        assert code == 2 and err.startswith("genesis-failover: ") and err.count("\n") == 1, err
