"""Peak memory and time of ingest on large JSON Lines and WARC files, streamed or whole.

Builds the inputs in a temporary folder from real corpus files (never in the
repository): a JSON Lines export made of the news-please articles repeated (each line
with its own URL) up to a size, and a gzipped WARC (one gzip member per record, as
CC-NEWS) of the trafilatura evaluation pages repeated as HTTP responses. Each case
runs the ingest task's code (`ingest.fn`, writing a real lake) in a fresh process, so
its peak RSS is its own.

    .venv/bin/python -m benchmarks.streaming_ingest --jsonl-mb 200 800 --warc-pages 300 1200
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
if not CORPUS.exists():
    CORPUS = Path("/work/shared/corpus")


def build_jsonl(path: Path, megabytes: int) -> int:
    articles = [
        json.loads(p.read_text(encoding="utf-8"))
        for p in sorted((CORPUS / "newsplease_5w1h").rglob("*.json"))
        if p.stat().st_size > 100
    ]
    articles = [a for a in articles if isinstance(a, dict) and (a.get("maintext") or a.get("text"))]
    target, written, lines = megabytes << 20, 0, 0
    with path.open("w", encoding="utf-8") as out:
        while written < target:
            article = dict(articles[lines % len(articles)])
            article["url"] = f"{article.get('url') or 'https://example.org/a'}?copy={lines}"
            line = json.dumps(article, ensure_ascii=False, default=str) + "\n"
            out.write(line)
            written += len(line.encode("utf-8"))
            lines += 1
    return lines


def build_warc(path: Path, pages: int) -> int:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    html = [
        gzip.decompress(p.read_bytes())
        for p in sorted((CORPUS / "trafilatura_eval_en" / "html").glob("*.gz"))
    ]
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for i in range(pages):
            uri = f"https://crawl.example/page/{i}"
            request = writer.create_warc_record(
                uri, "request", payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n")
            )
            writer.write_record(request)
            headers = StatusAndHeaders(
                "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
            )
            response = writer.create_warc_record(
                uri, "response", payload=io.BytesIO(html[i % len(html)]), http_headers=headers
            )
            writer.write_record(response)
    return pages


def run_case(raw: Path, lake: Path, stream_min_bytes: int, max_file_bytes: int) -> dict[str, float]:
    """In this process: ingest the one-file folder `raw` into `lake`; peak RSS in MiB."""
    from newsflow.config import PipelineConfig
    from newsflow.inputs import list_inputs, plan_batches
    from tasks.ingest import ingest

    config = PipelineConfig(
        input_dir=raw,
        lake_dir=lake,
        stream_min_bytes=stream_min_bytes,
        max_file_bytes=max_file_bytes,
    )
    files, _ = list_inputs(raw)
    [batch] = plan_batches(files, batch_size=10, max_bytes=1 << 62)
    start = time.perf_counter()
    counts = ingest.fn(batch, config, "bench")
    seconds = time.perf_counter() - start
    return {
        "seconds": round(seconds, 1),
        "records": counts.rows_in,
        "ingested": counts.rows_out,
        "quarantined": counts.quarantined,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def in_child(raw: Path, lake: Path, stream_min_bytes: int, max_file_bytes: int) -> dict[str, float]:
    code = (
        "import json; from pathlib import Path;"
        "from benchmarks.streaming_ingest import run_case;"
        f"print(json.dumps(run_case(Path({str(raw)!r}), Path({str(lake)!r}), "
        f"{stream_min_bytes}, {max_file_bytes})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jsonl-mb", type=int, nargs="*", default=[200, 800])
    parser.add_argument("--warc-pages", type=int, nargs="*", default=[300, 1200])
    parser.add_argument("--whole-jsonl-mb", type=int, default=200, help="read whole, for contrast")
    args = parser.parse_args()
    default_stream, default_max = 64 << 20, 512 << 20
    print("| input | size on disk | read as | records | ingested | seconds | peak RSS MiB |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        cases = []
        for mb in args.jsonl_mb:
            raw = Path(tmp) / f"jsonl{mb}"
            raw.mkdir()
            build_jsonl(raw / "export.jsonl", mb)
            cases.append((f"JSONL {mb} MB", raw, "stream", default_stream, 1 << 62))
        if args.whole_jsonl_mb:
            raw = Path(tmp) / "jsonl_whole"
            raw.mkdir()
            build_jsonl(raw / "export.jsonl", args.whole_jsonl_mb)
            cases.append((f"JSONL {args.whole_jsonl_mb} MB", raw, "whole", 1 << 62, 1 << 62))
        for pages in args.warc_pages:
            raw = Path(tmp) / f"warc{pages}"
            raw.mkdir()
            build_warc(raw / "crawl.warc.gz", pages)
            cases.append((f"WARC.gz {pages} pages", raw, "stream", default_stream, default_max))
        for name, raw, mode, stream_min, max_bytes in cases:
            size = sum(p.stat().st_size for p in raw.iterdir())
            result = in_child(raw, Path(tmp) / f"lake_{raw.name}", stream_min, max_bytes)
            print(
                f"| {name} | {size / 2**20:,.0f} MiB | {mode} | {result['records']:,} | "
                f"{result['ingested']:,} | {result['seconds']} | {result['peak_rss_mib']:,} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
