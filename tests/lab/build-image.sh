#!/usr/bin/env bash
# Build the lab / Molecule node image for one Debian release, unless it already exists.
#   tests/lab/build-image.sh bookworm|trixie
# Result: localhost/onprem-llm-node:<dist>-<recipehash> and the moving tag :<dist>.
# No container registry is reachable here, so the image is debootstrapped locally (see
# tests/lab/README.md). The tag carries a hash of this script and node-packages.txt, so an image
# is rebuilt only when its recipe changes; downloaded .debs are kept in a cache dir so a rebuild
# does not download them again.
set -euo pipefail

dist=${1:?usage: $0 bookworm|trixie}
case "$dist" in bookworm|trixie) ;; *) echo "unsupported dist: $dist" >&2; exit 2 ;; esac

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
mirror=${ONPREM_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security_mirror=${ONPREM_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
cache=${ONPREM_LAB_CACHE:-$repo/.cache/lab}
name=localhost/onprem-llm-node

# The mirror is not part of the hash: the same recipe from another mirror is the same image.
bytecode_cache=$here/node-python/onprem_ansiballz_bytecode.py
hash=$(cat "$0" "$here/node-packages.txt" "$bytecode_cache" | sha256sum | cut -c1-12)
image="$name:$dist-$hash"

if podman image exists "$image"; then
  podman tag "$image" "$name:$dist"   # cheap; keeps :<dist> pointing at the current recipe
  echo "$image (cached)"
  exit 0
fi

packages=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$here/node-packages.txt" | paste -sd, -)
mkdir -p "$cache/debs-$dist"
rootfs=$(mktemp -d "$cache/rootfs-$dist.XXXXXX")
trap 'rm -rf "$rootfs"' EXIT

echo "debootstrap $dist from $mirror (cache $cache/debs-$dist)" >&2
debootstrap --variant=minbase --include="$packages" --cache-dir="$cache/debs-$dist" \
  "$dist" "$rootfs" "$mirror" >"$cache/debootstrap-$dist.log" 2>&1 \
  || { tail -n 30 "$cache/debootstrap-$dist.log" >&2; exit 1; }

# Sources as the Debian installer writes them (main + non-free-firmware, updates, security), so
# roles that add contrib/non-free or mirrors start from what a real server has.
cat >"$rootfs/etc/apt/sources.list" <<SOURCES
deb $mirror $dist main non-free-firmware
deb $mirror $dist-updates main non-free-firmware
deb $security_mirror $dist-security main non-free-firmware
SOURCES
# A fresh machine-id per container (systemd creates it at boot); no stale apt lists or debs.
: >"$rootfs/etc/machine-id"
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb
# Units that only make sense on real hardware and otherwise leave systemd 'degraded'.
for unit in getty.target console-getty.service systemd-remount-fs.service \
            systemd-firstboot.service systemd-udev-trigger.service systemd-udevd.service; do
  ln -sf /dev/null "$rootfs/etc/systemd/system/$unit"
done

# Test plumbing, not the collection: a bytecode cache for Ansible's module payloads (the file says why).
dist_packages=$rootfs/usr/lib/python3/dist-packages
install -m 0644 "$bytecode_cache" "$dist_packages/"
echo "import onprem_ansiballz_bytecode" >"$dist_packages/onprem_ansiballz_bytecode.pth"
# Made here, so that a node's first module run changes nothing outside it (/var/cache keeps its
# mtime; the preflight test's "no file changed" check leaves the cache out).
install -d -m 0755 "$rootfs/var/cache/onprem-ansiballz-bytecode"

tar -C "$rootfs" --numeric-owner -c . \
  | podman import --quiet --change 'CMD ["/sbin/init"]' --change 'STOPSIGNAL SIGRTMIN+3' \
      --message "onprem.llm lab node $dist recipe $hash" - "$image" >/dev/null
podman tag "$image" "$name:$dist"
# Drop images of older recipes for this dist (ignored while a container still uses one).
podman images --format '{{.Repository}}:{{.Tag}}' "$name" | grep -F ":$dist-" | grep -vxF "$image" \
  | xargs -r podman rmi >/dev/null 2>&1 || true
echo "$image (built)"
