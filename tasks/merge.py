"""merge: a cluster of copies -> one record, and a trace of every copy merged into it.

The record takes its body and title from the most complete copy (`completeness_order`)
and its metadata from all copies: the URL from the first copy that has one, every URL,
the earliest date (and where that date came from), every source file and layout, every
line any copy's clean stage removed, every author and tag (in completeness order), the
source's other fields from the kept copy or else the first copy that has them, and the
kept copy's truncation flags (they describe its body). A date or URL flag stays only when
no copy has a date or URL. Paragraphs that only the chosen copy has and that look like
site furniture are removed too, as `cross_copy_v1` (`cross_copy_lines`).

Each other copy gets a `duplicates/` row saying how it matched: to the kept copy when
it matches it directly, else to the copy of the cluster it matches best (clusters are
connected components, so a copy can be linked through another).
"""

from __future__ import annotations

import polars as pl

from newsflow.config import DedupeConfig
from newsflow.schema import REMOVED_LINE
from tasks.boilerplate import protected
from tasks.clean import PARAGRAPH_BREAK
from tasks.fingerprints import normalised, shingle_sets
from tasks.layouts import SHUFFLED_LAYOUTS
from tasks.minhash import in_window, near_method, pair_similarity
from tasks.short_links import titles_agree

CROSS_COPY_RULE = "cross_copy_v1"
# Furniture is short: a label, a byline, a button, a caption credit. A paragraph this
# short without sentence-ending punctuation is not prose ...
SHORT_LINE_WORDS = 10
# ... and one this short naming site furniture is not reporting. The words are
# unambiguous out of context (the anchored rules of tasks/boilerplate.py already ran at
# clean; this looser list only ever applies to a paragraph no other copy has).
FURNITURE_LINE_WORDS = 30
FURNITURE_VOCABULARY = (
    r"(?i)\b(?:newsletters?|subscri(?:be|ption)|sign up|cookies|advertisement|getty images|"
    r"all rights reserved|click here|facebook messenger|follow us|share this|read more|"
    r"related (?:topics|stories)|media playback|image (?:caption|copyright)|"
    r"listen to this (?:article|story)|your browser)\b"
)
# A paragraph whose shingles are at least this much in other copies is shared text.
SHARED_SHARE = 0.5
METHOD_RANK = {"exact_body": 0, "sentence_set": 1, "near_jaccard": 2, "near_containment": 3}


def looks_like_furniture(paragraph: pl.Expr) -> pl.Expr:
    """Short and unpunctuated, or short and naming site furniture; never a quotation or a
    paragraph that opens with a dateline (reporting)."""
    words = paragraph.str.count_matches(r"\w+")
    unpunctuated = ~paragraph.str.contains(r"[.!?…][\"'”’)\]]*$")
    vocabulary = paragraph.str.contains(FURNITURE_VOCABULARY)
    short = (words <= SHORT_LINE_WORDS) & unpunctuated
    return (short | ((words <= FURNITURE_LINE_WORDS) & vocabulary)) & ~protected(paragraph)


def completeness_order() -> list[pl.Expr]:
    """Sort keys, most complete copy first.

    1. case and punctuation kept (a lower-cased, punctuation-stripped CSV copy is last);
    2. paragraphs in the source's order (shuffled headed sentences after any other);
    3. complete: a body the source cut off (`body_truncated`, a NewsAPI teaser ending
    "[+4047 chars]") loses to a whole one, whatever its date and URL (those are merged
    from every copy anyway); 4. has a date; 5. has a URL; 6. longer body once cross-copy
    furniture is taken out (`trimmed_body`), so extra furniture never wins; 7. more
    punctuation in the title ("Biden, Putin hold ..." over "Biden Putin hold ...");
    8. doc_id, so the choice is deterministic.
    """
    body = pl.col("body")
    return [
        ~(body.str.contains(r"\p{Lu}") & body.str.contains(r"[.!?]")),
        pl.col("layout").is_in(SHUFFLED_LAYOUTS),
        pl.col("body_truncated").fill_null(False),
        pl.col("published_date").is_null(),
        pl.col("url").is_null(),
        -pl.col("trimmed_body").str.len_chars().cast(pl.Int64),
        -pl.col("title").fill_null("").str.count_matches(r"[^\w\s]").cast(pl.Int64),
        pl.col("doc_id"),
    ]


