"""Source addresses of a load run, and the limits of one machine it meets.

A TCP connection is named by (source address, source port, CSMS address, CSMS port), so
from one source address a machine opens at most as many connections to one CSMS endpoint
as its ephemeral port range has ports (``net.ipv4.ip_local_port_range``; 28,232 by
default). Linux routes all of 127.0.0.0/8 to the loopback interface, so a load run against
a CSMS on this machine connects from 127.0.0.1, 127.0.0.2, ... and holds that many
connections per address. Each charge point keeps its address (:func:`source_for`) by its
number, the same in every worker process.

The other limits (open files per process and in the system, the listen backlog,
conntrack, memory) are read by :func:`read_limits` and checked by :func:`limit_warnings`,
each warning with the command that raises the limit. docs/load-limits.md explains them.
"""

from __future__ import annotations

import ipaddress
import math
import resource
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mockpoint.errors import UsageError

#: ``--source-addresses auto``: plan the addresses (:func:`plan_source_addresses`).
AUTO = "auto"
#: The most addresses a count or a range may give; far more than any run needs (each
#: holds over 10,000 connections), and a typo of a range stays small.
MAX_ADDRESSES = 1024
FIRST_LOOPBACK = ipaddress.IPv4Address("127.0.0.1")
LOOPBACK_NETWORK = ipaddress.IPv4Network("127.0.0.0/8")
#: Open files a worker needs besides its connections: the interpreter, its pipes, logs.
FILES_HEADROOM = 256
#: Client memory per connected charge point of ``mockpoint load`` with Heartbeats flowing:
#: 46.5 KB of worker RSS measured at 50,000 and about 5.5 KB of kernel memory for its
#: socket, rounded up (docs/load-limits.md).
BYTES_PER_CHARGE_POINT = 55_000
#: The default range, for a system that does not say (not Linux).
DEFAULT_PORT_RANGE = (32768, 60999)

_PROC = Path("/proc/sys")


# --- --source-addresses ------------------------------------------------------------------


def parse_source_addresses(text: str) -> list[str]:
    """The addresses of ``--source-addresses TEXT``.

    * ``auto``: ``[]``, which :func:`plan_source_addresses` fills when one address is not
      enough;
    * a count ``4``: 127.0.0.1 to 127.0.0.4;
    * a range ``127.0.0.1-127.0.0.8`` (of loopback addresses, both ends included);
    * a list ``127.0.0.2,127.0.0.3`` of addresses or ranges. Only a listed address may be
      outside 127.0.0.0/8 (an address of this machine towards a remote CSMS), IPv6 too.

    Raises UsageError naming the option and what is wrong.
    """
    stripped = text.strip()
    if stripped.lower() == AUTO:
        return []
    if stripped.isdigit():
        count = int(stripped)
        if not 1 <= count <= MAX_ADDRESSES:
            raise _bad(text, f"a count of addresses is 1 to {MAX_ADDRESSES}")
        return [str(FIRST_LOOPBACK + offset) for offset in range(count)]
    addresses: list[str] = []
    for item in stripped.split(","):
        item = item.strip()
        if not item:
            raise _bad(text, "an empty item in the list")
        if "-" in item:
            addresses.extend(_range(text, item))
        else:
            addresses.append(str(_address(text, item)))
    seen: set[str] = set()
    for address in addresses:
        if address in seen:
            raise _bad(text, f"{address} is given twice")
        seen.add(address)
    if len(addresses) > MAX_ADDRESSES:
        raise _bad(text, f"{len(addresses)} addresses; at most {MAX_ADDRESSES}")
    return addresses


def _bad(text: str, problem: str) -> UsageError:
    return UsageError(
        f"--source-addresses {text!r}: {problem} (write auto, a count such as 4, a range "
        "such as 127.0.0.1-127.0.0.8, or addresses separated by commas)"
    )


