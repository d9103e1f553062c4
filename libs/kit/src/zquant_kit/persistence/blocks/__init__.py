"""Keyed daily columns stored as rows and as per-(code, year) packed blocks, on PostgreSQL.

A dataset is one table of rows keyed by (`ts_code`, `trade_date`) with float64 value columns,
range-partitioned by year. Next to it, a block table holds one row per (code, year): that
year's trade dates packed as big-endian `date`s and each value column packed as big-endian
float8 (NaN for NULL), in the dates' order. Writes go through binary COPY and mark the years
they touch stale in the writer's transaction; readers take stale years from the rows and
current years from the blocks; a refresh rebuilds the stale years. SQLite (all-in-one mode)
keeps the rows only. Which tables and columns: a `BlockLayout`.
"""
