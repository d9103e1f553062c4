"""Fixed-width COPY tuples: each field's int32 length then its bytes, a one-row field the same in every row, None
a NULL (length -1, no bytes), and a field of another row count refused."""

import struct

import numpy as np
import pytest

from zquant_kit.persistence.blocks.copy_encode import fixed_width_tuples

pytestmark = pytest.mark.unit


def test_fields_per_row_constant_and_null_in_postgres_binary_layout():
    codes = np.array([b"000001.SZ", b"600000.SH"], dtype="S9")
    year = np.array([2024], dtype=">i2")
    values = np.array([[1.5, 2.5], [3.5, 4.5]], dtype="<f8")
    data = fixed_width_tuples([codes, year, None, values], 2)
    row = struct.Struct(">h i 9s i h i i 16s")
    assert len(data) == 2 * row.size
    first, second = row.unpack_from(data, 0), row.unpack_from(data, row.size)
    assert first == (4, 9, b"000001.SZ", 2, 2024, -1, 16, values[0].tobytes())
    assert second == (4, 9, b"600000.SH", 2, 2024, -1, 16, values[1].tobytes())


def test_a_field_of_another_row_count_is_refused():
    with pytest.raises(ValueError, match="field 1 has 3 rows, not 1 or 2"):
        fixed_width_tuples([np.zeros(2, ">i4"), np.zeros(3, ">i4")], 2)
