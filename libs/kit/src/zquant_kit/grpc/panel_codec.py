"""The columnar panel codec of `zquant.common.v1.PanelHeader` / `PanelChunk`, both ways.

A panel stream is a header (code axis, date axis, fields, "float64-le") followed by chunks, each
holding `code_count` codes × all dates of one field as packed little-endian float64, code-major.
Chunks may come in any order; every (field, code) must arrive once. A service's response message
wraps the parts in a `oneof part { PanelHeader header; PanelChunk chunk; }` (GetPanel does, and so
does any RPC that serves "the same codec as GetPanel"); `encode_panel` yields the bare parts,
`encode_panel_responses` the wrapped ones, and the decoder reads such responses.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable, Iterable, Iterator, Mapping, Sequence
from typing import Protocol, TypeVar

import numpy as np

from zquant.common.v1.panel_pb2 import PanelChunk, PanelHeader

ENCODING = "float64-le"

DecodedPanel = tuple[list[str], np.ndarray, dict[str, np.ndarray]]
"""(codes, dates as datetime64[D], {field: float64 array [codes, dates]})."""


class PanelResponse(Protocol):
    """A response message with `oneof part { PanelHeader header = 1; PanelChunk chunk = 2; }`."""

    @property
    def header(self) -> PanelHeader: ...

    @property
    def chunk(self) -> PanelChunk: ...

    def WhichOneof(self, oneof_group: str) -> str | None: ...


def format_days(days: np.ndarray) -> list[str]:
    """datetime64[D] → Tushare's ``YYYYMMDD`` strings."""
    return [
        text.replace("-", "")
        for text in np.datetime_as_string(np.asarray(days, dtype="datetime64[D]"), unit="D")
    ]


def parse_days(texts: Sequence[str]) -> np.ndarray:
    return np.array([f"{t[:4]}-{t[4:6]}-{t[6:8]}" for t in texts], dtype="datetime64[D]")


def encode_panel(
    codes: Sequence[str],
    days: np.ndarray,
    fields: Sequence[str],
    values: Mapping[str, np.ndarray],
    codes_per_chunk: int,
) -> Iterator[PanelHeader | PanelChunk]:
    """The header, then for each block of `codes_per_chunk` codes one chunk per field."""
    yield PanelHeader(
        ts_codes=list(codes), trade_dates=format_days(days), fields=list(fields), encoding=ENCODING
    )
    little = {name: np.ascontiguousarray(values[name], dtype="<f8") for name in fields}
    for offset in range(0, len(codes), max(codes_per_chunk, 1)):
        for name in fields:
            block = little[name][offset : offset + codes_per_chunk]
            yield PanelChunk(
                field=name, code_offset=offset, code_count=block.shape[0], values=block.tobytes()
            )


R = TypeVar("R")


def encode_panel_responses(
    response: Callable[..., R],
    codes: Sequence[str],
    days: np.ndarray,
    fields: Sequence[str],
    values: Mapping[str, np.ndarray],
    codes_per_chunk: int,
) -> Iterator[R]:
    """`encode_panel` wrapped in a service's response message (`response(header=...)`, `response(chunk=...)`)."""
    for part in encode_panel(codes, days, fields, values, codes_per_chunk):
        yield response(header=part) if isinstance(part, PanelHeader) else response(chunk=part)


class PanelDecoder:
    """Feeds on responses one by one, so a client can decode while the stream is arriving."""

    def __init__(self) -> None:
        self.codes: list[str] = []
        self.dates: np.ndarray | None = None
        self.values: dict[str, np.ndarray] = {}
        self._filled: dict[str, np.ndarray] = {}

    def feed(self, response: PanelResponse) -> None:
        part = response.WhichOneof("part")
        if part == "header":
            self.feed_header(response.header)
        elif part == "chunk":
            self.feed_chunk(response.chunk)
        else:
            raise ValueError("empty panel response")

    def feed_header(self, header: PanelHeader) -> None:
        if header.encoding != ENCODING:
            raise ValueError(f"unsupported panel encoding {header.encoding!r}")
        self.codes = list(header.ts_codes)
        self.dates = parse_days(header.trade_dates)
        shape = (len(self.codes), self.dates.size)
        self.values = {name: np.empty(shape, dtype=np.float64) for name in header.fields}
        self._filled = {name: np.zeros(len(self.codes), dtype=bool) for name in header.fields}

    def feed_chunk(self, chunk: PanelChunk) -> None:
        if self.dates is None:
            raise ValueError("panel chunk before the header")
        if chunk.field not in self.values:
            raise ValueError(f"panel chunk of an unknown field {chunk.field!r}")
        rows = slice(chunk.code_offset, chunk.code_offset + chunk.code_count)
        block = np.frombuffer(chunk.values, dtype="<f8")
        if (
            chunk.code_offset < 0
            or rows.stop > len(self.codes)
            or block.size != chunk.code_count * self.dates.size
        ):
            raise ValueError(f"panel chunk of {chunk.field!r} at {chunk.code_offset} does not fit the axes")
        self.values[chunk.field][rows] = block.reshape(chunk.code_count, self.dates.size)
        self._filled[chunk.field][rows] = True

    def result(self) -> DecodedPanel:
        if self.dates is None:
            raise ValueError("the panel stream had no header")
        for name, filled in self._filled.items():
            if not filled.all():
                raise ValueError(f"panel field {name!r} is missing {int((~filled).sum())} code(s)")
        return self.codes, self.dates, self.values


def decode_panel(responses: Iterable[PanelResponse]) -> DecodedPanel:
    """The panel of a whole response stream."""
    decoder = PanelDecoder()
    for response in responses:
        decoder.feed(response)
    return decoder.result()


async def read_panel(responses: AsyncIterable[PanelResponse]) -> DecodedPanel:
    """`decode_panel` over a grpc.aio stream, decoding each message as it arrives."""
    decoder = PanelDecoder()
    async for response in responses:
        decoder.feed(response)
    return decoder.result()
