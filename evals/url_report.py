"""What canonical_url_v2 and source_v2 do to the URLs of real crawler output.

Usage (from the repository root):

    .venv/bin/python -m evals.url_report [../shared/corpus]

Reads the URL of every record straight from the corpus JSON (newsplease_5w1h `url`,
dragnet_meta `url`, trafilatura_eval_en gold `url`) and prints:

- URLs, distinct hosts, URLs with a query; flags; tracking parameters dropped, by key;
- how many canonical URLs differ from what v1 made of them (v1 re-encoded the query
  with parse_qsl/urlencode and did not decode entities), with examples;
- per registered domain with subdomains, the publisher label source_v2 gives each host
  and whether it differs from v1's registered label.
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tasks.enrichers.source import publication_label
from tasks.urls import canonical_url, domain_of, is_tracking


def corpus_urls(root: Path) -> list[str]:
    urls: list[str | None] = []
    for path in sorted((root / "newsplease_5w1h").rglob("*.json")):
        try:
            urls.append(json.loads(path.read_text(encoding="utf-8")).get("url"))
        except (ValueError, UnicodeDecodeError):
            continue
    for path in sorted((root / "dragnet_meta" / "meta").glob("*.json")):
        urls.append(json.loads(path.read_text(encoding="utf-8")).get("url"))
    for line in (root / "trafilatura_eval_en" / "gold.jsonl").read_text().splitlines():
        urls.append(json.loads(line).get("url"))
    return [u for u in urls if u]


def v1_query(url: str) -> str:
    """The canonical URL with the query as v1 re-encoded it (tracking keys dropped)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    kept = urlencode([(k, v) for k, v in query if not is_tracking(k)])
    return urlunsplit(parts._replace(query=kept))


def main(root: Path) -> None:
    urls = corpus_urls(root)
    hosts = Counter(urlsplit(u).hostname for u in urls)
    print(f"{len(urls)} URLs, {len(hosts)} hosts, {sum('?' in u for u in urls)} with a query")
    flags: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    differ = []
    for url in urls:
        canonical, flag = canonical_url(url)
        if flag:
            flags[flag] += 1
            continue
        assert canonical is not None
        for piece in urlsplit(url).query.split("&"):
            if piece and is_tracking(piece):
                dropped[piece.partition("=")[0].lower()] += 1
        if v1_query(url) != canonical:
            differ.append((url, v1_query(url), canonical))
    print(f"flags: {dict(flags)}")
    print(f"tracking parameters dropped: {dict(dropped.most_common())}")
    print(f"canonical URL differs from v1's: {len(differ)}")
    for url, old, new in differ[:5]:
        print(f"  {url}\n    v1 {old}\n    v2 {new}")
    by_domain: dict[str, set[str]] = defaultdict(set)
    for host in hosts:
        if host:
            by_domain[domain_of(f"http://{host}/").registered or host].add(host)
    with_subdomains = {
        d: hs for d, hs in by_domain.items() if any(h not in (d, f"www.{d}", f"m.{d}") for h in hs)
    }
    changed = {
        h: publication_label(h)
        for hs in with_subdomains.values()
        for h in hs
        if publication_label(h) != domain_of(f"http://{h}/").label
    }
    print(
        f"registered domains with subdomains: {len(with_subdomains)}; "
        f"hosts whose publisher label changes (source_v1 -> v2): {len(changed)}"
    )
    for host, label in sorted(changed.items()):
        print(f"  {host}: {domain_of(f'http://{host}/').label} -> {label}")
    kept = sorted(d for d, hs in with_subdomains.items() if not any(h in changed for h in hs))
    print(f"  registered label kept (sections/editions of one publisher): {', '.join(kept)}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/corpus"))
