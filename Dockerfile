# catalog-er image: the batch CLI today (`docker run ... resolve --tracks /data/tracks.parquet --out /data/out`);
# the gRPC service (`catalog-er serve`) joins it with the service issue.
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
ENTRYPOINT ["catalog-er"]
CMD ["--help"]
