# syntax=docker/dockerfile:1
#
# The gateway in a container: compiled with the dev dependencies, run with the production
# ones only, as the unprivileged user "node", its data (the SQLite store, or development
# mode's secret) in the volume /data. Settings are environment variables (see README,
# Configuration); set JWT_SECRET, and MONGODB_URI to run on MongoDB (compose.yaml).
#
#   docker build -t sync-gateway .
#   docker run -p 4000:4000 -e JWT_SECRET=... -v gateway-data:/data sync-gateway
#
# test/container.test.ts keeps this file honest: its start command, port, health check,
# user, volume and the compose file's settings are checked against the code.

ARG NODE_VERSION=20

# ---- build: dist/ from src/, with the dev dependencies (TypeScript)
FROM node:${NODE_VERSION}-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY client/package.json client/
# No install scripts: `prepare` would build before src/ is here, and tsc needs no native code.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src src
RUN npm run build

# ---- deps: the production dependencies, better-sqlite3 built for this image
FROM node:${NODE_VERSION}-slim AS deps
WORKDIR /app
# better-sqlite3 fetches a prebuilt binary; where there is none it compiles with these.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
COPY client/package.json client/
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && npm rebuild better-sqlite3 \
  && npm cache clean --force

# ---- runtime
FROM node:${NODE_VERSION}-slim
ENV NODE_ENV=production \
    PORT=4000 \
    DATA_DIR=/data
WORKDIR /app
COPY --from=deps /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json schema.graphql rules.example.json ./
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The package's bin, as `npm start` runs it once dist/ is built (with its node flags: a young
# generation large enough for a delivery to every session, README "Deployment"); node itself
# is PID 1 and gets SIGTERM: in-flight uploads commit, sockets close, the store closes (up to
# SHUTDOWN_TIMEOUT_MS, 10 s; give `docker stop` 20 s: --time 20, or stop_grace_period).
CMD ["node", "--max-semi-space-size=64", "dist/cli.js"]
