"""The embedded PostgreSQL: started on demand, reused, stopped by its last user, recovering from a kill.

Each test runs its own server in a temporary folder (BACKOFFICE_VAR_DIR), in
processes of its own, as `make run` and `make test` would.
"""

import contextlib
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CONNECT = (
    "import django, os; django.setup(); from django.db import connection; "
    "print(connection.cursor().connection.execute('SHOW server_version').fetchone()[0], flush=True)"
)


def python(var: Path, code: str, **kwargs) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"BACKOFFICE_VAR_DIR": str(var), "DJANGO_SETTINGS_MODULE": "backoffice.settings"}
    return subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True, **kwargs
    )


def status(var: Path) -> str:
    env = os.environ | {"BACKOFFICE_VAR_DIR": str(var)}
    result = subprocess.run(
        [sys.executable, "-m", "backoffice.embedded_db", "status"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.split()[0]


@pytest.fixture
def var(tmp_path):
    folder = tmp_path / "var"
    yield folder
    subprocess.run(
        [sys.executable, "-m", "backoffice.embedded_db", "stop"],
        cwd=ROOT,
        env=os.environ | {"BACKOFFICE_VAR_DIR": str(folder)},
        check=False,
    )


def test_a_first_connection_starts_postgresql_18_and_the_last_user_stops_it(var):
    process = python(var, CONNECT)
    out, _ = process.communicate(timeout=120)
    assert process.returncode == 0
    assert out.strip().startswith("18.")
    assert (var / "pgdata" / "PG_VERSION").read_text().strip() == "18"
    assert status(var) == "stopped"


def test_a_second_process_shares_the_running_server_and_it_stops_only_after_both(var):
    holder = python(var, CONNECT + "; import sys; sys.stdin.readline()", stdin=subprocess.PIPE)
    assert holder.stdout.readline().startswith("18.")
    second = python(var, CONNECT)
    second.communicate(timeout=60)
    assert second.returncode == 0
    assert status(var) == "running"  # the holder still uses it
    holder.communicate("\n", timeout=60)
    assert status(var) == "stopped"


def test_a_killed_run_leaves_a_server_the_next_run_reuses_and_stops(var):
    killed = python(var, CONNECT + "; import time; time.sleep(600)")
    assert killed.stdout.readline().startswith("18.")
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=30)
    assert status(var) == "running"  # nobody stopped it
    started = time.monotonic()
    nxt = python(var, CONNECT)
    nxt.communicate(timeout=60)
    assert nxt.returncode == 0
    assert time.monotonic() - started < 60
    assert status(var) == "stopped"
    assert not list((var / "pg-clients").iterdir())  # the dead run's note is forgotten


def test_a_stale_pid_file_whose_pid_now_belongs_to_another_process_is_cleared(var):
    first = python(var, CONNECT)
    first.communicate(timeout=120)  # initialized, then stopped
    # As after a killed server whose pid the system gave to another process since.
    lines = [str(os.getpid()), str(var / "pgdata"), "0", "5432", ".", "", "0 0", "ready"]
    (var / "pgdata" / "postmaster.pid").write_text("\n".join(lines) + "\n")
    again = python(var, CONNECT)
    out, _ = again.communicate(timeout=60)
    assert again.returncode == 0
    assert out.strip().startswith("18.")


def test_ctrl_c_on_a_held_command_stops_the_command_and_then_the_server(var):
    """As `make run` in a terminal: Ctrl-C reaches the command, then the holder stops the server."""
    import pty
    import select

    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"BACKOFFICE_VAR_DIR": str(var), "DJANGO_SETTINGS_MODULE": "backoffice.settings"}
    code = CONNECT + "; import time; time.sleep(600)"
    pid, fd = pty.fork()
    if pid == 0:  # the child: a terminal's foreground job
        os.chdir(ROOT)
        os.execve(  # noqa: S606
            sys.executable,
            [sys.executable, "-m", "backoffice.embedded_db", "run", "--", sys.executable, "-c", code],
            env,
        )
    out = b""
    deadline = time.monotonic() + 120
    while b"18." not in out and time.monotonic() < deadline:
        if select.select([fd], [], [], 1)[0]:
            out += os.read(fd, 1024)
    assert b"18." in out
    assert status(var) == "running"
    os.write(fd, b"\x03")  # Ctrl-C, as the terminal sends it to the foreground group
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if select.select([fd], [], [], 0.2)[0]:
            with contextlib.suppress(OSError):
                os.read(fd, 1024)
    else:
        os.kill(pid, signal.SIGKILL)
        pytest.fail("the held command did not stop on Ctrl-C")
    os.close(fd)
    assert status(var) == "stopped"


def test_a_sigterm_to_the_holder_stops_its_command_tree_and_then_the_server(var):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"BACKOFFICE_VAR_DIR": str(var), "DJANGO_SETTINGS_MODULE": "backoffice.settings"}
    # A shell running a Python child, as `make run` runs sh -c '... && runserver'.
    inner = f"{shlex.quote(sys.executable)} -c {shlex.quote(CONNECT + '; import time; time.sleep(600)')}"
    holder = subprocess.Popen(
        [sys.executable, "-m", "backoffice.embedded_db", "run", "--", "sh", "-c", inner],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().startswith("18.")
    holder.send_signal(signal.SIGTERM)
    holder.wait(timeout=60)
    assert status(var) == "stopped"


def test_a_note_whose_pid_now_belongs_to_another_process_does_not_hold_the_server(var):
    first = python(var, CONNECT)
    first.communicate(timeout=120)
    clients = var / "pg-clients"
    (clients / str(os.getpid())).write_text("0.0")  # this pid, but another process's start time
    second = python(var, CONNECT)
    second.communicate(timeout=60)
    assert second.returncode == 0
    assert status(var) == "stopped"
    assert not list(clients.iterdir())
