#!/usr/bin/env bash
# Builds a local gateway image from Debian packages, without any registry:
# debootstrap a minimal bookworm root filesystem with the gateway's package,
# then `docker import` it. Idempotent: does nothing when the image exists
# (pass --force to rebuild). Needs root, debootstrap and a Docker engine.
#
#   scripts/build-gateway-image.sh nginx      -> badgateway/nginx:bookworm
#   scripts/build-gateway-image.sh haproxy    -> badgateway/haproxy:bookworm
#   scripts/build-gateway-image.sh apache     -> badgateway/apache:bookworm (Debian's apache2)
#   scripts/build-gateway-image.sh caddy      -> badgateway/caddy:bookworm
set -euo pipefail

gateway=${1:-nginx}
force=${2:-}
case "$gateway" in
  nginx) package=nginx-light ;;
  haproxy) package=haproxy ;;
  apache) package=apache2 ;;
  caddy) package=caddy ;;
  *) echo "build-gateway-image: unknown gateway '$gateway' (known: nginx, haproxy, apache, caddy)" >&2; exit 2 ;;
esac
tag="badgateway/${gateway}:bookworm"

if [ "$force" != "--force" ] && docker image inspect "$tag" >/dev/null 2>&1; then
  echo "build-gateway-image: $tag already present"
  exit 0
fi
command -v debootstrap >/dev/null || { echo "build-gateway-image: debootstrap is missing: apt-get install -y debootstrap" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "build-gateway-image: debootstrap needs root" >&2; exit 2; }

work=$(mktemp -d /tmp/badgateway-image-XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "build-gateway-image: debootstrap bookworm with $package into $work (a few minutes)"
debootstrap --variant=minbase --include="$package" bookworm "$work/root" >"$work/debootstrap.log" 2>&1 || {
  tail -n 30 "$work/debootstrap.log" >&2
  exit 1
}
# Keep the image small: package caches and docs are not needed to run a gateway.
rm -rf "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"* "$work/root/usr/share/doc" "$work/root/usr/share/man"
tar -C "$work/root" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "LABEL org.badgateway.gateway=$gateway" \
  - "$tag" >/dev/null
echo "build-gateway-image: built $tag"
