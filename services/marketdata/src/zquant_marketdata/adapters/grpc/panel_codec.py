"""GetPanel's responses: the kit's panel codec (`zquant_kit.grpc.panel_codec`) wrapped into
`GetPanelResponse` messages; clients decode them with the kit's `read_panel`."""

from __future__ import annotations

import functools

from zquant.marketdata.v1 import market_data_pb2
from zquant_kit.grpc.panel_codec import encode_panel_responses

encode_panel = functools.partial(encode_panel_responses, market_data_pb2.GetPanelResponse)
"""(codes, days, fields, values, codes_per_chunk) → the header, then per block of codes one chunk per field."""
