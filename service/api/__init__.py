"""Generated gRPC code for ``proto/catalog_er/v1/catalog_er.proto`` (``make proto``; never edit by hand)."""
