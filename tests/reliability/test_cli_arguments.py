"""Bad command lines, fuzzed: every command with one thing wrong exits 2 with a message naming
the option (or the config file) and the value, with no traceback and without contacting Temporal.

The story: an operator mistypes during an incident (`history --limit -1`, `failover --f`, a config
path with a typo, `dev --port 70000`). The CLI must say what is wrong before it does anything; an
abbreviation silently read as `--force`, or a port only refused by the server it was about to
start, is the CLI acting on a guess.

The CLI runs in this process (``genesis.failover.app.cli.main``), as the console script calls it;
its config names a closed loopback port as Temporal, so any attempt to reach a server would end
in exit 1 ("cannot reach Temporal"), not 2. A few cases run the real script in a subprocess.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from genesis.failover.app.cli import main
from genesis.lab.ports import free_port
from tests.support import CLI, toml_text

ROOT = Path(__file__).resolve().parents[2]
TSIG = "c2VjcmV0LWNsaS1mdXp6LWtleS0xMjM0NQ=="

# Each command's options: name -> (valid values, bad values); None: a flag without a value.
Values = tuple[st.SearchStrategy[str], st.SearchStrategy[str]] | None
not_int = st.text(max_size=8).filter(lambda t: not _is_int(t))


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def ints(lo: int, hi: int) -> st.SearchStrategy[str]:
    return st.integers(min_value=lo, max_value=hi).map(str)


REASON: Values = (
    st.text(min_size=1, max_size=30).filter(lambda t: t.strip() and not t.startswith("-")),
    st.one_of(st.sampled_from(["", " ", "\t", "r" * 501]), st.text(min_size=501, max_size=600)),
)
LOWER_TTL: Values = (
    ints(1, 86400),
    st.one_of(ints(-(10**6), 0), ints(86401, 10**9), not_int),
)
PORT: Values = (ints(0, 65535), st.one_of(ints(-(10**6), -1), ints(65536, 10**9), not_int))
OPTIONS: dict[str, dict[str, Values]] = {
    "validate": {},
    "check": {},
    "worker": {},
    "status": {},
    "dev": {
        "--port": PORT,
        "--ui-port": PORT,
        "--temporal-address": (
            st.sampled_from(["127.0.0.1:7233", "localhost:7233", "[::1]:7233"]),
            st.sampled_from(["junk", "localhost", "host:0", "host:70000", ":7233", "a b:1", ""]),
        ),
        "--data-dir": (st.just(".genesis"), st.sampled_from(["", "  "])),
        "--lab": None,
    },
    "failover": {"--reason": REASON, "--dry-run": None, "--force": None, "--lower-ttl": LOWER_TTL},
    "failback": {"--reason": REASON, "--dry-run": None, "--force": None, "--lower-ttl": LOWER_TTL},
    "history": {"--limit": (ints(1, 10**6), st.one_of(ints(-(10**6), 0), not_int))},
    "drill": {"--reason": REASON},
}
REQUIRED = {"failover": ["--reason"]}
GLOBAL = ["-c", "--config", "--json", "-h", "--help"]


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The local-lab example, its Temporal a loopback port nothing listens on."""
    data = tomllib.loads((ROOT / "examples" / "local-lab.toml").read_text())
    data["temporal"]["address"] = f"127.0.0.1:{free_port()}"
    path = tmp_path_factory.mktemp("cli") / "failover.toml"
    path.write_text(toml_text(data))
    return path


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bad-config")
    garbage = folder / "garbage.toml"
    garbage.write_bytes(b"\xff\xfe[[[ not toml \x00")
    not_toml = folder / "not-toml.toml"
    not_toml.write_text("[site\nname = genesis\n")
    empty = folder / "empty.toml"
    empty.write_text("")
    files = {
        "missing": folder / "nowhere.toml",
        "directory": folder,
        "under a file": garbage / "x.toml",
        "garbage": garbage,
        "not toml": not_toml,
        "empty": empty,
        "dangling link": folder / "link.toml",
    }
    files["dangling link"].symlink_to(folder / "gone.toml")
    if os.geteuid() != 0:  # root reads a mode-000 file anyway
        unreadable = folder / "unreadable.toml"
        unreadable.write_text("[site]\n")
        unreadable.chmod(0)
        files["unreadable"] = unreadable
    return files


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "GENESIS_FAILOVER_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GENESIS_TSIG_SECRET", TSIG)


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exit_:  # argparse's way of saying 2
            code = exit_.code if isinstance(exit_.code, int) else 1
    return code, out.getvalue(), err.getvalue()


@st.composite
def option_groups(draw: st.DrawFn, command: str, skip: str = "") -> list[list[str]]:
    """Good options for ``command``, each with its value: [["--reason", "r"], ["--force"]]."""
    groups: list[list[str]] = []
    for option, values in OPTIONS[command].items():
        if option == skip:
            continue
        if option in REQUIRED.get(command, []) or draw(st.booleans()):
            if values is None:
                groups.append([option])
            else:
                groups.append([option, draw(values[0])])
    return draw(st.permutations(groups))


def valid_options(command: str, skip: str = "") -> st.SearchStrategy[list[str]]:
    return option_groups(command, skip).map(lambda groups: [a for g in groups for a in g])


