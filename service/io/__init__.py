"""Catalog tables in and out: validation of tables in memory (``validation``, with the column conversions of
``column_types``) and Parquet files (``parquet``)."""
