"""An embedded PostgreSQL 15 cluster under a data directory (the backend's default database).

`serve` with no DATABASE_URL creates the cluster on first start (initdb), starts it on loopback
with `pg_ctl` and stops it on the way out; the same directory is reused on the next start, so
data and workflow state survive restarts. PostgreSQL refuses to run as root: when started as
root the cluster belongs to, and runs as, an unprivileged user (`nobody` by default), which
must be able to reach the data directory through its parents.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

DEFAULT_BIN_DIR = Path("/usr/lib/postgresql/15/bin")
SUPERUSER = "inspection"
DEFAULT_DATABASE = "inspection"

# Settings of the embedded cluster. fsync and synchronous_commit stay on: the backend
# acknowledges MQTT messages after COMMIT, so a committed row must survive a crash of the server.
_SERVER_CONF = """
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{socket_dir}'
max_connections = 200
shared_buffers = 256MB
wal_level = replica
max_wal_size = 2GB
checkpoint_timeout = 15min
log_destination = 'stderr'
logging_collector = off
log_min_messages = warning
"""


def free_port() -> int:
    """A TCP port free on loopback right now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def postgres_available(bin_dir: Path = DEFAULT_BIN_DIR) -> bool:
    return (bin_dir / "initdb").is_file() and (bin_dir / "pg_ctl").is_file()


@dataclass(frozen=True)
class ClusterUser:
    """Who owns and runs the cluster: the current user, or `run_as` when we are root."""

    name: str
    uid: int
    gid: int

    @classmethod
    def resolve(cls, run_as: str) -> ClusterUser:
        if os.geteuid() != 0:
            entry = pwd.getpwuid(os.geteuid())
        else:
            try:
                entry = pwd.getpwnam(run_as)
            except KeyError:
                raise ValueError(f"user {run_as!r} (PG_RUN_AS) does not exist") from None
            if entry.pw_uid == 0:
                raise ValueError("PostgreSQL refuses to run as root: set PG_RUN_AS to another user")
        return cls(entry.pw_name, entry.pw_uid, entry.pw_gid)

    def command(self, argv: list[str]) -> list[str]:
        """argv to run as this user (runuser when we are root and it is someone else)."""
        if os.geteuid() == 0 and self.uid != 0:
            return ["runuser", "-u", self.name, "--", *argv]
        return argv


class EmbeddedPostgres:
    """initdb (once), start, stop, create databases; the port is fixed per data directory."""

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        bin_dir: Path = DEFAULT_BIN_DIR,
        run_as: str = "nobody",
    ) -> None:
        if not postgres_available(bin_dir):
            raise FileNotFoundError(
                f"PostgreSQL 15 binaries not found in {bin_dir} "
                "(Debian: apt-get install postgresql; scripts/setup_env.sh does it)"
            )
        self.data_dir = Path(data_dir).resolve()
        self.bin_dir = bin_dir
        self.user = ClusterUser.resolve(run_as)
        self._port_file = self.data_dir.parent / f"{self.data_dir.name}.port"
        self.port = port or self._remembered_port() or free_port()

    def _remembered_port(self) -> int | None:
        try:
            return int(self._port_file.read_text())
        except (OSError, ValueError):
            return None

    @property
    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").is_file()

    def url(self, database: str = DEFAULT_DATABASE) -> str:
        """SQLAlchemy URL (psycopg 3 driver) of a database in this cluster."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _run(self, argv: list[str], timeout_s: float = 120.0) -> subprocess.CompletedProcess:
        result = subprocess.run(
            self.user.command(argv), capture_output=True, text=True, timeout=timeout_s
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{Path(argv[0]).name} failed ({result.returncode}): "
                f"{(result.stderr or result.stdout).strip()[-2000:]}"
            )
        return result

    def _check_reachable(self) -> None:
        """The cluster user must traverse every parent of the data directory."""
        if self.user.uid == os.geteuid():
            return
        for parent in self.data_dir.parents:
            mode = parent.stat().st_mode
            if not mode & 0o001 and parent.stat().st_uid != self.user.uid:
                raise PermissionError(
                    f"user {self.user.name!r} cannot reach {self.data_dir}: {parent} is not "
                    "searchable by others (choose a data directory outside it, or PG_RUN_AS)"
                )

    def init(self) -> None:
        """Create the cluster if the directory holds none (trust auth on loopback only)."""
        if self.initialised:
            return
        self._check_reachable()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        os.chown(self.data_dir, self.user.uid, self.user.gid)
        os.chmod(self.data_dir, 0o700)
        self._run(
            [
                str(self.bin_dir / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
            ]
        )
        conf = _SERVER_CONF.format(port=self.port, socket_dir=self.data_dir)
        auto_conf = self.data_dir / "postgresql.auto.conf"
        with auto_conf.open("a") as handle:
            handle.write(conf)
        # Loopback TCP only: no other host may connect to the trust-auth cluster.
        (self.data_dir / "pg_hba.conf").write_text(
            "local all all trust\nhost all all 127.0.0.1/32 trust\n"
        )
        for path in (auto_conf, self.data_dir / "pg_hba.conf"):
            os.chown(path, self.user.uid, self.user.gid)

    def start(self, timeout_s: float = 60.0) -> None:
        """initdb if needed, then start and wait until it accepts connections."""
        self.init()
        self._port_file.write_text(str(self.port))
        if self.running():
            return
        self._run(
            [
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.data_dir / "server.log"),
                "-o",
                f"-p {self.port}",
                "-w",
                "-t",
                str(int(timeout_s)),
                "start",
            ],
            timeout_s=timeout_s + 10,
        )
        self.create_database(DEFAULT_DATABASE)

    def running(self) -> bool:
        if not self.initialised:
            return False
        result = subprocess.run(
            self.user.command([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "status"]),
            capture_output=True,
            text=True,
        )
        return result.returncode == 0

    def stop(self, mode: str = "fast", timeout_s: float = 60.0) -> None:
        """pg_ctl stop; mode `immediate` is a crash as far as the data is concerned."""
        if not self.running():
            return
        self._run(
            [
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-m",
                mode,
                "-w",
                "-t",
                str(int(timeout_s)),
                "stop",
            ],
            timeout_s=timeout_s + 10,
        )

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run one SQL string with psql over the socket in the data directory."""
        return self._run(
            [
                str(self.bin_dir / "psql"),
                "-h",
                str(self.data_dir),
                "-p",
                str(self.port),
                "-U",
                SUPERUSER,
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-Atc",
                sql,
            ]
        ).stdout

    def create_database(self, name: str) -> None:
        """CREATE DATABASE unless it exists (names are checked: letters, digits, _)."""
        if not name.replace("_", "").isalnum():
            raise ValueError(f"database name {name!r}: letters, digits and _ only")
        exists = self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
        if not exists.strip():
            self.psql(f'CREATE DATABASE "{name}"')

    def drop_database(self, name: str) -> None:
        if not name.replace("_", "").isalnum():
            raise ValueError(f"database name {name!r}: letters, digits and _ only")
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def destroy(self) -> None:
        """Stop (immediately) and delete the data directory: tests and throw-away clusters."""
        if self.running():
            self.stop("immediate")
        shutil.rmtree(self.data_dir, ignore_errors=True)
        self._port_file.unlink(missing_ok=True)

    def __enter__(self) -> EmbeddedPostgres:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
