"""Parquet files (predictions, `data.path`), read with pyarrow: the optional extra `mlgate[parquet]`.

pyarrow is imported here only, inside the functions, so that `mlgate --help` and `mlgate diff` never load
it; without it a `.parquet` file is a MissingPyarrowError (a MetricsError, exit 2) naming the file and the
extra to install, which the noise model and the data checks pass on instead of skipping.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from mlgate.errors import MetricsError

if TYPE_CHECKING:
    import numpy as np

INSTALL = "pip install 'mlgate[parquet]'"


class MissingPyarrowError(MetricsError):
    """A `.parquet` file with no pyarrow installed: a setup problem, never downgraded to a warning."""


def is_parquet(path: str) -> bool:
    return path.lower().endswith((".parquet", ".pq"))


def read_parquet(
    data: bytes, path: str, pick: Callable[[Sequence[str]], Sequence[str]] | None = None
) -> dict[str, np.ndarray]:
    """The columns of a Parquet file as 1-D numpy arrays (nulls: NaN in numbers, None otherwise).

    `pick` gets the file's column names and returns the ones to read (it may raise for a missing one).
    """
    pa, pq = _pyarrow(path)
    try:
        handle = pq.ParquetFile(io.BytesIO(data))
        names = list(handle.schema_arrow.names)
        wanted = list(pick(names)) if pick is not None else names
        table = handle.read(columns=wanted)
    except MetricsError:
        raise
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise MetricsError(path, f"not a readable Parquet file: {_first_line(exc)}") from None
    return {name: _numpy(table.column(name)) for name in wanted}


def _pyarrow(path: str) -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise MissingPyarrowError(
            path, f"reading Parquet needs pyarrow, which is not installed: {INSTALL}"
        ) from None
    return pa, pq


def _numpy(column: Any) -> np.ndarray:
    import numpy as np

    array = column.to_numpy(zero_copy_only=False)
    return np.asarray(array)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
