# The chaos upstream (`badgateway serve`) as an image. Build on the host first:
#
#   npm ci && npm run build        # dist/ and node_modules/ are copied in as they are
#   docker build -t badgateway/upstream .
#   docker run --rm -p 127.0.0.1:9000:9000 badgateway/upstream
#   curl -v http://127.0.0.1:9000/empty-reply
#
# No registry is needed when BASE is a local image: scripts/build-node-image.sh
# builds badgateway/node:bookworm (docker build --build-arg BASE=badgateway/node:bookworm .).
# BASE must provide node (>= 20.19) and npm on PATH.
ARG BASE=node:20-bookworm-slim

# Stage 1: the host's node_modules minus dev dependencies (typescript, vitest, types).
# npm prune only deletes, following package-lock.json: no network.
FROM ${BASE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY node_modules ./node_modules
RUN npm prune --omit=dev --offline --no-audit --no-fund --loglevel=error

FROM ${BASE}
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY scenarios ./scenarios
COPY dist ./dist
# nobody: the upstream only listens on unprivileged ports and writes nothing.
USER 65534:65534
# 9000 every exchange fault at /<fault-id>; 9001-9004 listener faults (see
# playground/README.md); 5353 udp+tcp the DNS responder, zone badgateway.test.
EXPOSE 9000 9001 9002 9003 9004 5353/tcp 5353/udp
ENTRYPOINT ["node", "dist/cli/bin.js"]
# The control API stays on the container's loopback: it has no token here, and
# PUT /api/routing changes what every client gets. To reach it from outside, bind
# it elsewhere with --control-token (or BADGATEWAY_CONTROL_TOKEN).
CMD ["serve", "--host", "0.0.0.0", "--port", "9000", \
     "--listener-fault-port", "connect-refused=9001", "--listener-fault-port", "accept-queue-full=9002", \
     "--listener-fault-port", "reset-on-accept=9003", "--listener-fault-port", "close-on-accept=9004", \
     "--dns-port", "5353", "--control-host", "127.0.0.1", "--control-port", "9090"]
