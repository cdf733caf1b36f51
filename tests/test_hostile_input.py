"""Hostile YAML and a closed stdout: every command that reads data refuses in one line, in time, within memory."""

from __future__ import annotations

import copy
import json
import os
import pstats
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from runbooks import yaml_lines
from runbooks.loader import parse_yaml

from .conftest import ROOT
from .factory import dump_yaml, proxy_config, routable_proxy_config, valid_data, write_data

MEMORY_CAP = 1 << 30
"""The address space each command may use: a bomb that is expanded runs into it at once."""
TIMEOUT = 90
"""Seconds a command may take; before the fix a bomb ran until killed."""

READERS = {
    "libyaml": "",
    # As on a machine whose PyYAML has no libyaml: ruamel reads everything.
    "ruamel": "import runbooks.yaml_lines as y; y._CParser = None; ",
}


def run_capped(*args: str, reader: str = "libyaml") -> subprocess.CompletedProcess[str]:
    """`python -m runbooks ARGS` in a child process with MEMORY_CAP of address space and a TIMEOUT."""
    code = READERS[reader] + "import sys; from runbooks.cli import main; sys.exit(main(sys.argv[1:]))"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        preexec_fn=_cap_memory,
        check=False,
    )


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def assert_refused(result: subprocess.CompletedProcess[str], file: Path, lines: range | int | None) -> str:
    """A non-zero exit, no traceback, and exactly one error, naming `file` and one of `lines`; return its message."""
    output = result.stdout + result.stderr
    assert result.returncode in (1, 2), output
    assert "Traceback" not in output, output
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, output
    (error,) = errors
    if lines is None:
        assert error.startswith(f"{file}: "), error
        return error
    where, _, message = error.partition(": ")
    name, _, number = where.rpartition(":")
    assert name == str(file), error
    allowed = range(lines, lines + 1) if isinstance(lines, int) else lines
    assert int(number) in allowed, error
    assert len(error) < 400, f"a message of {len(error)} characters"
    return message


