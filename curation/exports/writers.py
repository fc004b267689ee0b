"""Writing a release's data files: JSONL hashed as it is written, with Parquet and Arrow twins
written on a helper thread, and the small JSON files that make ``hf/`` a `datasets` folder."""

import hashlib
import json
from concurrent.futures import Future
from pathlib import Path

from .formats import format_of
from .layout import HF_ARROW, SPLITS


def _arrow_schema(fmt: str):
    """The record (as in the JSONL) plus the story ``id`` and its ``metadata``."""
    import pyarrow as pa

    message = pa.struct([("role", pa.string()), ("content", pa.string())])
    metadata = pa.struct(
        [
            ("topic_id", pa.int64()),
            ("topic", pa.string()),
            ("theme_id", pa.int64()),
            ("theme", pa.string()),
            ("model", pa.string()),
            ("template_version", pa.string()),
            ("mean_overall", pa.float64()),
            ("reviews", pa.int64()),
        ]
    )
    record = format_of(fmt).columns(pa, message)
    return pa.schema([("id", pa.int64()), *record, ("metadata", metadata)])


class LinesWriter:
    """A JSONL file written in chunks and hashed as it is written."""

    def __init__(self, path: Path):
        self.handle = path.open("wb")
        self.digest = hashlib.sha256()
        self.buffer: list[str] = []

    def add(self, line: str) -> None:
        self.buffer.append(line)
        if len(self.buffer) >= SplitWriter.LINES_PER_CHUNK:
            self.flush()

    def flush(self) -> bytes:
        data = ("\n".join(self.buffer) + "\n").encode("utf-8") if self.buffer else b""
        self.buffer = []
        self.handle.write(data)
        self.digest.update(data)
        return data

    def close(self) -> str:
        try:
            self.flush()
        finally:
            self.handle.close()
        return self.digest.hexdigest()


class SplitWriter:
    """One split: the JSONL file, hashed as it is written, and its Parquet and Arrow twins.

    Lines are buffered and flushed in fixed-size chunks. Each chunk is also parsed by Arrow's
    JSON reader and appended to the Parquet file and to the Arrow stream of the ``hf/`` folder
    on a helper thread (Arrow releases the GIL), so that work overlaps with reading the
    database. Fixed chunks give fixed row groups and batches: the same rows give the same bytes.
    """

    # Also fixes the row groups of the Parquet file: changing it changes a release's bytes.
    # Small enough that Arrow's buffers stay a few MB (peak RSS at a million stories).
    LINES_PER_CHUNK = 2000

    def __init__(self, folder: Path, split: str, fmt: str):
        from concurrent.futures import ThreadPoolExecutor

        import pyarrow as pa
        import pyarrow.json as pj
        import pyarrow.parquet as pq

        self.jsonl = LinesWriter(folder / f"{split}.jsonl")
        self.records: list[str] = []
        self.schema = _arrow_schema(fmt)
        self.parquet = pq.ParquetWriter(
            folder / f"{split}.parquet",
            self.schema,
            compression="snappy",
            write_statistics=False,
        )
        (folder / "hf" / split).mkdir(parents=True, exist_ok=True)
        self.arrow_file = pa.OSFile(str(folder / "hf" / split / HF_ARROW), "wb")
        self.arrow = pa.ipc.new_stream(self.arrow_file, self.schema)
        self.parse_options = pj.ParseOptions(
            explicit_schema=self.schema, unexpected_field_behavior="error"
        )
        self.read_options = pj.ReadOptions(block_size=64 << 20, use_threads=False)
        self.pool = ThreadPoolExecutor(max_workers=1)
        self.pending: list[Future] = []

    def add(self, line: str, record: str) -> None:
        """``line``: the JSONL record; ``record``: the same with ``id`` and ``metadata``."""
        self.jsonl.buffer.append(line)
        self.records.append(record)
        if len(self.records) >= self.LINES_PER_CHUNK:
            self.flush()

    def flush(self) -> None:
        if not self.records:
            return
        self.jsonl.flush()
        data = ("\n".join(self.records) + "\n").encode("utf-8")
        self.records = []
        # Keep at most one chunk waiting, so memory stays bounded.
        for future in self.pending:
            future.result()
        self.pending = [self.pool.submit(self._to_parquet, data)]

    def _to_parquet(self, data: bytes) -> None:
        import pyarrow as pa
        import pyarrow.json as pj

        table = pj.read_json(
            pa.BufferReader(data), read_options=self.read_options, parse_options=self.parse_options
        )
        table = table.cast(self.schema)
        self.parquet.write_table(table)
        self.arrow.write_table(table)
        del table
        # Hand Arrow's freed buffers back, so the peak stays one chunk deep.
        pa.default_memory_pool().release_unused()

    def close(self) -> str:
        try:
            self.flush()
            for future in self.pending:
                future.result()
        finally:
            self.pool.shutdown()
            digest = self.jsonl.close()
            self.parquet.close()
            self.arrow.close()
            self.arrow_file.close()
        return digest


def write_hf_metadata(folder: Path, digests: dict) -> None:
    """The small JSON files that make ``hf/`` a `datasets` save_to_disk folder around the Arrow
    streams written with the splits. The fingerprint comes from the split's content (not a
    random one, as save_to_disk would pick), so releases stay byte-identical; the features are
    read from the Arrow schema."""
    hf = folder / "hf"

    def dump(path: Path, data: dict) -> None:
        path.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")

    dump(hf / "dataset_dict.json", {"splits": list(SPLITS)})
    for split in SPLITS:
        dump(
            hf / split / "state.json",
            {
                "_data_files": [{"filename": HF_ARROW}],
                "_fingerprint": digests[f"{split}.jsonl"][:16],
                "_format_columns": None,
                "_format_kwargs": {},
                "_format_type": None,
                "_output_all_columns": False,
                "_split": split,
            },
        )
        dump(
            hf / split / "dataset_info.json",
            {
                "citation": "",
                "description": "Approved two-paragraph stories; see README.md.",
                "homepage": "",
                "license": "",
            },
        )
