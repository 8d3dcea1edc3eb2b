# Multi-stage: build a wheel-installed virtualenv, then copy it into a slim runtime as a non-root user.
# Only the service packages are copied: bench/, demo/ and tests/ run from a checkout, never in the image.
FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY pyproject.toml README.md ./
COPY travel ./travel
COPY feeds ./feeds
COPY api ./api
COPY geodata ./geodata
RUN pip install --no-cache-dir --upgrade pip && pip install --no-cache-dir .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 travel && mkdir -p /data && chown travel /data
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    TRAVEL_HOST=0.0.0.0 \
    TRAVEL_PORT=8080 \
    TRAVEL_DATA_DIR=/data \
    NUMBA_CACHE_DIR=/home/travel/.cache/numba \
    PYTHONUNBUFFERED=1
USER travel
WORKDIR /home/travel
EXPOSE 8080
VOLUME ["/data"]
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2).status == 200 else 1)"
CMD ["travel", "serve"]