def line_number(text: str, needle: str) -> int:
    """The 1-based line of the first line of `text` that contains `needle`."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


# -------------------------------------------------------------------------------------------------
# Hostile YAML, in the data and in a proxy config, through every command that reads it
# -------------------------------------------------------------------------------------------------


def _bomb(levels: int = 10, width: int = 9) -> str:
    """The classic alias bomb: each level is a list of `width` aliases of the one before (width**levels nodes)."""
    lines = [f"a0: &a0 [{', '.join(['lol'] * width)}]"]
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * width)}]" for n in range(1, levels)]
    return "\n".join(lines) + "\n"


def _nested(depth: int, inner: str = "") -> str:
    return "[" * depth + inner + "]" * depth


HOSTILE: dict[str, Callable[[], tuple[str, str]]] = {
    # name: () -> (the YAML to append at the top level of a file, a text on the line the error must name;
    # an empty text: any line of what was appended)
    "alias bomb": lambda: (_bomb(), ""),
    "deep nesting through an anchor": lambda: (f"x: &d {_nested(5000)}\ny: *d\n", "x: &d"),
    "deep only through the alias": lambda: (f"x: &d {_nested(60)}\ny: {_nested(60, '*d')}\n", "y: "),
    "deep mappings": lambda: ("x: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n", "x: "),
    "an alias inside its own anchor": lambda: ("x: &loop [1, *loop]\n", "x: &loop"),
}


def _appended(text: str, extra: str, needle: str) -> tuple[str, range]:
    """`text` with `extra` appended, and the lines where the error may be."""
    first = len(text.splitlines()) + 1
    new = text + extra
    if needle:
        line = first - 1 + line_number(extra, needle)
        return new, range(line, line + 1)
    return new, range(first, first + len(extra.splitlines()))


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_data_is_refused_by_validate_in_one_line(tmp_path, case, reader):
    data_dir = write_data(tmp_path, valid_data())
    providers = data_dir / "providers.yaml"
    text, lines = _appended(providers.read_text(encoding="utf-8"), *HOSTILE[case]())
    providers.write_text(text, encoding="utf-8")
    assert_refused(run_capped("validate", "--data", str(data_dir), reader=reader), providers, lines)


@pytest.mark.parametrize("command", ["check-config", "lint-cost"])
# The proxy's own reader shares an aliased node, as LiteLLM does, and walks it without recursing: nesting
# that is deep only through an alias harms nothing there.
@pytest.mark.parametrize("case", [case for case in HOSTILE if case != "deep only through the alias"])
def test_a_hostile_proxy_config_is_refused_in_one_line(tmp_path, case, command):
    data = valid_data()
    data_dir = write_data(tmp_path, data)
    config = tmp_path / "config.yaml"
    # Where in what was appended the config's reader places the problem is its own choice.
    extra, _ = HOSTILE[case]()
    text, lines = _appended(dump_yaml(routable_proxy_config(data)), extra, "")
    config.write_text(text, encoding="utf-8")
    data_args = (
        ["--providers", str(data_dir / "providers.yaml")] if command == "check-config" else ["--data", str(data_dir)]
    )
    assert_refused(run_capped(command, str(config), *data_args), config, lines)


@pytest.mark.parametrize("reader", READERS)
def test_deep_general_settings_in_a_config_are_refused(tmp_path, reader):
    data = valid_data()
    data_dir = write_data(tmp_path, data)
    config_data = routable_proxy_config(data)
    config_data["general_settings"] = {"master_key": "os.environ/LITELLM_MASTER_KEY", "deep": "PLACEHOLDER"}
    text = dump_yaml(config_data).replace("PLACEHOLDER", "{a: " * 2000 + "1" + "}" * 2000)
    config = tmp_path / "config.yaml"
    config.write_text(text, encoding="utf-8")
    result = run_capped("check-config", str(config), "--providers", str(data_dir / "providers.yaml"), reader=reader)
    message = assert_refused(result, config, line_number(text, "deep:"))
    assert "deep" in message


def test_a_bomb_in_the_data_fails_the_build_and_keeps_the_site(tmp_path):
    data_dir = write_data(tmp_path, valid_data())
    providers = data_dir / "providers.yaml"
    text, lines = _appended(providers.read_text(encoding="utf-8"), _bomb(), "")
    providers.write_text(text, encoding="utf-8")
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_bytes(b"the previous site")
    result = run_capped("build", "--data", str(data_dir), "--site-dir", str(site))
    assert_refused(result, providers, lines)
    assert [p.name for p in site.iterdir()] == ["index.html"]
    assert (site / "index.html").read_bytes() == b"the previous site"


def test_the_bounds_leave_real_anchors_alone(tmp_path):
    """Anchors and merges as people write them are read as before; the bounds are far above them."""
    data = valid_data()
    data_dir = write_data(tmp_path, data)
    config_text = "defaults: &defaults\n  rpm: 60\n  tpm: 300000\n" + dump_yaml(routable_proxy_config(data))
    config_text = config_text.replace("    litellm_params:\n", "    litellm_params:\n      <<: *defaults\n")
    config = tmp_path / "config.yaml"
    config.write_text(config_text, encoding="utf-8")
    result = run_capped("check-config", str(config), *_providers(data_dir))
    assert "parse_error" not in result.stdout + result.stderr, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    # Just within the data reader's bounds, through aliases: 1,000 aliases of a 90-node anchor; 98 levels.
    wide = "a: &a [" + ", ".join(["x"] * 89) + "]\nb: [" + ", ".join(["*a"] * 1000) + "]\n"
    nested = yaml_lines.MAX_DEPTH - 2
    deep = f"c: &d {_nested(nested // 2)}\nd: {_nested(nested // 2, '*d')}\n"
    for text in (wide, deep):
        yaml_lines.check_shape(text)  # no ShapeError
        assert parse_yaml(text, "ok.yaml")


# -------------------------------------------------------------------------------------------------
# Values ruamel used to trip over, and bytes that are not text
# -------------------------------------------------------------------------------------------------


def test_an_impossible_date_names_its_line_and_path(tmp_path):
    data = valid_data()
    data["providers"]["providers"]["acme"]["verified_on"] = "DATE"
    data_dir = write_data(tmp_path, data)
    providers = data_dir / "providers.yaml"
    # Unquoted: YAML would read it as a date if the day existed.
    text = providers.read_text(encoding="utf-8").replace("DATE", "2026-13-45")
    providers.write_text(text, encoding="utf-8")
    for reader in READERS:
        result = run_capped("validate", "--data", str(data_dir), reader=reader)
        assert result.returncode == 1
        message = assert_refused(result, providers, line_number(text, "verified_on: 2026-13-45"))
        assert "providers.acme.verified_on" in message and "2026-13-45" in message


@pytest.mark.parametrize(("bad", "what"), [(b"\xff\xfe", "0xff"), (b"\x00", "NUL")], ids=["invalid UTF-8", "NUL"])
def test_bad_bytes_are_located_by_line_and_column(tmp_path, bad, what):
    data_dir = write_data(tmp_path, valid_data())
    team = data_dir / "team.yaml"
    raw = team.read_bytes()
    # Into a Chinese text, so that the column counts characters, not bytes.
    anchor = "测试组".encode()
    at = raw.index(anchor) + len(anchor)
    team.write_bytes(raw[:at] + bad + raw[at:])
    line = raw[:at].count(b"\n") + 1
    column = len(raw[raw.rfind(b"\n", 0, at) + 1 : at].decode("utf-8")) + 1
    message = assert_refused(run_capped("validate", "--data", str(data_dir)), team, line)
    assert f"line {line}, column {column}" in message and what in message
    assert "position" not in message


@pytest.mark.parametrize("command", ["check-config", "lint-cost"])
@pytest.mark.parametrize(("bad", "what"), [(b"\xff\xfe", "0xff"), (b"\x00", "NUL")], ids=["invalid UTF-8", "NUL"])
def test_bad_bytes_in_a_proxy_config_are_located_by_line_and_column(tmp_path, bad, what, command):
    data = valid_data()
    data_dir = write_data(tmp_path, data)
    config = tmp_path / "config.yaml"
    raw = ("# 团队的代理配置\n" + dump_yaml(routable_proxy_config(data))).encode()
    anchor = "代理配置".encode()
    at = raw.index(anchor) + len(anchor)
    config.write_bytes(raw[:at] + bad + raw[at:])
    column = len(raw[:at].decode("utf-8")) + 1
    data_args = (
        ["--providers", str(data_dir / "providers.yaml")] if command == "check-config" else ["--data", str(data_dir)]
    )
    result = run_capped(command, str(config), *data_args)
    assert result.returncode == 2
    message = assert_refused(result, config, 1)
    assert f"line 1, column {column}" in message and what in message
    assert "position" not in message


def test_a_duplicate_key_names_the_key_and_both_lines_without_the_values(tmp_path):
    data = valid_data()
    data_dir = write_data(tmp_path, data)
    providers = data_dir / "providers.yaml"
    text = providers.read_text(encoding="utf-8")
    duplicate = copy.deepcopy(data["providers"]["providers"]["globex"])
    block = dump_yaml({"acme": duplicate})
    text += "".join("  " + line + "\n" for line in block.splitlines())
    providers.write_text(text, encoding="utf-8")
    first = line_number(text, "  acme:")
    second = len(text.splitlines()) - len(block.splitlines()) + 1
    message = assert_refused(run_capped("validate", "--data", str(data_dir)), providers, second)
    assert "duplicate key" in message and "'acme'" in message
    assert f"line {first}" in message and f"line {second}" in message
    assert "globex" not in message and "The team runs tests" not in message


def test_a_loop_of_symbolic_links_is_refused_in_one_line(tmp_path):
    data_dir = write_data(tmp_path, valid_data())
    team = data_dir / "team.yaml"
    team.unlink()
    (data_dir / "loop").symlink_to(team)
    team.symlink_to(data_dir / "loop")
    message = assert_refused(run_capped("validate", "--data", str(data_dir)), team, None)
    assert "symbolic links" in message


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_data_file_that_is_no_regular_file_is_refused_without_hanging(tmp_path, kind):
    data_dir = write_data(tmp_path, valid_data())
    providers = data_dir / "providers.yaml"
    providers.unlink()
    if kind == "fifo":
        os.mkfifo(providers)  # reading it would wait for a writer forever
    else:
        providers.symlink_to("/dev/zero")  # reading it would never end
    message = assert_refused(run_capped("validate", "--data", str(data_dir)), providers, None)
    assert "not a regular file" in message


def test_a_proxy_config_that_is_a_fifo_is_refused_without_hanging(tmp_path):
    data_dir = write_data(tmp_path, valid_data())
    config = tmp_path / "config.yaml"
    os.mkfifo(config)
    message = assert_refused(run_capped("check-config", str(config), *_providers(data_dir)), config, None)
    assert "not a regular file" in message


# -------------------------------------------------------------------------------------------------
# A reader that stops reading
# -------------------------------------------------------------------------------------------------


CLOSED_OUTPUT_CASES: dict[str, Callable[[Path], list[str]]] = {
    "check-config": lambda data: ["check-config", str(data / "litellm" / "config.yaml"), *_providers(data)],
    "check-config, findings on stderr": lambda data: ["check-config", str(data / "litellm" / "config.yaml")],
    "validate --format json": lambda data: ["validate", "--data", str(data), "--format", "json"],
    "lint-cost": lambda data: ["lint-cost", str(data / "litellm" / "config.yaml"), "--data", str(data)],
    "--help": lambda data: ["--help"],
}


def _providers(data: Path) -> list[str]:
    return ["--providers", str(data / "providers.yaml")]


@pytest.mark.parametrize("case", CLOSED_OUTPUT_CASES)
def test_a_closed_stdout_ends_quietly_with_the_commands_exit_code(tmp_path, case):
    data = valid_data()
    data_dir = write_data(tmp_path, data)
    if case == "check-config":  # a config LiteLLM can route: check-config passes
        (data_dir / "litellm" / "config.yaml").write_text(dump_yaml(routable_proxy_config(data)), encoding="utf-8")
    args = CLOSED_OUTPUT_CASES[case](data_dir)
    command = [sys.executable, "-m", "runbooks", *args]
    normal = subprocess.run(command, cwd=ROOT, capture_output=True, timeout=TIMEOUT, check=False)
    assert normal.stdout, "the command prints something to stdout"
    expected = normal.returncode
    for closed in ("stdout", "stdout and stderr"):
        read, write = os.pipe()
        os.close(read)  # as `| head -1` does once it has its line
        try:
            result = subprocess.run(
                command,
                cwd=ROOT,
                stdout=write,
                stderr=write if closed != "stdout" else subprocess.PIPE,
                timeout=TIMEOUT,
                check=False,
            )
        finally:
            os.close(write)
        assert result.returncode == expected, (closed, result.stderr)
        if closed == "stdout":
            assert b"Traceback" not in result.stderr and b"BrokenPipeError" not in result.stderr, result.stderr.decode()
            assert result.stderr == normal.stderr  # the findings still reach the terminal


def test_a_report_larger_than_a_pipe_reaches_its_reader_whole_and_the_exit_code_with_it(tmp_path):
    # The command ends without the interpreter's teardown: what it printed must be flushed before that.
    data = valid_data()
    data_dir = write_data(tmp_path, data)
    config = proxy_config(data)
    config["model_list"] += [
        {"model_name": f"undocumented-{n}", "litellm_params": {"model": f"nowhere/model-{n}"}} for n in range(400)
    ]
    (data_dir / "litellm" / "config.yaml").write_text(dump_yaml(config), encoding="utf-8")
    config_file = str(data_dir / "litellm" / "config.yaml")
    command = [sys.executable, "-m", "runbooks", "check-config", config_file, *_providers(data_dir), "--format", "json"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, timeout=TIMEOUT, check=False)
    assert len(result.stdout) > 65_536, "more than a pipe holds at once"
    report = json.loads(result.stdout)
    assert result.returncode == 1 and report["verdict"] == "fail"
    named = {n for n in range(400) for f in report["findings"] if f"'undocumented-{n}'" in f["message"]}
    assert len(named) == 400


def test_under_a_profiler_the_command_ends_as_usual_and_the_profile_is_written(tmp_path):
    # The benchmark profiles a build with cProfile, which writes its file as the interpreter ends.
    profile = tmp_path / "validate.prof"
    command = [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "runbooks", "validate"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert result.returncode == 0 and "validate: pass" in result.stdout, result.stdout + result.stderr
    assert any("runbooks/loader.py" in name[0] for name in pstats.Stats(str(profile)).stats)
