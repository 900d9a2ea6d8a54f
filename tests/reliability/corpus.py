"""The small input folder the process-level reliability tests run on, built in a temp dir.

The shipped sample (data/raw: every layout and compression, copies for dedupe), a few
BBC articles from the shared corpus when the machine has it (real lengths for the
near-duplicate and enrich stages; copied at test time, never committed), files that
carry credentials in their URLs, and files that are quarantined.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.articles import FERRY, LIBRARY, body

REPO = Path(__file__).resolve().parents[2]
SAMPLE_RAW = REPO / "data" / "raw"
BBC = Path("/work/shared/corpus/bbc_fulltext/raw")
BBC_PICK = [("business", "001"), ("business", "002"), ("tech", "001"), ("politics", "001")]

# A password that must never reach the lake, a log line or Prefect's storage.
TOKEN = "hunter2-Zq7Xv3"
CREDENTIAL_FILES = {
    "creds/headed.txt": "\n".join(
        [
            "Ferry service returns to the island",
            "20240301",
            f"https://desk:{TOKEN}@news.example.org/ferry?utm_source=x",
            *FERRY,
        ]
    )
    + "\n",
    "creds/feed.json": json.dumps(
        {
            "title": "Library reading room opens",
            "date": "2024-03-02",
            "url": f"https://feed:{TOKEN}@example.com/library",
            "body": body(LIBRARY),
        }
    ),
    "creds/page.html": (
        "<html><head><title>Harbour works</title>"
        f'<link rel="canonical" href="https://cms:{TOKEN}@harbour.example.net/works"></head>'
        f"<body><article><h1>Harbour works</h1><p>{' '.join(FERRY[:6])}</p></article></body></html>"
    ),
    # One line that fits no layout: its quarantine detail quotes it.
    "creds/unknown.txt": f"see https://reader:{TOKEN}@example.com/private for the story",
}
QUARANTINED_FILES = {"bad/empty.txt": "", "bad/noise.bin": "\x00\x01\x02" * 50}

# The second of two runs over halves of the corpus: one seed of the pair dedupe merges,
# and one copy of the CSV / JSON Lines pair, arrive only then.
SECOND_HALF = (
    "002_1068fdf2287753f9.txt",
    "wire_feed.jsonl.gz",
    "creds/feed.json",
    "bbc/tech_001.txt",
)


def build_corpus(folder: Path, *, leave_out: tuple[str, ...] = ()) -> Path:
    """Write the corpus into `folder` (minus the relative paths in `leave_out`)."""
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes] = {p.name: p.read_bytes() for p in SAMPLE_RAW.iterdir()}
    for category, number in BBC_PICK:
        source = BBC / category / f"{number}.txt"
        if source.is_file():
            files[f"bbc/{category}_{number}.txt"] = source.read_bytes()
    for name, text in {**CREDENTIAL_FILES, **QUARANTINED_FILES}.items():
        files[name] = text.encode()
    for name, data in files.items():
        if name in leave_out:
            continue
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return folder


def copy_lake(lake: Path, target: Path) -> Path:
    """A private copy of a lake (symlinks kept), for a test that goes on writing to it."""
    shutil.copytree(lake, target, symlinks=True)
    return target
