#!/usr/bin/env bash
# Builds a local Node.js base image without any registry: debootstrap a minimal
# bookworm root filesystem, copy in this machine's Node.js binary (and npm, which
# the Dockerfile uses to drop dev dependencies), check that node runs in it, then
# `docker import` it. A stand-in for node:20-bookworm-slim where no registry is
# reachable:
#
#   scripts/build-node-image.sh            -> badgateway/node:bookworm
#   scripts/build-node-image.sh --force    rebuild even when the image exists
#   docker compose build --build-arg BASE=badgateway/node:bookworm   (or BADGATEWAY_NODE_IMAGE=...)
#
# Idempotent: does nothing when the image exists. Needs root, debootstrap, a
# Docker engine, and Node.js >= 20.19 with npm on PATH as one self-contained
# binary (the nodejs.org Linux builds and NodeSource packages are; Debian's own
# nodejs package links libnode and is rejected by the check below).
set -euo pipefail

tag="badgateway/node:bookworm"
force=
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-node-image: unknown argument '$arg' (known: --force)" >&2; exit 2 ;;
  esac
done

die() { echo "build-node-image: $*" >&2; exit 2; }

command -v docker >/dev/null || die "docker is missing: apt-get install -y docker.io"
docker info >/dev/null 2>&1 || die "the Docker engine does not answer (is dockerd running? try: dockerd >/tmp/dockerd.log 2>&1 &)"
if [ -z "$force" ] && docker image inspect "$tag" >/dev/null 2>&1; then
  echo "build-node-image: $tag already present ($(docker run --rm --network none "$tag" node --version 2>/dev/null || echo 'node does not run in it: rebuild with --force'))"
  exit 0
fi
[ "$(id -u)" = 0 ] || die "debootstrap needs root"
command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install -y debootstrap"

node_bin=$(command -v node) || die "node is missing from PATH: the image gets this machine's Node.js binary"
node_bin=$(readlink -f "$node_bin")
node_version=$("$node_bin" --version)
"$node_bin" -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' ||
  die "$node_bin is $node_version; badgateway needs Node.js 20.19 or later"
# npm's own folder (…/node_modules/npm), wherever this machine installed it.
npm_dir=
if command -v npm >/dev/null; then
  npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
  [ -f "$npm_dir/package.json" ] || npm_dir=
fi
[ -n "$npm_dir" ] || die "npm is missing from PATH: the Dockerfile needs it in the image to drop dev dependencies"

work=$(mktemp -d /tmp/badgateway-node-image-XXXXXX)
probe_tag="badgateway/node:probe-$$"
cleanup() {
  rm -rf "$work"
  docker image rm "$probe_tag" >/dev/null 2>&1 || true
}
trap cleanup EXIT

echo "build-node-image: debootstrap bookworm (minbase) into $work (a few minutes)"
debootstrap --variant=minbase bookworm "$work/root" >"$work/debootstrap.log" 2>&1 || {
  tail -n 30 "$work/debootstrap.log" >&2
  exit 1
}
# Keep the image small: package caches and docs are not needed to run Node.
rm -rf "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"* "$work/root/usr/share/doc" "$work/root/usr/share/man"

# Same layout as the official image: /usr/local/bin/node, npm under /usr/local/lib/node_modules.
echo "build-node-image: adding $node_bin ($node_version) and npm from $npm_dir"
install -D -m 0755 "$node_bin" "$work/root/usr/local/bin/node"
mkdir -p "$work/root/usr/local/lib/node_modules"
cp -a "$npm_dir" "$work/root/usr/local/lib/node_modules/npm"
# A distribution's npm may carry its own global npmrc (paths of the host's layout,
# such as nodedir=/usr); the image's npm uses npm's defaults, like the official image.
rm -f "$work/root/usr/local/lib/node_modules/npm/npmrc"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/root/usr/local/bin/npx"

tar -C "$work/root" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=${node_version#v}" \
  --change "LABEL org.badgateway.node=$node_version" \
  --change 'CMD ["node"]' \
  - "$probe_tag" >/dev/null

# The binary came from this machine: make sure it finds every library it links in the image.
got=$(docker run --rm --network none "$probe_tag" node -e 'process.stdout.write(process.version)' 2>&1) || {
  echo "$got" >&2
  die "node does not run in the image (it needs libraries a bookworm minbase root filesystem lacks?): $node_bin"
}
[ "$got" = "$node_version" ] || die "node in the image printed '$got', expected $node_version"
docker run --rm --network none "$probe_tag" npm --version >/dev/null 2>&1 || die "npm does not run in the image"
docker tag "$probe_tag" "$tag"
echo "build-node-image: built $tag (node $node_version)"
