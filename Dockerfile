# syntax=docker/dockerfile:1
# One image for every process (API, worker, migration, consumer); the command picks it.
# Build: compile TypeScript with the dev toolchain, then ship only production dependencies.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Fixes to dependencies (patch-package, run by npm ci's postinstall): see patches/README.md.
COPY patches ./patches
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.sh ./scripts/build.sh
COPY src ./src
RUN bash scripts/build.sh

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000
WORKDIR /app
# Code and dependencies stay owned by root: the process (user node) can read but not change them.
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY lua ./lua
COPY migrations ./migrations
USER node
EXPOSE 3000 9464
# The API's liveness; the worker's compose service points it at WORKER_METRICS_PORT instead.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT||3000}/healthz`).then((r)=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Tracing must be registered before any application module loads (see src/telemetry/register.ts).
CMD ["node", "--import", "./dist/telemetry/register.js", "dist/api.js"]
