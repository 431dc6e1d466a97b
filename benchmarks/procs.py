"""Baton as a user runs it: `baton serve` in its own process, against a fake Slack on this machine.

The delivery, crash and soak benchmarks (and the crash test) start real `python -m bot.cli serve`
processes, so that RSS, a second process and `kill -9` mean what they mean in production.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
WEBHOOK_SECRET = "bench-secret-3c1f"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # the tests' Slack signing secret
BOT_TOKEN = "xoxb-test-baton"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BatonProcess:
    """One `baton serve` on an ephemeral loopback port."""

    def __init__(self, database_url: str, slack_api_url: str, *, log_path: str | None = None,
                 extra_env: dict[str, str] | None = None) -> None:
        self.database_url = database_url
        self.slack_api_url = slack_api_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path or os.devnull
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen | None = None

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BATON_", "SLACK_", "Microsoft"))}
        env.update({
            "BATON_DATABASE_URL": self.database_url, "BATON_HOST": "127.0.0.1", "BATON_PORT": str(self.port),
            "BATON_WEBHOOK_SECRET": WEBHOOK_SECRET, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": self.slack_api_url,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET, "PYTHONUNBUFFERED": "1",
        })
        env.update(self.extra_env)
        return env

    async def start(self, *, timeout: float = 60.0) -> "BatonProcess":
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], cwd=ROOT, env=self.env(),
                                        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"baton serve exited with {self.process.returncode}; see {self.log_path}")
                try:
                    async with session.get(self.url + "/readyz", timeout=aiohttp.ClientTimeout(total=2)) as r:
                        if r.status == 200:
                            return self
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    pass
                await asyncio.sleep(0.1)  # polling a port that is not open yet: nothing to wait on
        raise RuntimeError(f"baton serve not ready within {timeout} s")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def rss_mb(self) -> float:
        try:
            with open(f"/proc/{self.pid}/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def kill9(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill9()
