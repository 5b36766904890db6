# catalog-er image: the gRPC service by default (`docker run -p 50051:50051 -v catalog-data:/data IMAGE`),
# the batch CLI on request (`docker run -v $PWD:/data IMAGE resolve --tracks /data/tracks.parquet --out /data/out`).
# Settings come from the environment, read alike by `catalog-er serve` and the health check:
#   CATALOG_ER_PORT (set below), CATALOG_ER_TOKEN or CATALOG_ER_TOKEN_FILE (bearer token for mutating calls; a
#   file, e.g. a mounted secret, must not be readable by other users),
#   CATALOG_ER_TLS_CERT and CATALOG_ER_TLS_KEY (serve TLS, e.g. from a read-only volume; the health check then
#   trusts that certificate), CATALOG_ER_TLS_SERVER_NAME (the name the health check verifies, default the
#   certificate's first name).
# It serves on every interface, so it starts only with a token or TLS (or with --insecure added to the command).
# Metrics stay off: add `--metrics-port 9100 --metrics-host 0.0.0.0 --insecure` to publish them (plain HTTP, no
# authentication).
# Never built on the project's machines (they have no Docker engine): tests/service/test_container.py checks the
# layer order and .dockerignore, and runs the health check against real servers.
FROM python:3.11-slim

RUN useradd --create-home --uid 10001 catalog && mkdir -p /data && chown 10001 /data
WORKDIR /app

# Dependencies first, in a layer of their own read from pyproject.toml alone: a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb')); \
print('\n'.join(p['build-system']['requires'] + p['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt && rm /tmp/requirements.txt

# Then the package alone: catalog_er.{resolver,fingerprint,service,proto} from the four source folders.
COPY README.md ./
COPY resolver resolver
COPY fingerprint fingerprint
COPY service service
COPY proto proto
RUN pip install --no-cache-dir --no-deps --no-build-isolation . && rm -rf build ./*.egg-info

USER 10001
VOLUME /data
WORKDIR /data
ENV CATALOG_ER_PORT=50051
EXPOSE 50051
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-m", "catalog_er.service.healthcheck"]
ENTRYPOINT ["catalog-er"]
CMD ["serve", "--db", "/data/catalog.sqlite", "--host", "0.0.0.0"]
