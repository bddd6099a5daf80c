"""Real processes for the loss tests and the benchmark: a private redis-server on its own
port (never the shared one) and `dramatiq dealerhub.worker` subprocesses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

from tests.support.http_server import free_port

ROOT = Path(__file__).resolve().parent.parent.parent


class PrivateRedis:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis.from_url(self.url, socket_connect_timeout=0.2).ping()
                return self
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None


class WorkerProcess:
    """`python -m dramatiq dealerhub.worker` in its own process group, so a SIGKILL takes its
    forked children with it."""

    def __init__(self, env: dict[str, str], processes: int = 1, threads: int = 4) -> None:
        self.env = {**os.environ, **env}
        self.args = [sys.executable, "-m", "dramatiq", "dealerhub.worker",
                     "--processes", str(processes), "--threads", str(threads)]
        self.process: subprocess.Popen[bytes] | None = None
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - lives as long as the worker
            prefix="dealerhub-worker-", suffix=".log")

    def start(self) -> WorkerProcess:
        self.process = subprocess.Popen(self.args, env=self.env, cwd=ROOT,
                                        start_new_session=True, stdout=self.log,
                                        stderr=subprocess.STDOUT)
        return self

    def wait_ready(self, redis_url: str, namespace: str, processes: int = 1,
                   timeout: float = 60) -> None:
        """Until every worker process has booted (each writes a heartbeat to Redis)."""
        client = redis.Redis.from_url(redis_url)
        deadline = time.monotonic() + timeout
        while client.zcard(f"{namespace}:__heartbeats__") < processes:
            if time.monotonic() > deadline or (self.process and self.process.poll() is not None):
                raise RuntimeError(f"the worker did not start:\n{self.output()}")
            time.sleep(0.1)
        time.sleep(0.5)  # heartbeats come before the last boot hooks finish

    def output(self) -> str:
        """What the worker logged (for a failing test's message)."""
        return Path(self.log.name).read_text(errors="replace")[-4000:]

    def kill(self) -> None:
        """SIGKILL, as a crash would: no shutdown hooks run."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
