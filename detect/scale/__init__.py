"""Beyond one machine: streaming digit tests and aggregates, and a Dask engine (docs/scaling.md).

* :mod:`detect.scale.streaming` — chunked reading with bounded memory; summaries (digit counts,
  per-group counts and exact sums, value counts) that add exactly; ``reduce_counts``.
* :mod:`detect.scale.dask_engine` — the same summaries computed per partition on Dask workers,
  reduced, statistics once; ``load`` for ``detect run --engine dask``. Dask is optional
  (``pip install 'detect[dask]'``) and imported only when used.
"""

import sys

from detect.scale.streaming import (GroupAggregates, ValueCounts, aggregate_file, aggregate_frame, iter_frames,
                                    reduce_counts, stream_counts, value_counts_file)

ENGINES: tuple[str, ...] = ("memory", "stream", "dask")


def engine_counts(args, min_sig: int):
    """Digit counts for ``detect benford --engine stream|dask`` (the ``memory`` engine is
    :func:`detect.digits.io.count_file`, called by the command itself).

    Raises
    ------
    UsageError
        ``--scheduler`` without ``--engine dask``, a chunk size below 1, or Dask not installed.
    """
    from detect.exceptions import UsageError

    if args.engine != "dask" and args.scheduler:
        raise UsageError("--scheduler is for --engine dask")
    kw = dict(min_value=args.min_value, sign=args.sign, group_by=args.group_by, extraction=args.extraction,
              min_sig=min_sig)
    if args.engine == "stream":
        if args.chunk_rows < 1:
            raise UsageError(f"--chunk-rows must be at least 1; got {args.chunk_rows}")
        notes: list[str] = []
        counts = stream_counts(args.path, args.column, args.test, chunk_rows=args.chunk_rows, notes=notes, **kw)
        for line in notes:       # which Excel sheets were read or skipped, as with --engine memory
            print(f"note: {line}", file=sys.stderr)
        return counts
    if args.engine == "dask":
        from detect.scale.dask_engine import dask_counts

        return dask_counts(args.path, args.column, args.test, scheduler=args.scheduler, **kw)
    raise UsageError(f"--engine must be one of {', '.join(ENGINES)}; got {args.engine!r}")

__all__ = ["ENGINES", "engine_counts", "GroupAggregates", "ValueCounts", "aggregate_file", "aggregate_frame", "iter_frames",
           "reduce_counts", "stream_counts", "value_counts_file"]