def cross_copy_lines(members: pl.DataFrame, shingle_size: int) -> pl.DataFrame:
    """Per document of a cluster with 2+ copies: its body without the furniture only it
    has (`trimmed_body`) and those paragraphs as removed lines (`cross_removed`).

    A paragraph counts as held by another copy when most of its shingles are in one
    (shuffled or re-paragraphed copies) or its normalised text is inside another copy's
    normalised body (lower-cased, punctuation-stripped copies, short lines).
    `members` has doc_id, cluster, body and shingles.
    """
    multi = members.filter(pl.len().over("cluster") > 1)
    paragraphs = (
        multi.select("doc_id", "cluster", text=pl.col("body").str.split(PARAGRAPH_BREAK))
        .with_columns(pos=pl.col("text").list.eval(pl.int_range(pl.len())))
        .explode("text", "pos")
    )
    candidates = paragraphs.filter(looks_like_furniture(pl.col("text")))
    # Only clusters with a candidate need their copies' shingles counted.
    multi = multi.join(candidates.select("cluster").unique(), on="cluster", how="semi")
    if candidates.is_empty():
        return pl.DataFrame(
            schema={"doc_id": pl.String, "trimmed_body": pl.String, "cross_removed": REMOVED_LINE}
        ).with_columns(pl.col("cross_removed").cast(pl.List(REMOVED_LINE)))
    copies = (
        multi.select("cluster", shingle="shingles")
        .explode("shingle", empty_as_null=False)
        .group_by("cluster", "shingle")
        .agg(copies=pl.len())
    )
    share = (
        candidates.with_columns(shingle=shingle_sets(candidates["text"], shingle_size))
        .explode("shingle", empty_as_null=False)
        .join(copies, on=["cluster", "shingle"], how="left")
        .group_by("doc_id", "pos")
        .agg(share=(pl.col("copies") >= 2).mean())
    )
    candidates = candidates.join(share, on=["doc_id", "pos"], how="left").filter(
        pl.col("share").fill_null(0.0) < SHARED_SHARE
    )
    flat = multi.select("doc_id", "cluster", norm=normalised(pl.col("body")))
    others: dict[str, list[tuple[str, str]]] = {}
    for doc_id, cluster, norm in flat.iter_rows():
        others.setdefault(cluster, []).append((doc_id, f" {norm} "))
    unique = [
        (doc_id, pos, text)
        for doc_id, cluster, pos, text, norm in candidates.with_columns(
            norm=normalised(pl.col("text"))
        )
        .select("doc_id", "cluster", "pos", "text", "norm")
        .iter_rows()
        if not norm
        or not any(f" {norm} " in body for other, body in others[cluster] if other != doc_id)
    ]
    drop = pl.DataFrame(
        unique, schema={"doc_id": pl.String, "pos": pl.Int64, "text": pl.String}, orient="row"
    ).with_columns(drop=pl.lit(True))
    per_doc = (
        paragraphs.join(drop.drop("text"), on=["doc_id", "pos"], how="left", maintain_order="left")
        .group_by("doc_id", maintain_order=True)
        .agg(
            trimmed_body=pl.col("text").filter(pl.col("drop").is_null()).str.join(PARAGRAPH_BREAK),
            cross_removed=pl.struct("text", rule=pl.lit(CROSS_COPY_RULE)).filter(
                pl.col("drop").is_not_null()
            ),
        )
    )
    # A copy made only of such lines keeps them: a record is never emptied here.
    emptied = pl.col("trimmed_body") == ""
    return per_doc.with_columns(
        trimmed_body=pl.when(emptied).then(None).otherwise("trimmed_body"),
        cross_removed=pl.when(emptied)
        .then(pl.lit([], pl.List(REMOVED_LINE)))
        .otherwise("cross_removed"),
    )


