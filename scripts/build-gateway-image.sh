#!/usr/bin/env bash
# Builds local gateway images from Debian packages, without any registry: one
# debootstrap of a minimal root filesystem per Debian release holding every
# gateway's package, `docker import`ed as badgateway/gateways:<release> and
# tagged badgateway/<gateway>:<release> for each gateway. One image per release
# rather than one per gateway because the base system is most of the work: on
# this project's 2-core machine a trixie debootstrap with nginx alone took 235 s
# and one with all four gateways 315 s (README, "Images and versions").
#
# Idempotent: does nothing when the requested tag exists, only tags when the
# release's image exists (pass --force to rebuild). Needs root, debootstrap and
# a Docker engine.
#
#   scripts/build-gateway-image.sh nginx                    -> badgateway/nginx:bookworm (nginx 1.22)
#   scripts/build-gateway-image.sh haproxy --release trixie -> badgateway/haproxy:trixie (HAProxy 3.0)
#   scripts/build-gateway-image.sh all --release sid        -> every gateway's tag for sid
#   scripts/build-gateway-image.sh varnish --release trixie -> badgateway/varnish:trixie (Varnish 7.7)
#   gateways: nginx, haproxy, apache (Debian's apache2), caddy, varnish (trixie only: bookworm's
#   Varnish 7.1 is measured as a process on the host); releases: bookworm, trixie, sid
set -euo pipefail

usage() {
  echo "usage: build-gateway-image.sh GATEWAY|all [--release bookworm|trixie|sid] [--force]" >&2
  echo "  GATEWAY is one of: nginx, haproxy, apache, caddy, varnish (all: every one the release's image holds; they share one image per release)" >&2
  exit 2
}

gateway=
release=bookworm
force=
while [ $# -gt 0 ]; do
  case "$1" in
    --force) force=1 ;;
    --release) [ $# -ge 2 ] || usage; release=$2; shift ;;
    --release=*) release=${1#--release=} ;;
    -h|--help) usage ;;
    -*) echo "build-gateway-image: unknown option '$1'" >&2; usage ;;
    *) [ -z "$gateway" ] || usage; gateway=$1 ;;
  esac
  shift
done
gateway=${gateway:-nginx}
case "$gateway" in
  nginx|haproxy|apache|caddy|varnish|all) ;;
  *) echo "build-gateway-image: unknown gateway '$gateway' (known: nginx, haproxy, apache, caddy, varnish, or all)" >&2; exit 2 ;;
esac
case "$release" in
  bookworm|trixie|sid) ;;
  *) echo "build-gateway-image: unknown release '$release' (known: bookworm, trixie, sid: the Debian releases whose gateways the expectations were measured on)" >&2; exit 2 ;;
esac

# bookworm keeps nginx-light, the package its expectations were first measured with;
# later releases ship the same nginx binary in the plain nginx package.
nginx_package=nginx
[ "$release" = bookworm ] && nginx_package=nginx-light
packages="$nginx_package,haproxy,apache2,caddy"
gateways=(nginx haproxy apache caddy)
# Varnish's expectations are measured on 7.1 (bookworm, a process on the host) and 7.7 (trixie,
# this image); only trixie's image holds it, so bookworm's and sid's images are not rebuilt for it.
if [ "$release" = trixie ]; then
  packages="$packages,varnish"
  gateways+=(varnish)
fi
if [ "$gateway" != all ]; then
  case " ${gateways[*]} " in
    *" $gateway "*) ;;
    *) echo "build-gateway-image: $release's image does not hold $gateway (it holds: ${gateways[*]})" >&2; exit 2 ;;
  esac
fi
image="badgateway/gateways:${release}"
wanted=("${gateways[@]}")
[ "$gateway" = all ] || wanted=("$gateway")

present() { docker image inspect "$1" >/dev/null 2>&1; }
# The gateways a built release image holds (its label): an image built before a gateway was added
# to its release lacks that one, and is rebuilt rather than tagged with a name it cannot run.
holds() { docker image inspect -f '{{index .Config.Labels "org.badgateway.gateways"}}' "$image" 2>/dev/null; }
holds_all() { local have g; have=" $(holds) "; for g in "$@"; do case "$have" in *" $g "*) ;; *) return 1 ;; esac; done; }
tags() { local out=() g; for g in "$@"; do out+=("badgateway/$g:$release"); done; echo "${out[*]}"; }

if [ -z "$force" ]; then
  missing=0
  for g in "${wanted[@]}"; do present "badgateway/$g:$release" || missing=1; done
  if [ "$missing" = 0 ]; then
    echo "build-gateway-image: $(tags "${wanted[@]}") already present"
    exit 0
  fi
  if present "$image" && holds_all "${wanted[@]}"; then
    for g in "${wanted[@]}"; do docker tag "$image" "badgateway/$g:$release"; done
    echo "build-gateway-image: tagged $image as $(tags "${wanted[@]}")"
    exit 0
  fi
fi
command -v debootstrap >/dev/null || { echo "build-gateway-image: debootstrap is missing: apt-get install -y debootstrap" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "build-gateway-image: debootstrap needs root" >&2; exit 2; }
[ -e "/usr/share/debootstrap/scripts/$release" ] || { echo "build-gateway-image: this debootstrap does not know '$release': apt-get install -y debootstrap (a newer one)" >&2; exit 2; }

started=$(date +%s)
work=$(mktemp -d /tmp/badgateway-image-XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "build-gateway-image: debootstrap $release with $packages into $work (a few minutes)"
debootstrap --variant=minbase --include="$packages" "$release" "$work/root" >"$work/debootstrap.log" 2>&1 || {
  tail -n 30 "$work/debootstrap.log" >&2
  exit 1
}
# What the image holds, for `docker inspect` and the README: the packaged versions.
versions=$(chroot "$work/root" dpkg-query -W -f '${Package}=${Version} ' $(echo "$packages" | tr , ' ') | sed 's/ $//')
# Keep the image small: package caches and docs are not needed to run a gateway.
rm -rf "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"* "$work/root/usr/share/doc" "$work/root/usr/share/man"
tar -C "$work/root" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "LABEL org.badgateway.gateways=\"${gateways[*]}\"" \
  --change "LABEL org.badgateway.release=$release" \
  --change "LABEL org.badgateway.packages=\"$versions\"" \
  - "$image" >/dev/null
for g in "${gateways[@]}"; do docker tag "$image" "badgateway/$g:$release"; done
echo "build-gateway-image: built $image ($versions) in $(( $(date +%s) - started )) s, tagged $(tags "${gateways[@]}")"
