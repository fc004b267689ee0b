"""Downloads of a release: one file, or the whole release as a streamed .zip."""

import zipfile
from pathlib import Path

from ..models import DatasetExport
from .layout import ALL_FILES, export_folder


def export_file_path(export: DatasetExport, filename: str) -> Path | None:
    """The path of one of the release's files, or None: no other path can be reached."""
    if filename not in ALL_FILES:
        return None
    folder = export_folder(export).resolve()
    path = (folder / filename).resolve()
    if not path.is_relative_to(folder) or not path.is_file():
        return None
    return path


class _ZipSink:
    """A write-only file object for ZipFile that hands its bytes to a generator."""

    def __init__(self):
        self.chunks: list[bytes] = []
        self.position = 0

    def write(self, data: bytes, /) -> int:
        self.chunks.append(bytes(data))
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def drain(self):
        chunks, self.chunks = self.chunks, []
        return chunks


def export_zip_stream(export: DatasetExport):
    """Yield the release as a .zip, file by file in 1 MiB pieces (never all in memory)."""
    sink = _ZipSink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in ALL_FILES:
            path = export_file_path(export, name)
            if path is None:
                continue
            info = zipfile.ZipInfo(f"{export.name}/{name}", date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with path.open("rb") as source, archive.open(info, "w", force_zip64=True) as target:
                for block in iter(lambda: source.read(1 << 20), b""):
                    target.write(block)
                    yield from sink.drain()
            yield from sink.drain()
    yield from sink.drain()
