# syntax=docker/dockerfile:1
# pqseal: build with the dev dependencies, run with the production ones only, as a non-root user.
#   docker build -t pqseal .
#   docker run -p 8080:8080 -v pqseal-data:/data -e PQSEAL_MASTER_KEY=$(openssl rand -hex 32) pqseal
# What was and was not run of this file: docs/deployment.md ("What was tested here").

ARG NODE_IMAGE=node:20-bookworm-slim

# better-sqlite3 12 (Node 20) compiles from source when no prebuilt binary can be downloaded.
FROM ${NODE_IMAGE} AS toolchain
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app

# All dependencies, then tsc: dist/ and packages/sdk/dist/.
FROM toolchain AS build
COPY package.json package-lock.json ./
COPY bin bin
COPY packages/sdk packages/sdk
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# Production dependencies only. `prepare` finds no TypeScript and checks that the SDK is built.
FROM toolchain AS production-dependencies
COPY package.json package-lock.json ./
COPY bin bin
COPY --from=build /app/packages/sdk/package.json packages/sdk/package.json
COPY --from=build /app/packages/sdk/dist packages/sdk/dist
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    DATA_DIR=/data
WORKDIR /app
# The code belongs to root and is read-only for the service user; only /data is writable.
COPY --from=production-dependencies /app/node_modules node_modules
COPY --from=build /app/package.json package.json
COPY --from=build /app/bin bin
COPY --from=build /app/dist/src dist/src
COPY --from=build /app/packages/sdk/package.json packages/sdk/package.json
COPY --from=build /app/packages/sdk/dist packages/sdk/dist
COPY --from=build /app/src/web/public src/web/public
RUN mkdir -p /data && chown node:node /data && chmod 700 /data
USER node
VOLUME ["/data"]
EXPOSE 8080
# /readyz: the process is up and its store (and Redis, when configured) answer.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node itself is PID 1's child under `init: true` (compose) or `docker run --init`; it drains on SIGTERM.
# Not `npm start`: npm runs the server under `sh -c`, which does not pass SIGTERM on.
ENTRYPOINT ["node", "bin/pqseal.js"]
CMD ["serve"]
