# Silta service image. `silta serve` applies the Alembic migrations, then serves the API.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
RUN pip install --no-cache-dir uv==0.13.9 && useradd --system --uid 10001 silta
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
COPY broker ./broker
COPY adapters ./adapters
COPY entrypoints ./entrypoints
COPY schemas ./schemas
COPY policies ./policies
COPY migrations ./migrations
RUN uv sync --frozen --no-dev && chown -R silta /app
USER silta
ENV PATH="/app/.venv/bin:$PATH" SILTA_API_HOST=0.0.0.0
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/health/live').status != 200)"
CMD ["silta", "serve"]
