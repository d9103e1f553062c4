"""GetPanel's responses: the kit's panel codec (`zquant_kit.grpc.panel_codec`) wrapped into
`GetPanelResponse` messages; clients decode them with the kit's `read_panel`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import numpy as np

from zquant.common.v1.panel_pb2 import PanelHeader
from zquant.marketdata.v1 import market_data_pb2
from zquant_kit.grpc import panel_codec


def encode_panel(
    codes: Sequence[str],
    days: np.ndarray,
    fields: Sequence[str],
    values: Mapping[str, np.ndarray],
    codes_per_chunk: int,
) -> Iterator[market_data_pb2.GetPanelResponse]:
    """The header, then for each block of `codes_per_chunk` codes one chunk per field."""
    for part in panel_codec.encode_panel(codes, days, fields, values, codes_per_chunk):
        if isinstance(part, PanelHeader):
            yield market_data_pb2.GetPanelResponse(header=part)
        else:
            yield market_data_pb2.GetPanelResponse(chunk=part)