def scored_pairs(pairs: pl.DataFrame, info: pl.DataFrame, config: DedupeConfig) -> pl.DataFrame:
    """How each pair (doc_id, other_doc_id) matches: method and verified similarity.

    `info` has doc_id, exact_key, sentence_key, title_key, short_body, published_date and
    shingles. A pair with a short body matches only under an agreeing title and date
    (tasks/short_links.py); otherwise its method is null.
    """
    keys = ["doc_id", "exact_key", "sentence_key", "title_key", "short_body", "published_date"]
    similar = pair_similarity(pairs, info.select("doc_id", "shingles"))
    df = (
        similar.join(info.select(keys), on="doc_id")
        .join(info.select(keys).rename(lambda c: f"other_{c}"), on="other_doc_id")
        .with_columns(near=near_method(config))
    )
    allowed = ~(pl.col("short_body") | pl.col("other_short_body")) | (
        titles_agree(pl.col("title_key"), pl.col("other_title_key")) & in_window(config)
    )
    method = (
        pl.when(~allowed)
        .then(pl.lit(None, pl.String))
        .when(pl.col("exact_key") == pl.col("other_exact_key"))
        .then(pl.lit("exact_body"))
        .when(pl.col("sentence_key") == pl.col("other_sentence_key"))
        .then(pl.lit("sentence_set"))
        .otherwise("near")
    )
    similarity = (
        pl.when(pl.col("method") == "near_jaccard")
        .then("jaccard")
        .when(pl.col("method") == "near_containment")
        .then("containment")
        .otherwise(1.0)
    )
    return (
        df.with_columns(method=method)
        .with_columns(similarity=similarity)
        .select("doc_id", "other_doc_id", "method", "similarity", "jaccard")
    )


def duplicate_links(ordered: pl.DataFrame, config: DedupeConfig) -> pl.DataFrame:
    """doc_id, matched_doc_id, method, similarity for every copy but the kept one.

    `ordered` is sorted by cluster and completeness (the kept copy first in each).
    """
    info = ordered.with_columns(rank=pl.int_range(pl.len()).over("cluster"))
    kept = info.filter(pl.col("rank") == 0).select("cluster", other_doc_id="doc_id")
    copies = info.filter(pl.col("rank") > 0).select("doc_id", "cluster")
    direct = scored_pairs(copies.join(kept, on="cluster").drop("cluster"), info, config)
    found = direct.filter(pl.col("method").is_not_null())
    linked = copies.join(found, on="doc_id", how="anti")
    if not linked.is_empty():
        # Linked through another copy: report the best match inside the cluster.
        others = info.select("cluster", other_doc_id="doc_id", other_rank="rank")
        pairs = (
            linked.join(others, on="cluster")
            .filter(pl.col("doc_id") != pl.col("other_doc_id"))
            .select("doc_id", "other_doc_id", "other_rank")
        )
        best = (
            scored_pairs(pairs.select("doc_id", "other_doc_id"), info, config)
            .filter(pl.col("method").is_not_null())
            .join(pairs, on=["doc_id", "other_doc_id"])
            .sort(
                pl.col("method").replace_strict(METHOD_RANK, return_dtype=pl.Int64),
                -pl.col("similarity"),
                "other_rank",
            )
            .unique("doc_id", keep="first")
            .drop("other_rank")
        )
        # Cannot happen with one config (every link is one of these four), but if it did
        # the copy still gets a row: its Jaccard with the kept copy.
        fallback = direct.join(best, on="doc_id", how="anti").filter(pl.col("method").is_null())
        fallback = fallback.with_columns(method=pl.lit("near_jaccard"), similarity="jaccard")
        found = pl.concat([found, best, fallback])
    return found.select("doc_id", "method", "similarity", matched_doc_id="other_doc_id")


