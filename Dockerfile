# catalog-er image: the gRPC service by default (`docker run -p 50051:50051 -v catalog-data:/data IMAGE`),
# the batch CLI on request (`docker run -v $PWD:/data IMAGE resolve --tracks /data/tracks.parquet --out /data/out`).
FROM python:3.11-slim

RUN useradd --create-home --uid 10001 catalog
WORKDIR /app
COPY pyproject.toml README.md ./
COPY resolver resolver
COPY fingerprint fingerprint
COPY service service
RUN pip install --no-cache-dir . && mkdir -p /data && chown catalog /data

USER catalog
VOLUME /data
WORKDIR /data
EXPOSE 50051 9100
# CATALOG_ER_TOKEN, when set, is the bearer token mutating calls must send.
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-m", "catalog_er.service.healthcheck", "--port", "50051"]
ENTRYPOINT ["catalog-er"]
CMD ["serve", "--db", "/data/catalog.sqlite", "--host", "0.0.0.0", "--port", "50051", "--metrics-port", "9100"]
