"""Source addresses of a load run and the machine limits it checks (docs/load-limits.md):
``--source-addresses`` as typed, the plan for a loopback CSMS, the charge points' share of
each address, and connections that really leave from 127.0.0.2."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from websockets.asyncio.server import ServerConnection, serve

from conftest import UNIT
from mockpoint.errors import ConnectError, UsageError
from mockpoint.load.addresses import (
    Limits,
    address_capacity,
    limit_warnings,
    needs,
    parse_source_addresses,
    plan_source_addresses,
    read_limits,
    source_for,
)
from mockpoint.transport import SUBPROTOCOL
from mockpoint.transport.base import Inbox
from mockpoint.transport.picows_transport import connect

linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="only Linux routes all of 127.0.0.0/8 to lo"
)
DEFAULT_RANGE = (32768, 60999)  # 28,232 ports; 14,116 planned per address

# --- --source-addresses -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "addresses"),
    [
        ("auto", []),
        (" AUTO ", []),
        ("4", ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"]),
        ("1", ["127.0.0.1"]),
        ("127.0.0.1-127.0.0.3", ["127.0.0.1", "127.0.0.2", "127.0.0.3"]),
        ("127.0.0.254-127.0.1.1", ["127.0.0.254", "127.0.0.255", "127.0.1.0", "127.0.1.1"]),
        ("127.0.0.2,127.0.0.3", ["127.0.0.2", "127.0.0.3"]),
        ("127.0.0.9, 127.0.0.2-127.0.0.3", ["127.0.0.9", "127.0.0.2", "127.0.0.3"]),
        ("10.1.2.3,10.1.2.4", ["10.1.2.3", "10.1.2.4"]),
        ("::1", ["::1"]),
        ("2001:db8::7,2001:db8::8", ["2001:db8::7", "2001:db8::8"]),
    ],
)
def test_source_addresses_as_typed(text: str, addresses: list[str]) -> None:
    assert parse_source_addresses(text) == addresses


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty item"),
        ("127.0.0.1,,127.0.0.2", "empty item"),
        ("0", "a count of addresses is 1 to 1024"),
        ("5000", "a count of addresses is 1 to 1024"),
        ("127.0.0.300", "'127.0.0.300' is not an IPv4 or IPv6 address"),
        ("localhost", "'localhost' is not an IPv4 or IPv6 address"),
        ("127.0.0.8-127.0.0.1", "ends before it starts"),
        ("10.0.0.1-10.0.0.4", "must be of loopback addresses"),
        ("::1-::2", "must be of loopback addresses"),
        ("127.0.0.1-127.1.0.0", "has 65536 addresses, at most 1024"),
        ("127.0.0.2,127.0.0.1-127.0.0.3", "127.0.0.2 is given twice"),
        ("0.0.0.0", "lets the system choose"),
        ("224.0.0.1", "multicast"),
        ("127.0.0.0", "the loopback network's own address"),
    ],
)
def test_source_addresses_that_cannot_be_read(text: str, problem: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_source_addresses(text)
    message = str(caught.value)
    assert message.startswith(f"--source-addresses {text!r}: ")
    assert problem in message
    assert "127.0.0.1-127.0.0.8" in message  # what to write instead


# --- the plan --------------------------------------------------------------------------


def test_one_address_holds_half_the_ephemeral_range() -> None:
    assert address_capacity(DEFAULT_RANGE) == 14_116
    assert address_capacity((1024, 65535)) == 32_256


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "127.0.0.5"])
def test_a_loopback_csms_gets_enough_source_addresses(host: str) -> None:
    assert plan_source_addresses(host, 14_116, port_range=DEFAULT_RANGE) is None
    assert plan_source_addresses(host, 14_117, port_range=DEFAULT_RANGE) == [
        "127.0.0.1",
        "127.0.0.2",
    ]
    planned = plan_source_addresses(host, 50_000, port_range=DEFAULT_RANGE)
    assert planned == ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"]


@pytest.mark.parametrize("host", ["csms.example.com", "10.0.0.7", "::1", "[::1]"])
def test_the_system_chooses_for_a_remote_or_ipv6_csms(host: str) -> None:
    assert plan_source_addresses(host, 50_000, port_range=DEFAULT_RANGE) is None


def test_listed_addresses_are_used_as_listed() -> None:
    listed = parse_source_addresses("127.0.0.7,127.0.0.9")
    assert plan_source_addresses("127.0.0.1", 10, listed) == listed
    assert plan_source_addresses("csms.example.com", 10, ["10.1.2.3"]) == ["10.1.2.3"]
    assert plan_source_addresses("127.0.0.1", 50_000, [], port_range=DEFAULT_RANGE) == [
        "127.0.0.1",
        "127.0.0.2",
        "127.0.0.3",
        "127.0.0.4",
    ]


def test_listed_addresses_of_the_other_ip_version_are_refused() -> None:
    with pytest.raises(UsageError, match=r"::1 is IPv6 and the CSMS 127\.0\.0\.1 IPv4"):
        plan_source_addresses("127.0.0.1", 10, ["127.0.0.2", "::1"])


def test_each_address_holds_an_equal_share_whichever_worker_runs_the_charge_point() -> None:
    addresses = ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
    assert [source_for(n, addresses) for n in (1, 2, 3, 4)] == [*addresses, "127.0.0.1"]
    count, workers = 1000, 4  # the shards' slices: every 4th charge point from the w-th
    per_address = Counter(
        source_for(n, addresses)
        for worker in range(workers)
        for n in range(1 + worker, 1 + count, workers)
    )
    assert sorted(per_address.values()) == [333, 333, 334]


# --- limits ----------------------------------------------------------------------------


def test_raising_the_open_files_limit_reaches_the_hard_limit() -> None:
    # In a child, so this test process keeps its limits.
    script = (
        "import resource; from mockpoint.load.addresses import raise_fd_limit\n"
        "soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (min(64, hard), hard))\n"
        "print(*raise_fd_limit(), hard)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30 * UNIT
    )
    assert out.returncode == 0, out.stderr
    soft, hard, before = (int(value) for value in out.stdout.split())
    assert hard == before
    assert soft == hard or hard < 0  # RLIM_INFINITY (-1) stays as it is


def test_a_run_that_fits_gets_no_warning() -> None:
    limits = Limits(
        open_files=(1024, 1_048_576),
        port_range=DEFAULT_RANGE,
        somaxconn=4096,
        file_max=9_000_000,
        nr_open=1_048_576,
        conntrack_max=262_144,
        memory_available=24 * 2**30,
    )
    addresses = plan_source_addresses("127.0.0.1", 50_000, port_range=DEFAULT_RANGE)
    need = needs(50_000, workers=2, target_host="127.0.0.1", addresses=addresses)
    assert need.files_per_worker == 25_256
    assert need.files_total == 100_512  # both ends of each connection are here
    assert need.ports_per_address == 12_500
    assert limit_warnings(need, limits) == []


def test_each_limit_too_low_is_named_with_the_command_that_raises_it() -> None:
    limits = Limits(
        open_files=(1024, 20_000),
        port_range=DEFAULT_RANGE,
        somaxconn=128,
        file_max=90_000,
        nr_open=20_000,
        conntrack_max=32_768,
        memory_available=1 * 2**30,
    )
    need = needs(50_000, workers=2, target_host="127.0.0.1")
    warnings = limit_warnings(need, limits)
    expected = [
        "use --workers 3 or more, or raise the limit (`ulimit -n 25256` in a root shell",
        "`sysctl -w fs.nr_open=26000`",
        "`sysctl -w fs.file-max=110000`",
        "--source-addresses 2 (or auto), or widen the range "
        "(`sysctl -w net.ipv4.ip_local_port_range='1024 65535'`)",
        "`sysctl -w net.core.somaxconn=400`",
        "`sysctl -w net.netfilter.nf_conntrack_max=55000`",
        "about 2.6 GiB for 50,000 charge points and 1.0 GiB available",
    ]
    assert len(warnings) == len(expected)
    for warning, text in zip(warnings, expected, strict=True):
        assert text in warning, warning


def test_a_remote_csms_needs_addresses_of_this_machine() -> None:
    limits = Limits(open_files=(1024, 1_048_576), port_range=DEFAULT_RANGE)
    need = needs(40_000, workers=4, target_host="csms.example.com")
    (warning,) = limit_warnings(need, limits)
    assert "--source-addresses with 2 addresses of this machine" in warning
    assert need.files_total == 40_000 + 4 * 256  # the CSMS's end is elsewhere


def test_this_machine_s_limits_are_read() -> None:
    limits = read_limits()
    soft, hard = limits.open_files
    assert soft > 0
    if sys.platform.startswith("linux"):
        assert limits.port_range is not None
        low, high = limits.port_range
        assert 0 < low <= high <= 65535
        assert limits.somaxconn is not None and limits.somaxconn > 0


# --- over real connections --------------------------------------------------------------


@asynccontextmanager
async def _peers() -> AsyncIterator[tuple[str, list[str]]]:
    """A WebSocket server on 127.0.0.1 recording each connection's peer address."""
    seen: list[str] = []

    async def handler(connection: ServerConnection) -> None:
        seen.append(connection.remote_address[0])
        await connection.wait_closed()

    async with serve(handler, "127.0.0.1", 0, subprotocols=[SUBPROTOCOL]) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}/ocpp", seen