def _address(text: str, item: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        address = ipaddress.ip_address(item)
    except ValueError:
        raise _bad(text, f"{item!r} is not an IPv4 or IPv6 address") from None
    if address.is_unspecified:
        raise _bad(text, f"{item} lets the system choose; leave out --source-addresses")
    if address.is_multicast:
        raise _bad(text, f"{item} is a multicast address")
    if isinstance(address, ipaddress.IPv4Address) and address in LOOPBACK_NETWORK:
        if address in (LOOPBACK_NETWORK.network_address, LOOPBACK_NETWORK.broadcast_address):
            raise _bad(text, f"{item} is the loopback network's own address, not a host's")
    return address


def _range(text: str, item: str) -> list[str]:
    low_text, _dash, high_text = item.partition("-")
    low, high = _address(text, low_text.strip()), _address(text, high_text.strip())
    for end in (low, high):
        if not isinstance(end, ipaddress.IPv4Address) or end not in LOOPBACK_NETWORK:
            raise _bad(
                text,
                f"the range {item} must be of loopback addresses 127.x.y.z; list other "
                "addresses one by one",
            )
    if int(high) < int(low):
        raise _bad(text, f"the range {item} ends before it starts")
    if int(high) - int(low) + 1 > MAX_ADDRESSES:
        raise _bad(
            text,
            f"the range {item} has {int(high) - int(low) + 1} addresses, at most {MAX_ADDRESSES}",
        )
    return [str(ipaddress.IPv4Address(n)) for n in range(int(low), int(high) + 1)]


# --- planning ----------------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback IP literal; a name is not looked up."""
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def address_capacity(port_range: tuple[int, int] | None = None) -> int:
    """Connections one source address is planned to hold to one CSMS endpoint: half the
    ephemeral range. connect() tries the even ports first (the odd ones are bind()'s); past
    them each connect searches the whole range and the connect rate halves
    (benchmarks/README.md). The whole range is the hard limit."""
    low, high = port_range or read_port_range() or DEFAULT_PORT_RANGE
    return max(1, (high - low + 1) // 2)


def plan_source_addresses(
    target_host: str,
    count: int,
    explicit: Sequence[str] | None = None,
    *,
    port_range: tuple[int, int] | None = None,
) -> list[str] | None:
    """The source addresses of a run of ``count`` charge points against ``target_host``,
    or None to let the system choose.

    Addresses listed by the user (``explicit``, from :func:`parse_source_addresses`) are
    used as they are, if of the target's IP version. Otherwise (``auto``, or no option):
    None unless the target is IPv4 loopback and ``count`` is more than one address holds
    (:func:`address_capacity`), then enough of 127.0.0.1, 127.0.0.2, ... ``port_range``
    defaults to the system's (None where it does not say, e.g. not Linux: one address).
    """
    if explicit:
        _check_version(target_host, explicit)
        return list(explicit)
    if not is_loopback(target_host) or _is_ipv6(target_host):
        return None
    port_range = port_range or read_port_range()
    if port_range is None:
        return None
    per_address = address_capacity(port_range)
    if count <= per_address:
        return None
    needed = min(MAX_ADDRESSES, math.ceil(count / per_address))
    return [str(FIRST_LOOPBACK + offset) for offset in range(needed)]


def _is_ipv6(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).version == 6
    except ValueError:
        return False


def _check_version(target_host: str, addresses: Sequence[str]) -> None:
    try:
        target = ipaddress.ip_address(target_host.strip("[]"))
    except ValueError:
        return  # a name: the connection looks it up in each source address's version
    for address in addresses:
        if ipaddress.ip_address(address).version != target.version:
            raise UsageError(
                f"--source-addresses: {address} is IPv{ipaddress.ip_address(address).version} "
                f"and the CSMS {target_host} IPv{target.version}; give addresses of one "
                "version with it"
            )


def source_for(number: int, addresses: Sequence[str]) -> str:
    """The source address of charge point ``number`` (from 1): round robin over
    ``addresses``, so each holds an equal share of the run, whichever worker runs it."""
    return addresses[(number - 1) % len(addresses)]


# --- limits ------------------------------------------------------------------------------


def raise_fd_limit() -> tuple[int, int]:
    """Raise this process's soft open-files limit (RLIMIT_NOFILE) to its hard limit, which
    any process may do; return (soft, hard) as they are then."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass  # e.g. a sandbox that refuses: the soft limit stays
    return resource.getrlimit(resource.RLIMIT_NOFILE)


@dataclass(frozen=True)
class Limits:
    """The limits of this machine that a load run meets; None where the system does not
    say (not Linux, or not loaded: conntrack)."""

    #: (soft, hard) RLIMIT_NOFILE of this process
    open_files: tuple[int, int]
    #: net.ipv4.ip_local_port_range
    port_range: tuple[int, int] | None = None
    #: net.core.somaxconn: the most a listen backlog can be
    somaxconn: int | None = None
    #: fs.file-max: open files in the whole system
    file_max: int | None = None
    #: fs.nr_open: the most a process's hard open-files limit can be
    nr_open: int | None = None
    #: net.netfilter.nf_conntrack_max, when connection tracking is loaded
    conntrack_max: int | None = None
    #: MemAvailable of /proc/meminfo, in bytes
    memory_available: int | None = None


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def read_port_range() -> tuple[int, int] | None:
    """net.ipv4.ip_local_port_range, or None where the system does not say."""
    try:
        low, high = (
            int(part) for part in (_PROC / "net/ipv4/ip_local_port_range").read_text().split()
        )
    except (OSError, ValueError):
        return None
    return low, high


def read_limits() -> Limits:
    """This machine's limits, as :func:`limit_warnings` checks them."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    available = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                available = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return Limits(
        open_files=(soft, hard),
        port_range=read_port_range(),
        somaxconn=_read_int(_PROC / "net/core/somaxconn"),
        file_max=_read_int(_PROC / "fs/file-max"),
        nr_open=_read_int(_PROC / "fs/nr_open"),
        conntrack_max=_read_int(_PROC / "net/netfilter/nf_conntrack_max"),
        memory_available=available,
    )


@dataclass(frozen=True)
class Needs:
    """What a run of ``charge_points`` needs of the machine it runs on."""

    charge_points: int
    workers: int
    #: open files of the busiest worker: its connections and FILES_HEADROOM
    files_per_worker: int
    #: open files in the system: the connections, twice when the CSMS runs here too
    files_total: int
    #: source addresses the connections leave from (1: the system's choice)
    addresses: int
    #: ephemeral ports taken from the busiest source address: its connections to the CSMS
    ports_per_address: int
    #: handshakes in flight at once: what the CSMS's listen backlog takes
    handshakes_in_flight: int
    #: client memory, estimated from BYTES_PER_CHARGE_POINT
    memory: int
    #: the CSMS is on this machine (a loopback target)
    local_csms: bool


def needs(
    charge_points: int,
    *,
    workers: int,
    target_host: str,
    addresses: Sequence[str] | None = None,
    handshakes_per_worker: int = 200,
) -> Needs:
    """What ``charge_points`` spread over ``workers`` processes (0: in this process) and
    over ``addresses`` (None: the system's choice) need, against ``target_host``; each
    worker keeps ``handshakes_per_worker`` handshakes in flight (the shard's
    HANDSHAKES_IN_FLIGHT)."""
    processes = max(1, workers)
    per_worker = math.ceil(charge_points / processes)
    spread = len(addresses) if addresses else 1
    local = is_loopback(target_host)
    return Needs(
        charge_points=charge_points,
        workers=processes,
        files_per_worker=per_worker + FILES_HEADROOM,
        files_total=charge_points * (2 if local else 1) + FILES_HEADROOM * processes,
        addresses=spread,
        ports_per_address=math.ceil(charge_points / spread),
        handshakes_in_flight=min(charge_points, handshakes_per_worker * processes),
        memory=charge_points * BYTES_PER_CHARGE_POINT,
        local_csms=local,
    )


def limit_warnings(need: Needs, limits: Limits) -> list[str]:
    """One warning per limit of ``limits`` too low for ``need``, each with the command that
    raises it (docs/load-limits.md). The soft open-files limit is not one: a worker raises
    it to the hard limit itself (:func:`raise_fd_limit`)."""
    warnings: list[str] = []
    files = need.files_per_worker
    _soft, hard = limits.open_files
    if hard != resource.RLIM_INFINITY and files > hard:
        fits = max(1, hard - FILES_HEADROOM)
        workers = math.ceil(need.charge_points / fits)
        warnings.append(
            f"open files: each of {need.workers} worker(s) holds up to {files:,} and the hard "
            f"limit is {hard:,}: use --workers {workers} or more, or raise the limit "
            f"(`ulimit -n {files}` in a root shell, LimitNOFILE={files} for a systemd "
            f"service, `--ulimit nofile={files}:{files}` for docker)"
        )
    if limits.nr_open is not None and files > limits.nr_open:
        warnings.append(
            f"open files: no process may hold more than fs.nr_open = {limits.nr_open:,}: "
            f"`sysctl -w fs.nr_open={_round_up(files)}`"
        )
    if limits.file_max is not None and need.files_total > limits.file_max:
        warnings.append(
            f"open files: the run needs {need.files_total:,} in the system and fs.file-max "
            f"is {limits.file_max:,}: `sysctl -w fs.file-max={_round_up(need.files_total)}`"
        )
    if limits.port_range is not None:
        low, high = limits.port_range
        ports = high - low + 1
        if need.ports_per_address > ports:
            more = math.ceil(need.charge_points / ports)
            if need.local_csms:
                fix = f"--source-addresses {more} (or auto)"
            else:
                fix = f"--source-addresses with {more} addresses of this machine"
            warnings.append(
                f"ephemeral ports: {need.ports_per_address:,} connections from one source "
                f"address to one CSMS endpoint and the range {low}-{high} has {ports:,} "
                f"ports: {fix}, or widen the range "
                "(`sysctl -w net.ipv4.ip_local_port_range='1024 65535'`)"
            )
    if (
        need.local_csms
        and limits.somaxconn is not None
        and need.handshakes_in_flight > limits.somaxconn
    ):
        warnings.append(
            f"listen backlog: up to {need.handshakes_in_flight:,} handshakes in flight and "
            f"net.core.somaxconn is {limits.somaxconn:,}, so the CSMS's backlog drops "
            f"connections: `sysctl -w net.core.somaxconn={_round_up(need.handshakes_in_flight)}`"
        )
    if limits.conntrack_max is not None:
        tracked = need.charge_points + need.charge_points // 10
        if tracked > limits.conntrack_max:
            warnings.append(
                f"conntrack: {need.charge_points:,} connections and nf_conntrack_max is "
                f"{limits.conntrack_max:,}; a full table drops new connections: "
                f"`sysctl -w net.netfilter.nf_conntrack_max={_round_up(tracked)}`"
            )
    if limits.memory_available is not None and need.memory > limits.memory_available:
        warnings.append(
            f"memory: about {need.memory / 2**30:.1f} GiB for {need.charge_points:,} charge "
            f"points and {limits.memory_available / 2**30:.1f} GiB available: run fewer "
            "here and the rest on another machine (--shard)"
        )
    return warnings


def _round_up(value: int) -> int:
    """``value`` rounded up to a round figure for a command line (two significant digits)."""
    step: int = 10 ** max(0, len(str(value)) - 2)
    return -(-value // step) * step


__all__ = [
    "AUTO",
    "address_capacity",
    "Limits",
    "Needs",
    "is_loopback",
    "limit_warnings",
    "needs",
    "parse_source_addresses",
    "plan_source_addresses",
    "raise_fd_limit",
    "read_limits",
    "read_port_range",
    "source_for",
]
