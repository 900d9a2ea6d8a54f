"""One module per enricher; `tasks.enrich.ENRICHERS` registers them under versioned names.

An enricher is a function `frame -> frame of new columns` (same rows, same order): it
reads the article columns and never changes them. A change to what an enricher
computes is a new version (`counts_v2`), so a column always says which logic made it.
"""
