"""`python -m backoffice.embedded_db run -- CMD...`, `psql`, `status`, `stop`, `url`.

`run` holds the embedded server for the whole of CMD and stops it afterwards
(unless another process still uses it). With DATABASE_URL set it only runs
CMD: that server is someone else's.
"""

import contextlib
import os
import signal
import subprocess
import sys

from backoffice import embedded_db


def _terminate_tree(pid: int) -> None:
    import psutil

    try:
        root = psutil.Process(pid)
        processes = [*root.children(recursive=True), root]
    except psutil.NoSuchProcess:
        return
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.terminate()
    psutil.wait_procs(processes, timeout=10)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "psql", "status", "stop", "url"}:
        print(__doc__, file=sys.stderr)
        return 2
    verb, rest = argv[0], argv[1:]
    if verb == "url":
        print(embedded_db.url())
        return 0
    if verb == "status":
        print("running" if embedded_db.running() else "stopped", embedded_db.PGDATA)
        return 0
    if verb == "stop":
        embedded_db.stop()
        return 0
    if verb == "psql":
        rest = [embedded_db.psql(), os.environ.get("DATABASE_URL") or embedded_db.url()]
    if rest[:1] == ["--"]:
        rest = rest[1:]
    if not rest:
        print("run: nothing to run", file=sys.stderr)
        return 2
    if not os.environ.get("DATABASE_URL"):
        embedded_db.ensure_running()
    # Ctrl-C reaches CMD too (same process group): we wait for it to end, then release
    # the server. A handler, not SIG_IGN, which CMD would inherit (and so never stop).
    # A SIGTERM for us is passed on to CMD and everything it started; we still release
    # the server after them.
    signal.signal(signal.SIGINT, lambda signum, frame: None)
    try:
        command = subprocess.Popen(rest)  # noqa: S603
        signal.signal(signal.SIGTERM, lambda signum, frame: _terminate_tree(command.pid))
        return command.wait()
    finally:
        embedded_db.release()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
