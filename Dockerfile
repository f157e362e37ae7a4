# syntax=docker/dockerfile:1
#
# The Parley server (packages/server), as run by compose.yaml; docs/deploy.md has the rest.
#
#   docker build -t parley-server .
#   docker run --init -p 127.0.0.1:4000:4000 -v parley-data:/data parley-server
#
# Which Node, and why `npm ci --omit=dev`: Parley runs its TypeScript directly on Node 24
# (type stripping, no build step). On a developer's machine Node 24 comes from the root
# devDependency `node` (node_modules/.bin/node, which `npm start` puts first on PATH). In this
# image the base image *is* Node 24, so the runtime installs production dependencies only:
# that drops the `node` devDependency on purpose (a second, ~190 MB Node binary) together
# with the test, lint and type-check tools. The CMD runs the base image's `node` directly, and
# the build stops if that Node is older than package.json's "engines" (Node 24.11: type
# stripping without flags, crypto.argon2 for passwords). Pin NODE_IMAGE to a digest for
# reproducible builds.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS base
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false

# The sources (what .dockerignore lets through), readable by the runtime user whatever the
# umask of the checkout was, and apart from them the manifests: the root package.json, the
# lockfile and one package.json per workspace (packages/*, plugins/*). The dependency stages
# copy only the manifests, so a source edit does not reinstall dependencies.
FROM base AS source
COPY . /src
RUN chmod -R a+rX,go-w /src \
 && mkdir /manifests \
 && cd /src \
 && cp package.json package-lock.json /manifests/ \
 && find packages plugins -mindepth 2 -maxdepth 2 -name package.json \
      -exec cp --parents '{}' /manifests/ ';'

# Production dependencies and the workspace links (node_modules/@parley/* -> packages/*;
# Node follows them to their real path, outside node_modules, where type stripping applies).
FROM base AS deps
COPY --from=source /manifests/ ./
RUN node -e "const m = /(\d+)\.(\d+)/.exec(require('./package.json').engines.node); const [major, minor] = process.versions.node.split('.').map(Number); if (major < +m[1] || (major === +m[1] && minor < +m[2])) { console.error('Node ' + process.versions.node + ' is older than package.json engines.node (' + m[0] + '): use a newer NODE_IMAGE.'); process.exit(1); }" \
 && npm ci --omit=dev \
 && npm cache clean --force

# Built assets: every workspace with a "build" script (the dashboard's Vite build, once that
# package exists; none today, so this stage only installs) builds here with all dependencies.
# --ignore-scripts skips the `node` devDependency's download: the base image's Node 24 runs
# the build. Only the dist/ directories reach the image.
FROM base AS build
COPY --from=source /manifests/ ./
RUN npm ci --ignore-scripts
COPY --from=source /src/ ./
RUN npm run build --workspaces --if-present \
 && mkdir /dist \
 && find packages plugins -mindepth 2 -maxdepth 2 -type d -name dist \
      -exec cp -r --parents '{}' /dist/ ';'

FROM base AS runtime
LABEL org.opencontainers.image.title="Parley server" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=deps /app/ ./
COPY --from=source /src/ ./
COPY --from=build /dist/ ./
# The data directory (PGlite database, generated master key, single-user credentials) belongs
# to the runtime user and is private (0700, as the server itself would create it). A new named
# volume mounted at /data starts as a copy of this directory, owner and mode included, so the
# server can write to it without any chown. (A bind mount keeps the host directory's owner:
# it must belong to uid 1000, the `node` user; see docs/deploy.md.)
RUN mkdir -p /data && chown node:node /data && chmod 0700 /data
# Inside a container 127.0.0.1 is reachable from nowhere else, so the server listens on all
# interfaces. The server refuses that in single-user mode unless every caller must bring the
# API token: PARLEY_REQUIRE_TOKEN=1 makes the image safe on its own (single-user, PGlite in
# /data, token printed at first start and saved in /data/credentials). compose.yaml runs it
# multi-user on PostgreSQL (PARLEY_MULTI_USER=1: sign-in required; the token setting then
# changes nothing). NODE_OPTIONS: V8 would size the young generation for the host's memory
# (up to 128 MB of mostly idle garbage); 4 MB semi-spaces cost no measurable throughput
# (docs/performance.md). --disable-sigusr1: no signal opens the V8 inspector (code execution
# in the server; docs/plugins/isolation.md). MALLOC_TRIM_THRESHOLD_: glibc gives freed memory
# back to the system above 128 KB (by default it raises that threshold to tens of MB after
# the first large free, and keeps what falls below it); the embedded database's start-up
# frees hundreds of MB (V8 optimizing its WebAssembly), and a PGlite server then idles at
# ~250 MB instead of ~380 (docs/performance.md; no throughput cost seen).
ENV PARLEY_HOST=0.0.0.0 \
    PARLEY_PORT=4000 \
    PARLEY_DATA_DIR=/data \
    PARLEY_REQUIRE_TOKEN=1 \
    NODE_OPTIONS="--max-semi-space-size=4 --disable-sigusr1" \
    MALLOC_TRIM_THRESHOLD_=131072
USER node
VOLUME ["/data"]
EXPOSE 4000
# Liveness with the image's own Node (slim images have no curl or wget).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PARLEY_PORT || 4000) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM: the server lets runs finish for PARLEY_SHUTDOWN_GRACE_SECONDS (10 s), then stops;
# give the container longer than that (compose.yaml: stop_grace_period). Run it with an init
# process (`docker run --init`, `init: true` in compose) so that plugin subprocesses are reaped.
STOPSIGNAL SIGTERM
CMD ["node", "packages/server/src/main.js"]
