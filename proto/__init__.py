"""The gRPC schema shipped with the package: ``catalog_er/v1/catalog_er.proto`` (package ``catalog_er.v1``).

Read it from an installed package with ``importlib.resources.files("catalog_er.proto") / PROTO_PATH``, for
example to generate stubs in another language or to point ``grpcurl -proto`` at it.
"""

PROTO_PATH = "catalog_er/v1/catalog_er.proto"
"""Where the schema lies inside this package."""
