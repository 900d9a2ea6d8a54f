"""What listing `s3://` input costs: first listing (every object fetched and hashed), a
re-listing of unchanged input, and one after a few objects changed.

    .venv/bin/python -m benchmarks.s3_listing [--objects 2000] [--changed 20]

Starts the test suite's SeaweedFS server (tests/s3_server.py) on loopback, uploads
invented objects, and reads what was downloaded from the server's own counters.
Prints one JSON line per phase; nothing is written into the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from newsflow.object_inputs import list_any_inputs
from tests.s3_server import running_seaweedfs


def _article(i: int, edition: int = 0) -> bytes:
    body = " ".join(f"word{(i * 7 + k) % 997}" for k in range(150))
    return json.dumps({"title": f"Story {i} edition {edition}", "body": body}).encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--objects", type=int, default=2000)
    parser.add_argument("--changed", type=int, default=20)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_seaweedfs(Path(tmp) / "weed", buckets=("bench",)) as server,
    ):
        os.environ.update(server.env())
        fs = server.filesystem()
        fs.pipe({f"bench/raw/{i % 50:02d}/{i}.json": _article(i) for i in range(args.objects)})
        lake, url = Path(tmp) / "lake", "s3://bench/raw/"
        seen: set[str] = set()

        def phase(name: str) -> None:
            sent, requests = server.bytes_sent("bench"), server.requests("bench")
            started = time.perf_counter()
            files, rejected = list_any_inputs(url, lake, seen)
            seconds = time.perf_counter() - started
            seen.update(f.content_hash for f in files)  # as if the run committed them
            fetched = server.requests("bench") - requests
            print(
                json.dumps(
                    {
                        "phase": name,
                        "objects": len(files),
                        "rejected": len(rejected),
                        "seconds": round(seconds, 2),
                        "bytes_downloaded": server.bytes_sent("bench") - sent,
                        "requests": dict(fetched),
                    }
                ),
                flush=True,
            )

        phase("first listing")
        phase("unchanged")
        fs.pipe({f"bench/raw/{i % 50:02d}/{i}.json": _article(i, 1) for i in range(args.changed)})
        phase(f"{args.changed} changed")


if __name__ == "__main__":
    main()
