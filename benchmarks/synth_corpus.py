"""A seeded synthetic corpus with known duplicates, built from real articles at run time.

Usage (from the repository root):

    .venv/bin/python -m benchmarks.synth_corpus --n 10000 --out /tmp/synth10k \
        [--source ../shared/corpus/bbc_fulltext/raw] [--dup-rate 0.3] [--seed 7]

Writes `--out/docs/NNN/NNNNNN.txt` (the input folder to run newsflow on),
`--out/truth.tsv` (file -> article id, and which files are duplicates) and
`--out/synth_info.json` (parameters and the distinctness check). The output holds
corpus text: keep it in a temporary folder, never in the repository.

**Originals.** Real articles of `--source` (plain layout: title, blank line,
paragraphs), minus any that share 10 % or more of their word 5-shingles with an
article already taken (the BBC set holds its own copies and follow-up stories).
When more originals are needed than that leaves, new ones are made by recombining
4-7 paragraphs of different real articles (title: the lead paragraph's article's,
so distinct articles may share a headline). No two recombined articles share more
than one paragraph, and a paragraph is used only where it is at most 30 % of the
words of both its real article and the new one, so two distinct originals overlap by
at most one such paragraph (word Jaccard below 0.18); `synth_info.json` records the
largest overlap found.

**Duplicates.** `round(n * dup_rate)` of the files are copies of an original drawn
at random (an original may get several). A copy counts as a duplicate when it keeps
every sentence of its original except at most one and changes at most two words;
everything else may differ: layout, sentence order (headed), title punctuation
(headed), injected comment disclaimers, URL and site. Kinds: `exact` (same layout,
same text), `relayout` (the other layout), `edited` (same layout, 1-2 edits),
`relayout_edited` (both). An edit is `word` (one word of 4+ letters replaced) or
`drop` (one sentence dropped, only from articles of 8 sentences or more).

**Layouts.** `headed`: title without punctuation, `YYYYMMDD`, an https URL on an
invented site, then one sentence per line, shuffled, with 1-2 of the site's comment
disclaimers (wording invented here, `DISCLAIMERS`) at random lines. `dated`:
` date YYYY-MM-DD Title`, a blank line, paragraphs separated by blank lines.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

from benchmarks.synth_layouts import (
    ALL_LAYOUTS,
    CODECS,
    FEED_LAYOUTS,
    CorpusWriter,
    Fields,
    render_html,
    render_plain,
)

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO.parent / "shared" / "corpus" / "bbc_fulltext" / "raw"
MAX_SOURCE_OVERLAP = 0.10
MAX_PARAGRAPH_SHARE = 0.30
KIND_WEIGHTS = {"exact": 0.15, "relayout": 0.35, "edited": 0.25, "relayout_edited": 0.25}
MIN_SENTENCES_TO_DROP = 8
# Invented sites; the disclaimer wording below is ours, not any real site's.
SITES = {
    "northquaycourier.com": "Northquay Courier",
    "lanternpost.co.uk": "The Lantern Post",
    "valleywire-news.com": "Valley Wire",
    "harbourbeacon.net": "Harbour Beacon",
    "eastmarchherald.com": "Eastmarch Herald",
    "ridgelinedaily.com": "Ridgeline Daily",
    "saltmarshgazette.co.uk": "Saltmarsh Gazette",
    "copperfieldtimes.com": "Copperfield Times",
}
DISCLAIMERS = [
    "Comments on {site} are the personal views of readers and not those of the newsroom.",
    "{site} checks every comment before it appears; abusive or off-topic posts are removed.",
    "Comments close 48 hours after a story is published.",
    "By posting a comment you agree that it may be shortened or removed without notice.",
    "Readers are responsible for what they post and must not break the law, "
    "including libel and contempt of court.",
    "Use the flag next to a comment to report one that breaks the community guidelines.",
]
SECTIONS = ["news", "world", "business", "politics", "sport", "culture", "tech"]
REPLACEMENT_WORDS = ["several", "recent", "senior", "national", "major", "local", "former"]
DEFAULT_LAYOUTS = ("headed", "dated")
# A duplicate group is every (file, record) row of one article_id.
TRUTH_COLUMNS = [
    "file",
    "article_id",
    "role",
    "kind",
    "layout",
    "edits",
    "disclaimers",
    "origin",
    "record",
    "compression",
]
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'“‘(]?[A-Z0-9£$])|(?<=[.!?][\"'”’)])\s+")
_WORD = re.compile(r"[A-Za-z]{4,}")


class NoSourceArticles(ValueError):
    """`--source` holds no article the generator can use (see `read_sources`)."""


class Source(NamedTuple):
    path: str
    title: str
    paragraphs: list[str]


@dataclass(frozen=True)
class Article:
    article_id: str
    title: str
    date: dt.date
    paragraphs: tuple[tuple[str, ...], ...]  # sentences per paragraph
    origin: str  # "real:<path>" or "recombined"

    def words(self) -> int:
        return sum(len(s.split()) for p in self.paragraphs for s in p)


def sentences(paragraph: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in _SENTENCE_END.split(paragraph) if s.strip())


def read_sources(folder: Path) -> list[Source]:
    """(path, title, paragraphs) of every plain-layout `.txt` file, in path order."""
    sources = []
    for path in sorted(folder.rglob("*.txt")):
        data = path.read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp1252")
        title, _, rest = text.replace("\r\n", "\n").partition("\n")
        paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", rest) if p.strip()]
        if title.strip() and len(paragraphs) >= 2:
            sources.append(Source(path.relative_to(folder).as_posix(), title.strip(), paragraphs))
    return sources


def _shingles(text: str) -> set[str]:
    words = re.sub(r"[^\w]+", " ", text.lower()).split()
    return {" ".join(words[i : i + 5]) for i in range(max(1, len(words) - 4))}


def distinct_sources(sources: list[Source]) -> tuple[list[Source], int]:
    """Sources sharing under MAX_SOURCE_OVERLAP of either's 5-shingles with every one
    kept before them; returns them and how many were dropped."""
    seen: dict[str, list[int]] = defaultdict(list)
    sizes: list[int] = []
    kept = []
    for source in sources:
        shingles = _shingles(" ".join(source.paragraphs))
        shared: dict[int, int] = defaultdict(int)
        for s in shingles:
            for j in seen.get(s, ()):
                shared[j] += 1
        if any(n / min(len(shingles), sizes[j]) >= MAX_SOURCE_OVERLAP for j, n in shared.items()):
            continue
        for s in shingles:
            seen[s].append(len(kept))
        sizes.append(len(shingles))
        kept.append(source)
    return kept, len(sources) - len(kept)


def random_date(rng: random.Random) -> dt.date:
    return dt.date(2004, 1, 1) + dt.timedelta(days=rng.randrange(731))


def originals(
    sources: list[Source], count: int, rng: random.Random, shared: int = 1
) -> list[Article]:
    """`count` distinct articles: the real ones first, then recombined ones.

    Two recombined articles share at most `shared` paragraphs. With 1 (the default),
    no two paragraphs are used together twice: the used pairs are bits in one bitmap
    (pool size squared). BBC's pool (6,754 paragraphs, 22.8 M pairs) runs out of free
    pairs around half a million articles, where nearly every draw is refused; with 2, no
    three paragraphs are used together twice (a set of packed triples, ~1 GB at a
    million articles). No paragraph is more than 30 % of an article's words, so two
    shared paragraphs are at most 60 % of either: still well below a copy.
    Memory otherwise stays small: articles share the sentence tuples of their sources.
    """
    articles = [
        Article(
            f"a{i:06d}",
            src.title,
            random_date(rng),
            tuple(map(sentences, src.paragraphs)),
            f"real:{src.path}",
        )
        for i, src in enumerate(sources[:count])
    ]
    Key = tuple[int, int]  # (source, paragraph)
    words: dict[Key, int] = {
        (i, j): len(text.split())
        for i, src in enumerate(sources)
        for j, text in enumerate(src.paragraphs)
    }
    source_words = [sum(len(t.split()) for t in src.paragraphs) for src in sources]
    pool = [k for k, n in words.items() if n <= MAX_PARAGRAPH_SHARE * source_words[k[0]]]
    rank = {k: r for r, k in enumerate(sorted(pool))}  # pair (a, b), a < b -> one bit
    n = len(pool)
    used_pairs = bytearray((n**2 + 7) // 8 if shared == 1 else 0)
    used_triples: set[int] = set()
    split: dict[Key, tuple[str, ...]] = {}
    while len(articles) < count:
        picked = rng.sample(pool, rng.randint(4, 7))
        ranks = sorted(rank[k] for k in picked)
        if shared == 1:
            bits = [a * n + b for i, a in enumerate(ranks) for b in ranks[i + 1 :]]
            taken = any(used_pairs[b >> 3] >> (b & 7) & 1 for b in bits)
        else:
            bits = [
                (a * n + b) * n + c
                for i, a in enumerate(ranks)
                for j, b in enumerate(ranks[i + 1 :], start=i + 1)
                for c in ranks[j + 1 :]
            ]
            taken = any(b in used_triples for b in bits)
        total = sum(words[k] for k in picked)
        if (
            len({i for i, _ in picked}) < len(picked)  # two paragraphs of one article
            or taken  # already used together
            or max(words[k] for k in picked) > MAX_PARAGRAPH_SHARE * total
        ):
            continue
        if shared == 1:
            for b in bits:
                used_pairs[b >> 3] |= 1 << (b & 7)
        else:
            used_triples.update(bits)
        for k in picked:
            if k not in split:
                split[k] = sentences(sources[k[0]].paragraphs[k[1]])
        paragraphs = tuple(split[k] for k in picked)
        title = sources[picked[0][0]].title
        articles.append(
            Article(f"a{len(articles):06d}", title, random_date(rng), paragraphs, "recombined")
        )
    return articles


def max_shared_jaccard(articles: list[Article]) -> float:
    """The largest word Jaccard between two articles that share a paragraph (identical
    paragraphs are the only text distinct originals can share by construction)."""
    smallest: dict[tuple[str, ...], list[int]] = {}  # paragraph -> its two smallest users
    for article in articles:
        size = article.words()
        for paragraph in article.paragraphs:
            two = smallest.setdefault(paragraph, [])
            two.append(size)
            if len(two) > 2:
                two.remove(max(two))
    best = 0.0
    for paragraph, sizes in smallest.items():
        if len(sizes) > 1:
            a, b = sorted(sizes)
            shared = sum(len(s.split()) for s in paragraph)
            best = max(best, shared / (a + b - shared))
    return best


def edited(article: Article, rng: random.Random) -> tuple[Article, list[str]]:
    """The article with 1-2 edits (see the module docstring) and their names."""
    paragraphs = [list(p) for p in article.paragraphs]
    edits: list[str] = []
    for _ in range(rng.randint(1, 2)):
        count = sum(map(len, paragraphs))
        if "drop" not in edits and count >= MIN_SENTENCES_TO_DROP and rng.random() < 0.5:
            p = rng.choice([i for i, para in enumerate(paragraphs) if para])
            del paragraphs[p][rng.randrange(len(paragraphs[p]))]
            edits.append("drop")
            continue
        spots = [
            (i, j, m)
            for i, para in enumerate(paragraphs)
            for j, s in enumerate(para)
            for m in list(_WORD.finditer(s))[1:]
        ]
        if not spots:
            continue
        i, j, m = rng.choice(spots)
        new = rng.choice([w for w in REPLACEMENT_WORDS if w != m.group().lower()])
        s = paragraphs[i][j]
        paragraphs[i][j] = s[: m.start()] + new + s[m.end() :]
        edits.append("word")
    kept = tuple(tuple(p) for p in paragraphs if p)
    return replace(article, paragraphs=kept), edits


def render_dated(article: Article) -> str:
    body = "\n\n".join(" ".join(p) for p in article.paragraphs)
    return f" date {article.date.isoformat()} {article.title}\n\n{body}\n"


def article_url(article: Article, domain: str, section: str) -> str:
    title = " ".join(re.sub(r"[^\w\s]", " ", article.title.replace("'", "")).split())
    slug = "-".join(title.lower().split()[:6])
    return f"https://www.{domain}/{section}/{article.date:%Y/%m}/{slug}-{article.article_id[1:]}"


def render_headed(article: Article, rng: random.Random) -> tuple[str, int]:
    """The headed file and how many disclaimer lines it got."""
    domain = rng.choice(sorted(SITES))
    lines = [s for p in article.paragraphs for s in p]
    rng.shuffle(lines)
    chosen = rng.sample(DISCLAIMERS, rng.randint(1, 2))
    for text in chosen:
        lines.insert(rng.randrange(len(lines) + 1), text.format(site=SITES[domain]))
    title = " ".join(re.sub(r"[^\w\s]", " ", article.title.replace("'", "")).split())
    url = article_url(article, domain, rng.choice(SECTIONS))
    header = [title, f"{article.date:%Y%m%d}", url]
    return "\n".join(header + lines) + "\n", len(chosen)


def fields(article: Article, rng: random.Random) -> Fields:
    """The article as the structured layouts carry it, on a site drawn from `rng`."""
    domain = rng.choice(sorted(SITES))
    return Fields(
        title=article.title,
        date=article.date,
        url=article_url(article, domain, rng.choice(SECTIONS)),
        site=SITES[domain],
        paragraphs=tuple(" ".join(p) for p in article.paragraphs),
    )


def generate(
    source: Path,
    out: Path,
    n: int,
    dup_rate: float,
    seed: int,
    layouts: Sequence[str] = DEFAULT_LAYOUTS,
    compress_share: float = 0.0,
    feed_size: int = 1,
    shared: int = 1,
) -> dict[str, object]:
    """Write the corpus into `out`; returns what went into `synth_info.json`.

    With the default layouts and no compression the bytes are those of the original
    two-layout generator for the same seed. Everything the other layouts and the
    compression draw comes from a second generator, seeded from `seed`, so adding them
    does not move any draw of the first.
    """
    rng = random.Random(seed)
    render_rng = random.Random(f"{seed}:render")
    classic = tuple(layouts) == DEFAULT_LAYOUTS
    found = read_sources(source)
    if not found:  # else `originals` fails deep inside random.sample
        what = "no usable source article" if source.is_dir() else "is not a folder"
        raise NoSourceArticles(
            f"--source {source}: {what} (wanted: .txt files, searched recursively, each a "
            "title line, a blank line, then 2 or more paragraphs)"
        )
    sources, dropped = distinct_sources(found)
    n_dup = round(n * dup_rate)
    articles = originals(sources, n - n_dup, rng, shared)
    plan: list[tuple[Article, str, str]] = []  # (article, role, kind)
    for article in articles:
        plan.append((article, "original", "original"))
    kinds, weights = zip(*KIND_WEIGHTS.items(), strict=True)
    for _ in range(n_dup):
        plan.append((rng.choice(articles), "duplicate", rng.choices(kinds, weights)[0]))
    rng.shuffle(plan)

    layout_of: dict[str, str] = {a.article_id: rng.choice(["headed", "dated"]) for a in articles}
    if not classic:
        layout_of = {a: render_rng.choice(layouts) for a in layout_of}
    out.mkdir(parents=True, exist_ok=True)
    writer = CorpusWriter(out / "docs", feed_size=feed_size)
    layouts_written: Counter[str] = Counter()
    with (out / "truth.tsv").open("w", newline="", encoding="utf-8") as fh:
        truth = csv.writer(fh, delimiter="\t", lineterminator="\n")
        truth.writerow(TRUTH_COLUMNS)
        for article, role, kind in plan:
            layout = layout_of[article.article_id]
            if kind.startswith("relayout"):
                others = [x for x in layouts if x != layout] or [layout]
                flipped = "dated" if layout == "headed" else "headed"
                layout = flipped if classic else render_rng.choice(others)
            copy, edits = edited(article, rng) if kind.endswith("edited") else (article, [])
            codec = None
            if compress_share and render_rng.random() < compress_share:
                codec = render_rng.choice(CODECS)
            disclaimers = 0
            if layout == "headed":
                text, disclaimers = render_headed(copy, rng)
                name, record = writer.text(layout, text, codec)
            elif layout == "dated":
                name, record = writer.text(layout, render_dated(copy), codec)
            elif layout in FEED_LAYOUTS:
                name, record = writer.record(layout, fields(copy, render_rng), codec)
            elif layout == "plain":
                name, record = writer.text(layout, render_plain(fields(copy, render_rng)), codec)
            else:
                name, record = writer.text(layout, render_html(fields(copy, render_rng)), codec)
            layouts_written[layout] += 1
            edit_names = ",".join(edits)
            truth.writerow(
                [name, article.article_id, role, kind, layout, edit_names, disclaimers]
                + [article.origin, record, codec or ""]
            )
        writer.close()
    info: dict[str, object] = {
        "source": str(source),
        "n": n,
        "dup_rate": dup_rate,
        "seed": seed,
        "layouts": dict(sorted(layouts_written.items())),
        "compress_share": compress_share,
        "feed_size": feed_size,
        "max_shared_paragraphs": shared,
        "files": writer.files,
        "bytes": writer.bytes_written,
        "sources_kept": len(sources),
        "sources_dropped_as_overlapping": dropped,
        "originals": len(articles),
        "originals_real": sum(a.origin != "recombined" for a in articles),
        "originals_recombined": sum(a.origin == "recombined" for a in articles),
        "duplicates": n_dup,
        "max_word_jaccard_between_originals": round(max_shared_jaccard(articles), 3),
    }
    (out / "synth_info.json").write_text(json.dumps(info, indent=2) + "\n")
    return info


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--dup-rate", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--layouts",
        default=",".join(DEFAULT_LAYOUTS),
        help=f"comma list of {','.join(ALL_LAYOUTS)}, or 'all' (default: headed,dated)",
    )
    parser.add_argument(
        "--compress", type=float, default=0.0, help="share of files gzip/bz2/zstd-compressed"
    )
    parser.add_argument(
        "--feed-size", type=int, default=1, help="records per json/jsonl/csv file (default 1)"
    )
    parser.add_argument(
        "--max-shared-paragraphs",
        type=int,
        choices=(1, 2),
        default=1,
        help="paragraphs two originals may share (2 for corpora over ~500k documents)",
    )
    args = parser.parse_args(argv)
    layouts = ALL_LAYOUTS if args.layouts == "all" else tuple(args.layouts.split(","))
    if unknown := set(layouts) - set(ALL_LAYOUTS):
        parser.error(f"unknown layouts {sorted(unknown)}")
    if (args.out / "docs").exists():
        parser.error(f"{args.out / 'docs'} exists; give an empty --out")
    options = (args.compress, args.feed_size, args.max_shared_paragraphs)
    try:
        info = generate(args.source, args.out, args.n, args.dup_rate, args.seed, layouts, *options)
    except NoSourceArticles as exc:
        print(f"synth_corpus: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(info, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