@linux_only
async def test_the_csms_sees_the_source_address() -> None:
    async with _peers() as (url, seen), asyncio.timeout(10 * UNIT):
        transport = await connect(url, "CP-001", local_addr="127.0.0.2")
        inbox = Inbox(transport)
        plain = await connect(url, "CP-002")
        assert transport.subprotocol == SUBPROTOCOL
        await inbox.send('[2,"1","Heartbeat",{}]')  # an open, working connection
        await transport.close()
        await plain.close()
    assert seen == ["127.0.0.2", "127.0.0.1"]


@linux_only
async def test_charge_points_spread_over_the_planned_addresses() -> None:
    addresses = parse_source_addresses("127.0.0.2-127.0.0.4")
    async with _peers() as (url, seen), asyncio.timeout(10 * UNIT):
        transports = [
            await connect(url, f"CP-{n:03d}", local_addr=source_for(n, addresses))
            for n in range(1, 7)
        ]
        for transport in transports:
            await transport.close()
    assert Counter(seen) == {"127.0.0.2": 2, "127.0.0.3": 2, "127.0.0.4": 2}


async def test_a_source_address_not_of_this_machine_is_a_clear_permanent_failure() -> None:
    async with _peers() as (url, seen), asyncio.timeout(10 * UNIT):
        with pytest.raises(ConnectError) as caught:
            await connect(url, "CP-001", local_addr="192.0.2.1")  # TEST-NET-1
    assert "cannot connect from source address 192.0.2.1" in str(caught.value)
    assert "is it an address of this machine?" in str(caught.value)
    assert caught.value.permanent
    assert seen == []
