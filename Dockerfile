FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ESS_DATA_DIR=/data

WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY kube_sandbox ./kube_sandbox
COPY migrations ./migrations
RUN pip install --no-cache-dir . \
    && useradd --system --uid 10001 --home-dir /data --create-home ess

USER ess
VOLUME ["/data"]
EXPOSE 8080
CMD ["es-serverless", "serve", "--host", "0.0.0.0", "--port", "8080"]
