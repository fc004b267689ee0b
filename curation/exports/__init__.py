"""Dataset exports: only approved stories leave the system, as reproducible, documented releases.

- ``layout``: where a release lives, its files, the split rule;
- ``rows``: the one streamed query (lines built by the database);
- ``writers``: JSONL, Parquet and the ``hf/`` Arrow folder;
- ``card``: the dataset card (a template);
- ``runner``: writing a release aside and moving it into place;
- ``services``: creating (validating, queueing) exports; ``download``: files and the zip.
"""