@st.composite
def bad_argv(
    draw: st.DrawFn, config: str, files: dict[str, Path]
) -> tuple[list[str], str, list[str]]:
    """(argv, what is wrong, strings the message must contain): one fault per command line."""
    command = draw(st.sampled_from(sorted(OPTIONS)))
    with_values = [o for o, v in OPTIONS[command].items() if v is not None]
    faults = ["unknown option", "abbreviated option", "extra argument", "config", "command"]
    faults += ["bad value", "no value"] if with_values else []
    faults += ["missing required"] if command in REQUIRED else []
    fault = draw(st.sampled_from(faults))
    head = ["--json"] if draw(st.booleans()) else []
    conf = ["-c", config]
    if fault == "bad value":
        option = draw(st.sampled_from(with_values))
        values = OPTIONS[command][option]
        assert values is not None
        value = draw(values[1])
        rest = draw(valid_options(command, skip=option))
        # `--opt=value`: a value that starts with "-" is otherwise read as an option.
        argv = [*head, *conf, command, *rest, f"{option}={value}"]
        # The value as given, or (quoted, cut short) as repr shows it.
        must = [option] + ([repr(value)[1:-1][:19]] if value.strip() else [])
        return argv, f"{option} {value!r}", must
    if fault == "no value":
        option = draw(st.sampled_from(with_values))
        rest = draw(valid_options(command, skip=option))
        return [*head, *conf, command, *rest, option], f"{option} without a value", [option]
    if fault == "missing required":
        option = REQUIRED[command][0]
        rest = draw(valid_options(command, skip=option))
        return [*head, *conf, command, *rest], f"no {option}", [option]
    if fault in ("unknown option", "abbreviated option"):
        known = set(OPTIONS[command]) | set(GLOBAL)
        if fault == "unknown option":
            flag = draw(st.from_regex(r"\A--[a-z][a-z-]{0,12}\Z").filter(lambda f: f not in known))
        else:
            real = draw(st.sampled_from(sorted(o for o in known if o.startswith("--"))))
            flag = real[: draw(st.integers(min_value=3, max_value=len(real) - 1))]
            if flag in known:
                flag += "x"
        groups = draw(option_groups(command))
        groups.insert(draw(st.integers(min_value=0, max_value=len(groups))), [flag])
        argv = [*head, *conf, command, *(a for g in groups for a in g)]
        return argv, f"unknown {flag}", [flag]
    if fault == "extra argument":
        word = draw(st.from_regex(r"\A[a-z0-9][a-z0-9.]{0,10}\Z"))
        rest = draw(valid_options(command))
        return [*head, *conf, command, *rest, word], f"extra {word}", [word]
    if fault == "command":
        word = draw(st.from_regex(r"\A[a-z][a-z-]{0,10}\Z").filter(lambda w: w not in OPTIONS))
        return [*head, *conf, word], f"command {word}", [word]
    name = draw(st.sampled_from(sorted(files)))
    rest = draw(valid_options(command))
    path = str(files[name])
    flag = draw(st.sampled_from(["-c", "--config"]))
    # -c before or after the command: both are accepted.
    if draw(st.booleans()):
        argv = [*head, flag, path, command, *rest]
    else:
        argv = [*head, command, *rest, flag, path]
    # A file that reads as TOML is named by its fields ("site: required"), any other by its path.
    return argv, f"config {name}", [] if name == "empty" else [path]


@settings(
    max_examples=int(os.environ.get("GENESIS_FUZZ_EXAMPLES", "300")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_a_command_line_with_one_thing_wrong_exits_2_naming_it_and_contacts_nothing(
    config: Path, bad_files: dict[str, Path], data: st.DataObject
) -> None:
    argv, fault, must = data.draw(bad_argv(str(config), bad_files))
    code, out, err = run_cli(argv)
    context = f"{fault}: {argv} -> {code} {err!r}"
    assert code == 2, context
    assert "Traceback" not in err and "cannot reach" not in err, context
    assert out == "", context
    last = err.strip().splitlines()[-1] if err.strip() else ""
    assert last.startswith("genesis-failover"), context
    for text in must:
        assert text in err, context


def test_the_closed_port_would_show_an_attempt_to_reach_temporal(config: Path) -> None:
    """The control: a good command line does try, and says so with exit 1, not 2."""
    code, _, err = run_cli(["-c", str(config), "history", "--limit", "3"])
    assert code == 1 and "cannot reach Temporal" in err, err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["failover", "--reason", "x", "--f"], "unrecognized arguments: --f"),
        (["failover", "--reason", "x", "--dry"], "unrecognized arguments: --dry"),
        (["dev", "--port", "70000"], "argument --port: --port must be 0-65535, got 70000"),
        (["dev", "--temporal-address", "junk"], "--temporal-address must be host:port, got 'junk'"),
        (["history", "--limit=-1"], "argument --limit: --limit must be 1 or more, got -1"),
    ],
    ids=["abbreviated-force", "abbreviated-dry-run", "port-70000", "address-junk", "limit-minus-1"],
)
def test_the_console_script_exits_2_on_a_bad_argument(
    config: Path, argv: list[str], expected: str
) -> None:
    command = [CLI] if Path(CLI).exists() else [sys.executable, "-m", "genesis.failover.app.cli"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "GENESIS_"))}
    result = subprocess.run(
        [*command, "-c", str(config), *argv],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env=env,
    )
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""
