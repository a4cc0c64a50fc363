"""`make run`'s server and job worker (scripts/serve-with-worker): both run, and Ctrl-C stops both.

Runs in a terminal of its own (a pty), on an embedded server of its own
(BACKOFFICE_VAR_DIR), as `make run` would after its migrate.
"""

import contextlib
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def env(tmp_path):
    var = tmp_path / "var"
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environment |= {"BACKOFFICE_VAR_DIR": str(var), "DJANGO_SETTINGS_MODULE": "backoffice.settings"}
    yield environment
    subprocess.run(
        [sys.executable, "-m", "backoffice.embedded_db", "stop"], cwd=ROOT, env=environment, check=False
    )


def held(env, *command, timeout=300) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "backoffice.embedded_db", "run", "--", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    return result.stdout


def manage(env, *args) -> str:
    return held(env, sys.executable, "manage.py", *args)


def test_the_server_and_a_worker_run_side_by_side_and_ctrl_c_stops_both(env):
    manage(env, "migrate", "--noinput")
    pid, fd = pty_fork_holding(env, "scripts/serve-with-worker", sys.executable, f"127.0.0.1:{free_port()}")
    try:
        out = read_until(fd, [b"Starting development server", b"Starting worker"])
        tree = psutil.Process(pid).children(recursive=True)
        assert any("procrastinate" in " ".join(p.cmdline()) for p in tree), out

        # The worker runs what is queued: a retention job (nothing to anonymize).
        queued = manage(env, "anonymize_eligible", "--orders-older-than", "0")
        job_id = re.search(r"job ([0-9a-f-]{36}) queued", queued).group(1)
        deadline = time.monotonic() + 60
        while "done" not in manage(env, "job_status", job_id):
            assert time.monotonic() < deadline, "the worker never ran the job"
            drain(fd)

        os.write(fd, b"\x03")  # Ctrl-C, as the terminal sends it to the foreground group
        assert wait_exit(pid, fd, 60), "serve-with-worker did not stop on Ctrl-C"
        pid = None
        time.sleep(0.5)
        assert not [p for p in tree if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    finally:
        if pid:
            os.kill(pid, signal.SIGKILL)
        os.close(fd)


def pty_fork_holding(env, *command):
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # the child: a terminal's foreground job
        os.chdir(ROOT)
        os.execve(  # noqa: S606
            sys.executable, [sys.executable, "-m", "backoffice.embedded_db", "run", "--", *command], env
        )
    return pid, fd


def read_until(fd, needles, seconds=120) -> bytes:
    out = b""
    deadline = time.monotonic() + seconds
    while not all(n in out for n in needles) and time.monotonic() < deadline:
        if select.select([fd], [], [], 1)[0]:
            with contextlib.suppress(OSError):
                out += os.read(fd, 4096)
    assert all(n in out for n in needles), out.decode(errors="replace")
    return out


def drain(fd, seconds=0.5) -> None:
    """Reads what the terminal shows, so the server and the worker never block writing to it."""
    if select.select([fd], [], [], seconds)[0]:
        with contextlib.suppress(OSError):
            os.read(fd, 4096)


def wait_exit(pid, fd, seconds) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            return True
        drain(fd, 0.2)
    return False
