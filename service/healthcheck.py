"""``python -m catalog_er.service.healthcheck [--port N] [--host H]``: exit 0 when the service answers SERVING.

The container's HEALTHCHECK runs it (standard ``grpc.health.v1`` check; no extra binary in the image).
"""

from __future__ import annotations

import argparse
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=50051)
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds")
    args = parser.parse_args(argv)
    try:
        with grpc.insecure_channel(f"{args.host}:{args.port}") as channel:
            answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=args.timeout)
    except grpc.RpcError as error:
        print(f"unhealthy: {error.code().name}", file=sys.stderr)
        return 1
    serving = answer.status == health_pb2.HealthCheckResponse.SERVING
    print("serving" if serving else health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status))
    return 0 if serving else 1


if __name__ == "__main__":
    sys.exit(main())
