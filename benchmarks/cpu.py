"""Where the CPU went during a benchmark phase, and a CPU cap per process.

The delivery benchmark's two-process figure (issue 13, target 4) is bounded by the machine: Baton, its
PostgreSQL server, the fake Slack and the load generator share this machine's cores. `CpuLedger`
counts each party's CPU seconds over a phase (from /proc and getrusage), so a run prints what each card
cost whom and the most any number of Baton processes could deliver here (`ceiling`).

`CpuCap` puts one process in a cgroup of its own with a CPU quota (cgroup v1 `cpu.cfs_quota_us` or v2
`cpu.max`): each Baton process then gets the same slice of a core as if it had a small machine of its own,
and what is left of this machine serves PostgreSQL, Slack and the load. That is how the benchmark shows
whether a second process adds a second process's worth of cards, which the uncapped run on two cores
cannot (its ceiling is printed beside it).
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
CGROUP = Path("/sys/fs/cgroup")


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of one live process (0.0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS  # fields 14 and 15 of proc(5), after pid and comm


def postgres_cpu_seconds() -> float:
    """All `postgres` processes on this machine: the server Baton talks to (and anything else using it)."""
    total = 0.0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/comm", encoding="ascii", errors="replace") as handle:
                if handle.read().strip() != "postgres":
                    continue
        except OSError:
            continue
        total += process_cpu_seconds(int(entry.name))
    return total


def _own_and_children() -> tuple[float, float]:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # children that ended and were waited for
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


@dataclass(frozen=True)
class CpuShare:
    """CPU seconds per party over one phase."""

    wall: float
    baton: float  # the Baton processes together
    postgres: float
    bench: float  # this process: the fake Slack and the samplers
    clients: float  # load generators that ended during the phase
    machine_cores: int

    @property
    def total(self) -> float:
        return self.baton + self.postgres + self.bench + self.clients

    def per_card_ms(self, cards: int) -> dict[str, float]:
        return {name: 1000 * seconds / max(1, cards) for name, seconds in
                (("baton", self.baton), ("postgres", self.postgres), ("fake Slack", self.bench),
                 ("load", self.clients), ("all", self.total))}

    def ceiling_cards_per_second(self, cards: int) -> float:
        """Cards/s if every core of this machine did nothing but this phase's work, at its cost per card."""
        return self.machine_cores * cards / self.total if self.total else 0.0


class CpuLedger:
    """Start before a phase, `stop()` after it; Baton's processes by pid."""

    def __init__(self, baton_pids: list[int]) -> None:
        self.pids = list(baton_pids)
        self.wall0 = time.monotonic()
        self.baton0 = sum(process_cpu_seconds(p) for p in self.pids)
        self.pg0 = postgres_cpu_seconds()
        self.me0, self.kids0 = _own_and_children()

    def stop(self) -> CpuShare:
        me, kids = _own_and_children()
        return CpuShare(
            wall=time.monotonic() - self.wall0,
            baton=sum(process_cpu_seconds(p) for p in self.pids) - self.baton0,
            postgres=postgres_cpu_seconds() - self.pg0,
            bench=me - self.me0, clients=kids - self.kids0, machine_cores=os.cpu_count() or 1,
        )


class CpuCap:
    """A cgroup with a CPU quota of `cores` (0.5 = half of one core) for one process; removed by `close`."""

    PERIOD_US = 100_000

    def __init__(self, name: str, cores: float) -> None:
        self.cores = cores
        v2 = (CGROUP / "cgroup.controllers").exists()
        self.path = (CGROUP / name) if v2 else (CGROUP / "cpu" / name)
        self.path.mkdir(exist_ok=True)
        quota = int(cores * self.PERIOD_US)
        if v2:
            (self.path / "cpu.max").write_text(f"{quota} {self.PERIOD_US}")
        else:
            (self.path / "cpu.cfs_period_us").write_text(str(self.PERIOD_US))
            (self.path / "cpu.cfs_quota_us").write_text(str(quota))

    @staticmethod
    def available() -> str | None:
        """None when a cap can be set here, else why not."""
        try:
            probe = CpuCap(f"baton-bench-probe-{os.getpid()}", 1.0)
        except OSError as error:
            return f"no writable cgroup CPU controller ({error.strerror})"
        probe.close()
        return None

    def add(self, pid: int) -> None:
        (self.path / "cgroup.procs").write_text(str(pid))  # every thread of the process, and its future ones

    def close(self) -> None:
        try:
            self.path.rmdir()  # only once its processes are gone
        except OSError:
            pass
