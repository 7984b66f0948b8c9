# The image the Helm chart runs: the operator and the sidecar (and the kubectl plugin) from one build of dist/.
# Built outside this repository's CI (no container engine there); `make build` produces the same dist/.
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npx tsc -p tsconfig.build.json && cp -r crds dist/crds && npm prune --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
WORKDIR /app
COPY --from=build /src/dist ./dist
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/package.json ./
# The sidecar's fixed non-root UID (the injector checks agents never run as it); read-only root filesystem in pods.
USER 65532:65532
ENV NODE_ENV=production
# Default: the sidecar. The operator Deployment overrides the command with dist/operator/main.js.
ENTRYPOINT ["node", "--max-semi-space-size=32", "dist/sidecar/main.js"]
