"""Uploaded files on disk: written as they arrive, made durable, then named; read back in chunks for metrics."""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from anyio import to_thread

from services.common.errors import PayloadTooLarge, Unprocessable

# Writes and reads go to a thread a mebibyte at a time: few hops, and memory stays constant whatever the file.
CHUNK_BYTES = 1 << 20
PART_SUFFIX = ".part"
# A file nothing refers to is left alone this long: another process may still be writing it, or about to
# record its job.
ORPHAN_AFTER_SECONDS = 3600.0


def spool_directory(spool_dir: Path) -> Path:
    return spool_dir / "ingest"


def spooled_path(directory: Path, job_id: str) -> Path:
    return directory / f"{job_id}.upload"


@dataclass(frozen=True)
class SpooledFile:
    path: Path
    bytes_total: int
    sha256: str


def _write(handle: BinaryIO, digest, pieces: list[bytes]) -> None:  # noqa: ANN001 - a hashlib object
    data = b"".join(pieces)
    digest.update(data)
    handle.write(data)


def _seal(handle: BinaryIO, part: Path, final: Path) -> None:
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()
    os.replace(part, final)
    # The rename itself is durable only once the directory is.
    directory = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


async def spool(chunks: AsyncIterable[bytes], directory: Path, job_id: str, limit: int) -> SpooledFile:
    """Write a stream to `directory`, counting its bytes against `limit` as they arrive. Whatever stops it
    (too large, the client gone, a full disk) leaves no file behind."""
    directory.mkdir(parents=True, exist_ok=True)
    part = directory / f"{job_id}{PART_SUFFIX}"
    final = spooled_path(directory, job_id)
    digest = hashlib.sha256()
    handle = await to_thread.run_sync(part.open, "xb")
    size, pending, pending_bytes = 0, [], 0
    try:
        async for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"The file is larger than {limit} bytes, the limit for a bulk upload.")
            pending.append(chunk)
            pending_bytes += len(chunk)
            if pending_bytes >= CHUNK_BYTES:
                await to_thread.run_sync(_write, handle, digest, pending)
                pending, pending_bytes = [], 0
        if size == 0:
            raise Unprocessable("The file is empty.", errors=[{"field": "body", "reason": "no bytes were sent"}])
        if pending:
            await to_thread.run_sync(_write, handle, digest, pending)
        await to_thread.run_sync(_seal, handle, part, final)
    except BaseException:
        handle.close()
        part.unlink(missing_ok=True)
        raise
    return SpooledFile(final, size, digest.hexdigest())


async def read_chunks(path: Path) -> AsyncIterator[bytes]:
    handle = await to_thread.run_sync(path.open, "rb")
    try:
        while chunk := await to_thread.run_sync(handle.read, CHUNK_BYTES):
            yield chunk
    finally:
        handle.close()


async def file_chunks(handle: BinaryIO) -> AsyncIterator[bytes]:
    """An open file's bytes, a chunk at a time; the handle is closed when the reading ends, however it ends."""
    try:
        while chunk := await to_thread.run_sync(handle.read, CHUNK_BYTES):
            yield chunk
    finally:
        handle.close()


def remove(path: Path) -> None:
    path.unlink(missing_ok=True)


def sweep(directory: Path, keep: Iterable[str], now: float | None = None) -> list[Path]:
    """Remove files no waiting job refers to: parts of uploads that never finished, files of jobs that ended
    while the process stopped before removing them. Returns what it removed."""
    if not directory.is_dir():
        return []
    now = time.time() if now is None else now
    wanted = {spooled_path(directory, job_id).name for job_id in keep}
    removed = []
    for path in directory.iterdir():
        if path.name in wanted or not path.is_file():
            continue
        with contextlib.suppress(FileNotFoundError):
            if now - path.stat().st_mtime >= ORPHAN_AFTER_SECONDS:
                path.unlink()
                removed.append(path)
    return removed
