"""The zip around a package: fixed entry times and order for reproducible bytes, the collection
deflated on every core."""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

from .deflate import ParallelCompressor
from .safefs import open_regular

ZIP_TIME = (1980, 1, 1, 0, 0, 0)
ZIP_LEVEL = 1  # 65k notes, a 56 MB db: level 1 zips it in 0.28 s to 9.6 MB, level 6 in 1.0 s to 8.7 MB, level 9 in 4.0 s to 8.7 MB


def zip_entry(name: str, size: int = 0) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    # ZipInfo.compress_level from Python 3.13, which keeps this name as an alias; tests/test_package.py
    # fails if zipfile stops reading it.
    info._compresslevel = ZIP_LEVEL  # type: ignore[attr-defined]
    info.external_attr = 0o644 << 16
    info.file_size = size  # known before writing, as writestr knows it: the same header, the same ZIP64 choice
    return info


def zip_file(zf: zipfile.ZipFile, name: str, path: str | Path, parallel: bool = False) -> None:
    """Stream a file into the archive instead of reading it whole; `parallel`: deflate it on every core.
    Opened as a project file (safefs.open_regular): a media file swapped for a link or a FIFO since
    the deck was checked is refused, not followed."""
    with open_regular(path) as src, zf.open(zip_entry(name, os.fstat(src.fileno()).st_size), "w") as dest:
        compressor = None
        if parallel:
            # zipfile has no way to plug in a compressor; its entry writer keeps one in this attribute
            # (Python 3.6 to 3.13), and still computes the CRC and sizes itself. tests/test_package.py
            # checks that the entry holds ParallelCompressor's output.
            compressor = dest._compressor = ParallelCompressor(ZIP_LEVEL)  # type: ignore[attr-defined]
        try:
            shutil.copyfileobj(src, dest, 1 << 20)
        except BaseException:
            if compressor:
                compressor.close()  # the entry's close, on the way out, then writes nothing more
            raise
