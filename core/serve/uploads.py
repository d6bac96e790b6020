"""A multipart upload streamed straight to a temporary file, counted as it arrives: over the cap
the request is refused (413) without reading the rest, a name that is not a video is refused
(415) before a byte is written, and the file is removed however the request ends."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from python_multipart.multipart import MultipartParseError, MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from core.serve.errors import ApiError
from core.video.uploads import UnsupportedUpload, upload_suffix

FILE_FIELD = "file"
TEXT_FIELDS = ("tta",)
MAX_TEXT_FIELD_BYTES = 64
# Boundaries and part headers around the file: a declared length past cap + this is refused unread.
FORM_OVERHEAD_BYTES = 16 * 1024


@dataclass
class ReceivedUpload:
    path: Path | None = None
    filename: str = ""
    size: int = 0
    fields: dict[str, str] = field(default_factory=dict)


class _FormWriter:
    """python-multipart callbacks: headers of each part, then its data into the file or a field."""

    def __init__(self, received: ReceivedUpload, max_bytes: int, temp_dir: Path | None) -> None:
        self.received = received
        self.max_bytes = max_bytes
        self.temp_dir = temp_dir
        self.header_field = b""
        self.header_value = b""
        self.headers: dict[bytes, bytes] = {}
        self.part: str | None = None
        self.text = bytearray()
        self.file: BinaryIO | None = None

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
        }

    def on_part_begin(self) -> None:
        self.headers, self.part, self.text = {}, None, bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        self.headers[self.header_field.lower()] = self.header_value
        self.header_field, self.header_value = b"", b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if name == FILE_FIELD:
            self._open_file(options.get(b"filename", b"").decode("utf-8", "replace"))
        elif name not in TEXT_FIELDS:
            raise ApiError(400, f"unknown form field {name!r}; send `{FILE_FIELD}` and optionally `tta`")
        self.part = name

    def _open_file(self, filename: str) -> None:
        if self.received.path is not None:
            raise ApiError(400, f"send one `{FILE_FIELD}` per request")
        try:
            suffix = upload_suffix(filename or "upload")
        except UnsupportedUpload as exc:
            raise ApiError(415, str(exc)) from None
        handle, name = tempfile.mkstemp(prefix="upload-", suffix=suffix, dir=self.temp_dir)
        self.received.path, self.received.filename = Path(name), Path(filename).name
        self.file = os.fdopen(handle, "wb")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.part == FILE_FIELD and self.file is not None:
            self.received.size += end - start
            if self.received.size > self.max_bytes:
                raise too_large(self.max_bytes)
            self.file.write(data[start:end])
            return
        self.text += data[start:end]
        if len(self.text) > MAX_TEXT_FIELD_BYTES:
            raise ApiError(400, f"form field {self.part!r} is too long")

    def on_part_end(self) -> None:
        if self.part == FILE_FIELD and self.file is not None:
            self.file.close()
            self.file = None
        elif self.part is not None:
            self.received.fields[self.part] = self.text.decode("utf-8", "replace")

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


def too_large(max_bytes: int) -> ApiError:
    return ApiError(
        413, f"the upload is larger than the server's limit of {max_bytes / 2**20:g} MB (--max-upload-mb)"
    )


def _boundary(request: Request) -> bytes:
    _, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if not boundary:
        raise ApiError(400, "multipart/form-data without a boundary; let the HTTP client build the form")
    return boundary


def _check_declared_length(request: Request, max_bytes: int) -> None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes + FORM_OVERHEAD_BYTES:
        raise too_large(max_bytes)


@asynccontextmanager
async def streamed_upload(
    request: Request, max_bytes: int, temp_dir: Path | None
) -> AsyncIterator[ReceivedUpload]:
    """The form's file in a temporary file and its text fields; the file is removed on exit,
    whether the request succeeded, was refused, or the client went away."""
    received = ReceivedUpload()
    writer = _FormWriter(received, max_bytes, temp_dir)
    try:
        _check_declared_length(request, max_bytes)
        parser = MultipartParser(_boundary(request), writer.callbacks())
        try:
            async for chunk in request.stream():
                parser.write(chunk)
            parser.finalize()
        except MultipartParseError as exc:
            raise ApiError(400, f"malformed multipart form ({exc})") from None
        except ClientDisconnect:
            raise ApiError(400, "the client disconnected during the upload") from None
        writer.close()
        if received.path is None:
            raise ApiError(400, f"no `{FILE_FIELD}` field in the form; send the clip as `{FILE_FIELD}`")
        yield received
    finally:
        writer.close()
        if received.path is not None:
            with contextlib.suppress(FileNotFoundError):
                received.path.unlink()
