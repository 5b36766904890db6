"""Catalog tables in and out: dumps read from files (``files``: one file, a folder or a glob of part files, read by
``parquet``, ``delimited`` (CSV, TSV) and ``json_lines``, joined by ``parts``), validation of tables in memory
(``validation``, with the column conversions of ``column_types``) and Parquet outputs (``parquet``)."""
