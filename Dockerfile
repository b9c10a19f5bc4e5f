# One image, both roles: `operator`, `sidecar`, `inject`, `crd` are subcommands.
# syntax=docker/dockerfile:1

FROM node:24-bookworm-slim AS build
WORKDIR /src
# Dependencies first, so source changes do not invalidate this layer.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts=false
COPY tsconfig.json ./
COPY api ./api
COPY sidecar ./sidecar
COPY operator ./operator
COPY cli ./cli
COPY tools ./tools
# tsc, then the esbuild bundle of the CLI (start-up time: docs/performance.md).
RUN npm run build

FROM node:24-bookworm-slim AS production-dependencies
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only: the `node` devDependency and the toolchain stay behind.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=production-dependencies /app/node_modules ./node_modules
COPY package.json ./
COPY --from=build /src/dist ./dist
COPY tools/warm-compile-cache.ts tools/wait-for-ready.ts ./tools/
RUN install -d -o 65532 -g 65532 /app/compile-cache
# Numeric non-root user, so runAsNonRoot can verify it without resolving names.
USER 65532:65532
# V8 code cache for the sidecar's modules, written once here as the runtime user (Node keys its
# entries by user id); at run time Node only reads it from the read-only root filesystem.
ENV NODE_COMPILE_CACHE=/app/compile-cache
RUN node tools/warm-compile-cache.ts /app/compile-cache
EXPOSE 8502 8503 9443 8080
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["--help"]
