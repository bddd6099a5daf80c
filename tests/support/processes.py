"""Real processes for the loss and fault-injection tests and the benchmarks: a private
redis-server and a private PostgreSQL cluster on their own ports (never the shared ones, so
a test may stop and start them), and dealerhub's own processes (`dealerhub serve`, the
Dramatiq worker, `dealerhub scheduler`)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
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


def postgres_bindir() -> Path | None:
    """Where initdb and pg_ctl live (Debian keeps them out of PATH), or None."""
    candidates = []
    if pg_config := shutil.which("pg_config"):
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        candidates.append(Path(found.stdout.strip()))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    if initdb := shutil.which("initdb"):
        candidates.append(Path(initdb).parent)
    return next((c for c in candidates if (c / "initdb").exists() and (c / "pg_ctl").exists()),
                None)


class PrivatePostgres:
    """A throwaway cluster (initdb into a temp dir, trust authentication, no durability) on
    its own port. PostgreSQL refuses to run as root, so as root it runs as `postgres`."""

    def __init__(self, bindir: Path, port: int | None = None) -> None:
        self.bindir = bindir
        self.port = port or free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="dealerhub-pg-"))
        self.data = self.directory / "data"
        self.log = self.directory / "postgres.log"

    @property
    def admin_dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        completed = subprocess.run(command, capture_output=True, text=True, cwd=self.directory)
        if completed.returncode:
            raise RuntimeError(f"{args[0]} failed:\n{completed.stdout}\n{completed.stderr}\n"
                               f"{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""

    def start(self) -> PrivatePostgres:
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        if not self.data.exists():
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                      "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync")
        # fsync off: a crash of the server (not of the machine) loses nothing written; the
        # commit itself stays synchronous, so an acknowledged commit survives `immediate`.
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 "
                   f"-c unix_socket_directories='{self.directory}' -c fsync=off "
                   "-c full_page_writes=off -c max_connections=200")
        self._run("pg_ctl", "start", "-w", "-t", "120", "-D", str(self.data),
                  "-l", str(self.log), "-o", options)
        return self

    def stop(self, mode: str = "fast") -> None:
        """`immediate` is a crash: every backend killed, recovery at the next start."""
        self._run("pg_ctl", "stop", "-w", "-D", str(self.data), "-m", mode)

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)


class ServiceProcess:
    """A process in its own process group, so a SIGKILL takes its forked children with it;
    what it prints goes to a temp log shown when a test fails."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        self.args = args
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - lives as long as the process
            prefix="dealerhub-process-", suffix=".log")

    @classmethod
    def dealerhub(cls, *command: str, env: dict[str, str] | None = None) -> ServiceProcess:
        """A `dealerhub …` command line as production runs it (this process's environment,
        with `env` on top)."""
        return cls([sys.executable, "-m", "dealerhub.cli", *command], env)

    def start(self) -> ServiceProcess:
        self.process = subprocess.Popen(self.args, env=self.env, cwd=ROOT,
                                        start_new_session=True, stdout=self.log,
                                        stderr=subprocess.STDOUT)
        return self

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def output(self) -> str:
        """What the process logged (for a failing test's message)."""
        return Path(self.log.name).read_text(errors="replace")[-4000:]

    def kill(self) -> None:
        """SIGKILL, as a crash would: no shutdown hooks run."""
        if self.running:
            os.killpg(self.process.pid, signal.SIGKILL)  # type: ignore[union-attr]
            self.process.wait(10)  # type: ignore[union-attr]

    def stop(self) -> None:
        if self.running:
            os.killpg(self.process.pid, signal.SIGTERM)  # type: ignore[union-attr]
            try:
                self.process.wait(30)  # type: ignore[union-attr]
            except subprocess.TimeoutExpired:
                self.kill()


class WorkerProcess(ServiceProcess):
    """The Dramatiq worker: what `dealerhub worker` execs."""

    def __init__(self, env: dict[str, str], processes: int = 1, threads: int = 4) -> None:
        super().__init__([sys.executable, "-m", "dramatiq", "dealerhub.worker",
                          "--processes", str(processes), "--threads", str(threads)], env)

    def start(self) -> WorkerProcess:
        super().start()
        return self

    def wait_ready(self, redis_url: str, namespace: str, processes: int = 1,
                   timeout: float = 120) -> None:
        """Until every worker process has booted (each writes a heartbeat to Redis)."""
        client = redis.Redis.from_url(redis_url)
        deadline = time.monotonic() + timeout
        while client.zcard(f"{namespace}:__heartbeats__") < processes:
            if time.monotonic() > deadline or not self.running:
                raise RuntimeError(f"the worker did not start:\n{self.output()}")
            time.sleep(0.1)
        time.sleep(0.5)  # heartbeats come before the last boot hooks finish


class AppServer(ServiceProcess):
    """`dealerhub serve` (uvicorn) on a free port."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        super().__init__([sys.executable, "-m", "dealerhub.cli", "serve"],
                         {**(env or {}), "HOST": "127.0.0.1", "PORT": str(self.port)})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> AppServer:
        super().start()
        return self

    def ready_status(self) -> int | None:
        """/ready's status code, None when nothing answers."""
        try:
            return httpx.get(f"{self.url}/ready", timeout=5).status_code
        except httpx.HTTPError:
            return None

    def wait_ready(self, timeout: float = 180) -> float:
        """Until /ready answers 200; returns the seconds that took (0 if it already did)."""
        started = time.monotonic()
        if self.ready_status() == 200:
            return 0.0
        while self.ready_status() != 200:
            if time.monotonic() - started > timeout or not self.running:
                raise RuntimeError(f"the app did not become ready:\n{self.output()}")
            time.sleep(0.1)
        return time.monotonic() - started