LIST_SOURCE_FIELDS = ("authors", "tags")
SCALAR_SOURCE_FIELDS = ("description", "image_url", "source_language", "fetched_at")


def merged_source_fields() -> dict[str, pl.Expr]:
    """What the source said, merged over a cluster sorted most complete first: lists are
    unions in that order, scalars the kept copy's value, else the first copy's that has one
    (the URL's rule)."""
    lists = {
        name: pl.col(name)
        .list.explode(keep_nulls=False, empty_as_null=False)
        .unique(maintain_order=True)
        for name in LIST_SOURCE_FIELDS
    }
    scalars = {name: pl.col(name).drop_nulls().first() for name in SCALAR_SOURCE_FIELDS}
    return lists | scalars


def merge_clusters(
    members: pl.DataFrame, run_id: str, config: DedupeConfig
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One record per cluster and the duplicates mapping of its other copies.

    `members` has the cleaned columns plus cluster, exact_key, sentence_key, shingles.
    Returns (records, duplicates) with the columns of DEDUPED and DUPLICATES.
    """
    trimmed = cross_copy_lines(members, config.shingle_size)
    df = (
        members.join(trimmed, on="doc_id", how="left", maintain_order="left")
        .with_columns(
            trimmed_body=pl.coalesce("trimmed_body", "body"),
            cross_removed=pl.col("cross_removed").fill_null(pl.lit([], pl.List(REMOVED_LINE))),
        )
        .sort(["cluster", *completeness_order()])
    )
    first = pl.col("doc_id").first()
    records = (
        df.group_by("cluster", maintain_order=True)
        .agg(
            doc_id=first,
            run_id=pl.lit(run_id),
            batch_id=pl.col("batch_id").first(),
            title=pl.col("title").drop_nulls().first(),
            published_date=pl.col("published_date").min(),
            url=pl.col("url").drop_nulls().first(),
            urls=pl.col("url").drop_nulls().unique().sort(),
            body=pl.col("trimmed_body").first(),
            source_files=pl.col("source_file").unique().sort(),
            layouts=pl.col("layout").unique().sort(),
            duplicate_count=pl.len().cast(pl.Int64),
            removed_lines=pl.col("removed_lines").list.explode(
                keep_nulls=False, empty_as_null=False
            ),
            cross_removed=pl.col("cross_removed").first(),
            # Any copy's own name for its site (enrich's publisher reads it).
            site_name=pl.col("site_name").drop_nulls().sort().first(),
            **merged_source_fields(),
            # The kept copy's body is the one these flags describe.
            body_truncated=pl.col("body_truncated").first(),
            truncation_reason=pl.col("truncation_reason").first(),
            url_flag=pl.when(pl.col("url").drop_nulls().len() == 0)
            .then(pl.col("url_flag").first())
            .otherwise(None),
            # The earliest date's source; a flag only when no copy has a date.
            date_source=pl.col("date_source")
            .sort_by("published_date", nulls_last=True, maintain_order=True)
            .first(),
            date_flag=pl.when(pl.col("published_date").drop_nulls().len() == 0)
            .then(pl.col("date_flag").first())
            .otherwise(None),
        )
        .with_columns(
            removed_lines=pl.concat_list("removed_lines", "cross_removed").list.unique(
                maintain_order=True
            )
        )
    )
    kept = records.select("cluster", kept_doc_id="doc_id", batch_id="batch_id")
    duplicates = (
        duplicate_links(df, config)
        .join(df.select("doc_id", "cluster"), on="doc_id")
        .join(kept, on="cluster")
        .with_columns(run_id=pl.lit(run_id))
    )
    return records, duplicates
