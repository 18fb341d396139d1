# GraphiQL's assets, from the npm registry at the versions graphiql/package-lock.json
# pins, so the GraphiQL page needs no CDN (ESS_GRAPHIQL_ASSETS below).
FROM node:20-slim AS graphiql
WORKDIR /graphiql
COPY graphiql/package.json graphiql/package-lock.json graphiql/.npmrc ./
RUN npm ci --ignore-scripts --no-audit --no-fund

FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ESS_DATA_DIR=/data \
    ESS_GRAPHIQL_ASSETS=/opt/graphiql

WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY kube_sandbox ./kube_sandbox
COPY migrations ./migrations
# Only the packages whose files the page loads (app/api/graphiql/assets.py).
COPY --from=graphiql /graphiql/node_modules/react /opt/graphiql/node_modules/react
COPY --from=graphiql /graphiql/node_modules/react-dom /opt/graphiql/node_modules/react-dom
COPY --from=graphiql /graphiql/node_modules/graphiql /opt/graphiql/node_modules/graphiql
COPY --from=graphiql /graphiql/node_modules/@graphiql/plugin-explorer \
     /opt/graphiql/node_modules/@graphiql/plugin-explorer
RUN pip install --no-cache-dir . \
    && useradd --system --uid 10001 --home-dir /data --create-home ess

USER ess
VOLUME ["/data"]
EXPOSE 8080
CMD ["es-serverless", "serve", "--host", "0.0.0.0", "--port", "8080"]
