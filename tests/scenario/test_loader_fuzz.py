"""Fuzzing the scenario loader: whatever a file holds, ``load_paths`` gives scenarios or a
:class:`ScenarioError` whose every problem is at a ``file:line:column`` inside the file, and
``mockpoint validate`` exits 0 or 2 with those same lines, never a traceback (docs/behaviour.md,
"Exit codes"; the issue: "random and mutated scenario files (fuzzed YAML) give exit code 2
with a file:line:column message, never a traceback").

Inputs: random bytes and text (invalid UTF-8, NUL, control characters, odd line breaks,
huge lines), token soup of YAML syntax, generated YAML documents (nested mappings, lists and
scalars, anchors and aliases, merge keys, tags such as ``!!python/object`` that must be
refused, duplicate keys, deep nesting, "billion laughs" alias expansion, bounded in time and
memory) and mutations of every scenario of ``examples/`` and of the ``ocpp16-csms`` pack
(lines deleted, duplicated, swapped, re-indented; scalars replaced by other types; unknown
keys inserted; bytes changed; the file truncated).

The runs are deterministic (``derandomize=True``) and sized for CI, well under a minute.
For a longer release run, multiply every example count and let Hypothesis pick random
seeds (a failure prints the blob to reproduce it); ``--timeout 0`` lifts pytest's 60 s::

    MOCKPOINT_FUZZ_SCALE=50 .venv/bin/pytest --timeout 0 tests/scenario/test_loader_fuzz.py
"""

from __future__ import annotations

import io
import json
import os
import re
import time
import tracemalloc
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from random import Random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mockpoint.packs
from conftest import UNIT
from mockpoint.cli.main import main
from mockpoint.errors import ExitCode
from mockpoint.scenario.loader import Problem, ScenarioError, is_fleet, load_paths
from mockpoint.scenario.model import STEP_KINDS

ROOT = Path(__file__).resolve().parents[2]
PACK = Path(mockpoint.packs.__file__).parent / "ocpp16_csms"
SOURCES = sorted(p for p in (ROOT / "examples").rglob("*.yaml") if not is_fleet(p)) + sorted(
    PACK.glob("*.yaml")
)

SCALE = int(os.environ.get("MOCKPOINT_FUZZ_SCALE", "1"))
#: Line breaks as YAML counts them: the oracle for "within the file's bounds".
LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")
PROBLEM_LINE = re.compile(r"^(?P<file>.+?):(?P<line>[1-9]\d*):(?P<column>[1-9]\d*): \S")


def fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples * SCALE,
        derandomize=SCALE == 1,
        deadline=None,
        print_blob=True,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The one file every example is written to (examples run one after another)."""
    return tmp_path_factory.mktemp("fuzz") / "scenario.yaml"


# --- the property -------------------------------------------------------------------------


def in_bounds(line: int, column: int, lines: list[str]) -> bool:
    return 1 <= line <= len(lines) and 1 <= column <= len(lines[line - 1]) + 1


def check(path: Path, raw: bytes) -> list[Problem] | None:
    """Write ``raw``, load it both ways and check the property; the problems, or None
    when it loaded."""
    path.write_bytes(raw)
    lines = LINE_BREAK.split(raw.decode("utf-8-sig", errors="replace"))
    problems: list[Problem] | None = None
    try:
        loaded = load_paths([path])
    except ScenarioError as exc:
        problems = exc.problems
        assert problems, "a ScenarioError without problems"
        for problem in problems:
            assert problem.file == str(path)
            assert problem.message.strip(), problem
            assert problem.message.splitlines() == [problem.message], problem  # one line
            assert in_bounds(problem.line, problem.column, lines), (problem, len(lines))
    else:
        assert [file for file, _ in loaded] == [path]
        for step in loaded[0][1].steps:
            assert step.location is not None
            assert in_bounds(step.location.line, step.location.column, lines), step.location
    check_cli(path, problems)
    return problems


def check_cli(path: Path, problems: list[Problem] | None) -> None:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["validate", str(path)])
    assert "Traceback" not in err.getvalue(), err.getvalue()
    if problems is None:
        assert (code, out.getvalue(), err.getvalue()) == (
            ExitCode.OK,
            "ok: 1 scenario(s) in 1 file(s)\n",
            "",
        )
        return
    assert code == ExitCode.USAGE, err.getvalue()
    assert out.getvalue() == ""
    *lines, summary = err.getvalue().removesuffix("\n").split("\n")
    assert lines == [str(problem) for problem in problems]
    assert all(PROBLEM_LINE.match(line) for line in lines), lines
    assert summary == f"invalid: {len(problems)} problem(s) in 1 file(s)"


# --- random bytes and text ----------------------------------------------------------------

SPECIAL = ["\x00", "\x07", "\x1b", "\t", "\r", "\r\n", "\x85", "\u2028", "\ufeff", "\ud800"]


@fuzz(150)
@given(st.binary(max_size=400))
def test_random_bytes(scenario_file: Path, raw: bytes) -> None:
    check(scenario_file, raw)


@fuzz(120)
@given(
    st.lists(st.one_of(st.text(max_size=30), st.sampled_from(SPECIAL)), max_size=12),
    st.sampled_from([b"", b"\xef\xbb\xbf", b"name: x\nsteps:\n  - wait: 1\n"]),
)
def test_random_text(scenario_file: Path, parts: list[str], prefix: bytes) -> None:
    # surrogatepass: a lone surrogate becomes bytes that are not UTF-8
    check(scenario_file, prefix + "".join(parts).encode("utf-8", "surrogatepass"))


@pytest.mark.parametrize(
    "text",
    [
        "name: " + "x" * 200_000 + "\nsteps:\n  - wait: 1\n",
        "name: x\nsteps:\n  - wait: 1\n" + "y" * 200_000 + "\x00",
        "name: x\nsteps: [" + ", ".join(["{wait: 1}"] * 2_000) + "]\n",
        "name: x\ndescription: '" + "a\\" * 100_000 + "'\nsteps:\n  - wait: 1\n",
        "# " + "é" * 100_000 + "\n\udcff",  # then a byte that is not UTF-8
    ],
    ids=["long-name", "long-line-then-nul", "long-flow-list", "long-quoted", "then-not-utf8"],
)
def test_huge_lines(scenario_file: Path, text: str) -> None:
    check(scenario_file, text.encode("utf-8", "surrogateescape"))


# --- YAML token soup ----------------------------------------------------------------------

TOKENS = [
    *["-", "- ", ":", ": ", " ", "  ", "\n", "\n  ", "\n    ", "{", "}", "[", "]", ",", "?"],
    *["&a ", "*a", "&b ", "*b", "*nope", "<<: ", "!!python/object:os.system ", "!!int ", "!!set "],
    *["!!binary ", "!!timestamp ", "!local ", "! ", "|", ">", "'", '"', "#", "%YAML 1.1\n"],
    *["---\n", "...\n", "\t", "\\", "\x00", "\u2028", "\r", "@", "`", "%"],
    *["name", "steps", "send", "BootNotification", "payload", "wait", "charge_point"],
    *["1", "-1", "1:2:3", "0x1f", ".nan", ".inf", "~", "null", "yes", "9" * 400, "30s", "${x}"],
]


@fuzz(200)
@given(st.lists(st.sampled_from(TOKENS), max_size=40))
def test_yaml_token_soup(scenario_file: Path, tokens: list[str]) -> None:
    check(scenario_file, "".join(tokens).encode("utf-8", "surrogatepass"))


# --- generated YAML documents -------------------------------------------------------------

KEYS = [
    *["name", "description", "csms", "mock_csms", "charge_point", "clock", "seed", "timeout"],
    *["steps", *STEP_KINDS, "payload", "expect", "expect_error", "reply", "reply_error"],
    *["save", "within", "invalid", "continue_on_failure", "connector", "id_tag", "power"],
    *["duration", "reason", "error_code", "type", "url", "security_profile", "password"],
    *["configuration", "connectors", "id", "vendor", "start", "speed", "connectorId"],
    *["meterValue", "sampledValue", "value", "idTag", "status", "HeartbeatInterval"],
    *["NumberOfConnectors", "boot", "id_tags", "answers", "$type", "$in", "1", "0", "a.b"],
    *["[0]", "${v}", ""],
]
WORDS = [
    *["BootNotification", "Heartbeat", "MeterValues", "StatusNotification", "Authorize"],
    *["RemoteStartTransaction", "Reset", "GetConfiguration", "DataTransfer", "NotAnAction"],
    *["Accepted", "Charging", "Local", "GroundFailure", "Operative", "ws://127.0.0.1:9/x"],
    *["30s", "-5m", "11kW", "20kWh", "7x", "${x}", "2025-06-01T08:00:00Z", "2025-13-45"],
    *["1:30", "0x1F", "0o17", "1_000", "+.5", "yes", "off", "~", "null", "1e999", "9" * 400],
    *["9" * 5000, ":".join(["59"] * 200), "-0"],
]
TAGS = [
    *["!!python/object:os.system", "!!python/object/apply:os.system", "!!python/name:os.system"],
    *["!!set", "!!omap", "!!pairs", "!!binary", "!!int", "!!float", "!!bool", "!!str"],
    *["!!timestamp", "!!null", "!!map", "!!seq", "!!merge", "!!value", "!custom", "!"],
    "!<tag:yaml.org,2002:str>",
]


def scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value:
            return ".nan"
        if value in (float("inf"), float("-inf")):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    return json.dumps(value)  # a double-quoted YAML scalar


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(),
    st.text(max_size=12),
).map(scalar) | st.sampled_from(WORDS)


def junk(draw: st.DrawFn, anchors: list[str], depth: int = 0) -> str:
    """Any YAML node in flow style, meant or not: anchors and aliases (to anchors of any
    shape, to the node itself, to none), tags, complex keys, merge keys, duplicate keys,
    nesting around the depth limit."""
    kinds = ["scalar"] * 8 + ["list", "map", "map"] * (depth < 4) + ["alias"] * 2 * bool(anchors)
    kind = draw(st.sampled_from([*kinds, "tagged", "deep", "bad-alias"]))
    if kind == "alias":
        return "*" + draw(st.sampled_from(anchors))
    if kind == "bad-alias":
        return "*nowhere"
    if kind == "deep":
        levels = draw(st.integers(1, 130))
        return "[" * levels + junk(draw, anchors, depth + 1) + "]" * levels
    if kind == "tagged":
        return draw(st.sampled_from(TAGS)) + " " + junk(draw, anchors, depth + 1)
    anchor = ""
    if draw(st.integers(0, 3)) == 0:
        anchors.append(f"j{len(anchors)}")
        anchor = f"&{anchors[-1]} "
    if kind == "scalar":
        return anchor + draw(SCALARS)
    if kind == "list":
        items = [junk(draw, anchors, depth + 1) for _ in range(draw(st.integers(0, 4)))]
        return anchor + "[" + ", ".join(items) + "]"
    entries: list[str] = []
    for _ in range(draw(st.integers(0, 4))):
        choice = draw(st.integers(0, 9))
        if choice == 0:
            key = "? " + junk(draw, anchors, 4)  # lists and mappings as keys are refused
        elif choice == 1:
            key = "<<"  # merge whatever comes
        else:
            key = json.dumps(draw(st.sampled_from(KEYS)))
        entries.append(f"{key}: {junk(draw, anchors, depth + 1)}")
    if draw(st.booleans()) and entries:
        entries.append(draw(st.sampled_from(entries)))  # a duplicate key
    return anchor + "{" + ", ".join(entries) + "}"


@st.composite
def wild_documents(draw: st.DrawFn) -> str:
    """A block mapping of scenario keys (and ``steps`` as a block list) holding junk."""
    anchors: list[str] = []
    lines = []
    for _ in range(draw(st.integers(0, 4))):
        lines.append(f"{json.dumps(draw(st.sampled_from(KEYS)))}: {junk(draw, anchors)}")
    if draw(st.integers(0, 4)):
        lines.append("steps:")
        for _ in range(draw(st.integers(0, 4))):
            kind = json.dumps(draw(st.sampled_from(STEP_KINDS)))
            lines.append(f"  - {{{kind}: {junk(draw, anchors, 1)}}}")
    return "\n".join(lines) + "\n"


@fuzz(150)
@given(wild_documents())
def test_wild_documents(scenario_file: Path, text: str) -> None:
    check(scenario_file, text.encode())


#: Scenario parts that are valid as they stand, for documents that get far into the checks.
HEADER: dict[str, list[Any]] = {
    "description": ["Plug in, charge, stop.", ""],
    "seed": [7, 0],
    "timeout": ["30s", 5],
    "csms": [
        "ws://127.0.0.1:9000/ocpp",
        {"url": "wss://csms.example/ocpp", "security_profile": 2, "password": "${PW}"},
    ],
    "clock": [{"start": "2025-06-01T08:00:00Z", "speed": 0}, {"speed": 60}],
    "charge_point": [
        {"id": "CP-001", "vendor": "Acme", "model": "AC22", "connectors": 2},
        {
            "connectors": 1,
            "configuration": {"HeartbeatInterval": 300, "LocalAuthorizeOffline": True},
        },
    ],
    "mock_csms": [{"boot": {"status": "Accepted", "interval": 60}}],
}
STEPS: list[dict[str, Any]] = [
    {"send": "BootNotification", "expect": {"status": "Accepted"}},
    {"send": "Heartbeat", "timeout": "5s"},
    {"plug_in": {"connector": 1}},
    {"authorize": {"id_tag": "TAG-001"}, "expect": {"idTagInfo": {"status": "Accepted"}}},
    {"start_transaction": {"connector": 1, "id_tag": "TAG-001"}, "save": {"tx": "transactionId"}},
    {"charge": {"connector": 1, "power": "11kW", "duration": "30m"}},
    {"stop_transaction": {"connector": 1, "reason": "Local"}},
    {"fault": {"connector": 1, "error_code": "GroundFailure"}, "continue_on_failure": True},
    {"set_availability": {"connector": 0, "type": "Inoperative"}},
    {"session": {"connector": 1, "id_tag": "TAG-002", "power": "7.4kW", "duration": "5m"}},
    {"await": "RemoteStartTransaction", "within": "60s", "reply": {"status": "Accepted"}},
    {"await": "GetConfiguration", "reply": {"configurationKey": [{"key": "K", "readonly": True}]}},
    {"wait": "5m"},
    {"expect_state": {"connectors": {1: {"status": "Available"}}, "connected": True}},
    {"disconnect": {"reconnect_after": "10s"}},
    {"reconnect": None},
    {
        "send": "MeterValues",
        "payload": {
            "connectorId": 1,
            "meterValue": [
                {"timestamp": "2025-06-01T08:00:00Z", "sampledValue": [{"value": "${tx}"}]}
            ],
        },
    },
    {"send": "StatusNotification", "payload": {"connectorId": 2, "status": "Faulted"}},
]
TYPE_TAGS = {bool: "!!bool", int: "!!int", float: "!!float", str: "!!str", type(None): "!!null"}
TYPE_TAGS |= {dict: "!!map", list: "!!seq"}


@st.composite
def scenario_documents(draw: st.DrawFn) -> str:
    """A scenario built of valid parts, written with YAML's features (block and flow
    styles, anchors, aliases, merge keys, explicit tags), here and there a value, key or
    node changed: most get past the YAML into the models and the payload checks."""
    anchors: list[tuple[str, Any]] = []  # name and value
    junk_anchors: list[str] = []
    # plain odds: Hypothesis's own choices lean to their bounds, here to changing most
    random = Random(draw(st.integers(0, 2**32)))

    def one_in(n: int) -> bool:
        return random.randrange(n) == 0

    def flow(value: Any, depth: int) -> str:
        if one_in(150):
            return junk(draw, junk_anchors, depth)
        alike = [name for name, seen in anchors if type(seen) is type(value)]
        equal = [name for name, seen in anchors if name in alike and seen == value]
        if equal and one_in(3) or alike and one_in(40):
            return "*" + random.choice(equal if equal and one_in(2) else alike)
        prefix = TYPE_TAGS[type(value)] + " " if one_in(15) else ""  # the tag it has anyway
        if isinstance(value, list):
            text = "[" + ", ".join(flow(item, depth + 1) for item in value) + "]"
        elif isinstance(value, dict):
            text = "{" + ", ".join(entries(value, depth + 1)) + "}"
        else:
            text = scalar(value)
        if one_in(6):
            anchors.append((f"a{len(anchors)}", value))
            prefix = f"&{anchors[-1][0]} " + prefix
        return prefix + text

    def entries(value: dict[Any, Any], depth: int) -> list[str]:
        maps = [name for name, seen in anchors if isinstance(seen, dict)]
        equal = [name for name, seen in anchors if name in maps and seen == value]
        merged = random.choice(equal) if equal and one_in(3) else None
        merged = random.choice(maps) if maps and one_in(40) else merged
        found = [f"<<: *{merged}"] if merged else ["<<: {}"] * one_in(40)
        found += [f"{scalar(key)}: {flow(item, depth)}" for key, item in value.items()]
        if found and one_in(50):
            found.append(random.choice(found))  # a duplicate key
        if one_in(50):
            found.append(f"{json.dumps(random.choice(KEYS))}: {draw(SCALARS)}")
        return found

    def block(value: dict[Any, Any], indent: str, first: str) -> list[str]:
        """A mapping in block style, its first line after ``first``."""
        lines = []
        for entry in entries(value, 1):
            lines.append((first or indent) + entry)
            first = ""
        return lines or [(first or indent) + "{}"]

    header = {key: random.choice(values) for key, values in HEADER.items() if one_in(3)}
    lines = block({"name": "generated", **header}, "", "")
    steps = random.choices(STEPS, k=random.randrange(7) if one_in(20) else random.randint(1, 6))
    lines.append("steps:" + (" []" if not steps else ""))
    for step in steps:
        if one_in(2):
            lines.append("  - " + flow(step, 1))
        else:
            lines.extend(block(step, "    ", "  - "))
    return "\n".join(lines) + "\n"


@fuzz(200)
@given(scenario_documents())
def test_scenario_documents(scenario_file: Path, text: str) -> None:
    check(scenario_file, text.encode())


# --- billion laughs -----------------------------------------------------------------------


def laughs(levels: int, width: int, mapping: bool) -> str:
    """Anchors ``l0`` .. ``l{levels-1}``, each repeating the previous one ``width`` times."""
    if mapping:
        chain = ["lol0: &l0 {a: lol, b: lol}"]
        chain += [
            f"lol{i}: &l{i} {{" + ", ".join(f"k{j}: *l{i - 1}" for j in range(width)) + "}"
            for i in range(1, levels)
        ]
    else:
        chain = ["lol0: &l0 [lol, lol]"]
        chain += [
            f"lol{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]" for i in range(1, levels)
        ]
    return "".join(f"  {line}\n" for line in chain)


USES = [
    "description: *{top}",
    "steps: *{top}",
    "mock_csms: {{answers: *{top}}}",
    "steps:\n  - send: MeterValues\n    payload: {{connectorId: 1, meterValue: *{top}}}",
    "steps:\n  - send: Heartbeat\n    expect: {{x: *{top}, y: *{top}}}",
    "steps:\n  - await: GetConfiguration\n    reply: {{configurationKey: *{top}}}",
    "steps:\n  - <<: *{top}\n    wait: 1",
    "steps:\n  - wait: 1\n    ? *{top}\n    : 1",
    "charge_point: {{configuration: *{top}}}",
    "steps:\n  - expect_state: {{connectors: *{top}, configuration: *{top}}}",
]


def time_and_peak_memory(action: Callable[[], object]) -> tuple[float, int]:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        action()
    finally:
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return elapsed, peak


@fuzz(25)
@given(
    st.integers(2, 14),
    st.integers(2, 10),
    st.booleans(),
    st.sampled_from(USES),
)
def test_billion_laughs(
    scenario_file: Path, levels: int, width: int, mapping: bool, use: str
) -> None:
    text = "name: laughs\nlols:\n" + laughs(levels, width, mapping)
    text += use.format(top=f"l{levels - 1}") + "\n"
    started = time.perf_counter()
    problems = check(scenario_file, text.encode())
    assert time.perf_counter() - started < 5 * UNIT
    assert problems  # `lols` is not a scenario key


def test_billion_laughs_is_refused_in_bounded_time_and_memory(scenario_file: Path) -> None:
    """10**10 values if expanded; refused after MAX_REPEATED of them."""
    text = "name: laughs\nlols:\n" + laughs(11, 10, mapping=False)
    text += "steps:\n  - send: MeterValues\n    payload: {connectorId: 1, meterValue: *l10}\n"
    scenario_file.write_text(text)
    elapsed, peak = time_and_peak_memory(
        lambda: pytest.raises(ScenarioError, load_paths, [scenario_file])
    )
    assert elapsed < 5 * UNIT
    assert peak < 64 * 2**20
    with pytest.raises(ScenarioError) as info:
        load_paths([scenario_file])
    assert "aliases repeat more than 10000 values in all" in str(info.value)


# --- deep nesting and tags ----------------------------------------------------------------


#: Five anchors, each 91 lists deep around the one before: 455 levels, 91 at most written.
ALIASED_DEEP = "".join(
    f"d{i}: &d{i} [" + "[" * 90 + (f"*d{i - 1}" if i else "") + "]" * 90 + "]\n" for i in range(5)
)


@pytest.mark.parametrize(
    "text",
    [
        "name: x\nsteps: " + "[" * 5_000 + "]" * 5_000 + "\n",
        "name: x\nsteps: " + "{a: " * 5_000 + "}" * 5_000 + "\n",
        "name: x\nsteps:\n" + "".join(" " * i + "- \n" for i in range(1, 3_000)),
        "name: x\nsteps:\n" + "".join(" " * i + f"k{i}:\n" for i in range(1, 3_000)),
        "name: x\n" + ALIASED_DEEP + "steps: *d4\n",
    ],
    ids=["flow-lists", "flow-maps", "block-lists", "block-maps", "through-aliases"],
)
def test_very_deep_nesting_is_a_problem_not_a_recursion_error(
    scenario_file: Path, text: str
) -> None:
    problems = check(scenario_file, text.encode())
    assert problems and any("levels deep" in p.message for p in problems), problems


@pytest.mark.parametrize("tag", TAGS[:3] + ["!!set", "!!omap", "!custom"])
def test_unsafe_and_unknown_tags_are_refused(scenario_file: Path, tag: str) -> None:
    for value in ("'true'", "[true]", "{args: [true]}"):
        text = f"name: x\nmock_csms: {tag} {value}\nsteps:\n  - wait: 1\n"
        problems = check(scenario_file, text.encode())
        assert problems and any("invalid YAML" in p.message for p in problems), problems


# --- mutations of every valid scenario ----------------------------------------------------

REPLACEMENTS = [
    *["42", "-1", "0", "3.5", ".nan", ".inf", "-.inf", "true", "null", "~", "''", "[]", "{}"],
    *["[1, 2]", "{a: 1}", "'${x}'", "1e999", "9" * 400, "9" * 5000, "0x1F", "1:30", "é"],
    *["2025-06-01T08:00:00Z", "!!int abc", "!!bool maybe", "!!timestamp 2025-02-30"],
    *["!!python/object/apply:os.system ['true']", "!!binary aGk=", "!!set {a}", "&x 1", "*x"],
    *["*nope", "<<", "'", '"unterminated', "|", ">", "- x", "@x", "%x", "\t", "\x00"],
    *["\u2028", "TAG-001", "Accepted", "-1s", "5m", "11kW", "-3kW", "abc", "BootNotification"],
    *["RemoteStartTransaction", "{connector: 0}", "{connector: 101}", "{id_tag: ''}"],
]
INSERTIONS = [
    *["bogus: 1", "stepz: []", "payloda: {}", "plugin: {connector: 1}", "<<: {name: y}"],
    *["name: again", "steps: []", "sned: Heartbeat", "- wait: 1", "- send: Reset"],
    *["- {}", "? [1]", "NumberOfConnectors: 9", "invalid: true", "&y {a: 1}", "<<: *y"],
]
MUTATIONS = ["delete", "duplicate", "swap", "indent", "dedent", "tab", "replace", "insert"]
MUTATIONS += ["truncate", "byte"]


def mutate(raw: bytes, mutation: str, i: int, j: int, choice: int) -> bytes:
    if mutation == "truncate":
        return raw[: i % (len(raw) + 1)]
    if mutation == "byte" and raw:
        return raw[: i % len(raw)] + bytes([j % 256]) + raw[i % len(raw) + 1 :]
    lines = raw.decode("utf-8", errors="surrogateescape").split("\n")
    i, j = i % len(lines), j % len(lines)
    line = lines[i]
    indent = line[: len(line) - len(line.lstrip(" "))]
    if mutation == "delete":
        del lines[i]
    elif mutation == "duplicate":
        lines.insert(i, line)
    elif mutation == "swap":
        lines[i], lines[j] = lines[j], lines[i]
    elif mutation == "indent":
        lines[i] = " " * (1 + j % 4) + line
    elif mutation == "dedent":
        lines[i] = line[1 + j % 4 :] if indent else line
    elif mutation == "tab":
        lines[i] = "\t" + line.lstrip(" ")
    elif mutation == "replace":
        new = REPLACEMENTS[choice % len(REPLACEMENTS)]
        found = re.search(r": |- |\{|\[", line)
        head = line[: found.end()] if found else indent
        lines[i] = head + new
    elif mutation == "insert":
        lines.insert(i + 1, indent + INSERTIONS[choice % len(INSERTIONS)])
    return "\n".join(lines).encode("utf-8", errors="surrogateescape")


@pytest.mark.parametrize("source", SOURCES, ids=[p.name for p in SOURCES])
def test_every_source_is_valid_as_it_stands(scenario_file: Path, source: Path) -> None:
    assert check(scenario_file, source.read_bytes()) is None


MUTATION_LISTS = st.lists(
    st.tuples(
        st.sampled_from(MUTATIONS),
        st.integers(0, 2**16),
        st.integers(0, 2**16),
        st.integers(0, 2**8),
    ),
    min_size=1,
    max_size=4,
)


@pytest.mark.parametrize("source", SOURCES, ids=[p.name for p in SOURCES])
@fuzz(6)
@given(mutations=MUTATION_LISTS)
def test_mutated_sources(
    scenario_file: Path, source: Path, mutations: list[tuple[str, int, int, int]]
) -> None:
    raw = source.read_bytes()
    for mutation in mutations:
        raw = mutate(raw, *mutation)
    check(scenario_file, raw)
