#!/usr/bin/env bash
# Build the lab / Molecule node image for one Debian or Ubuntu release, unless it already exists.
#   tests/lab/build-image.sh bookworm|trixie|jammy|noble
# Result: localhost/onprem-llm-node:<dist>-<recipehash> and the moving tag :<dist>.
# No container registry is reachable here, so the image is debootstrapped locally (see
# tests/lab/README.md). The tag carries a hash of this script and node-packages.txt, so an image
# is rebuilt only when its recipe changes; downloaded .debs are kept in a cache dir so a rebuild
# does not download them again.
set -euo pipefail

dist=${1:?usage: $0 bookworm|trixie|jammy|noble}
case "$dist" in
  bookworm|trixie) family=debian ;;
  jammy|noble) family=ubuntu ;;
  *) echo "unsupported dist: $dist" >&2; exit 2 ;;
esac

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
debian_mirror=${ONPREM_DEBIAN_MIRROR:-http://deb.debian.org/debian}
if [ "$family" = debian ]; then
  mirror=$debian_mirror
  security_mirror=${ONPREM_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
else
  # The archive carries the -security pocket too; ONPREM_UBUNTU_MIRROR is the unit tests' mirror knob.
  mirror=${ONPREM_UBUNTU_MIRROR:-http://archive.ubuntu.com/ubuntu}
  security_mirror=${ONPREM_UBUNTU_SECURITY_MIRROR:-$mirror}
fi
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

bootstrap_args=()
if [ "$family" = ubuntu ]; then
  # Debian 12's debootstrap has no script named noble and no Ubuntu keyring package. Every Ubuntu
  # release since gutsy uses the gutsy script (newer debootstrap links noble to it). The keyring is
  # Debian's ubuntu-keyring package from trixie, fetched with apt against trixie's index, which
  # Debian's archive key signs, so the Ubuntu archive is verified as debootstrap verifies Debian's.
  keyring=$cache/ubuntu-archive-keyring.gpg
  if [ ! -s "$keyring" ]; then
    apt_dir=$(mktemp -d "$cache/ubuntu-keyring.XXXXXX")
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $debian_mirror trixie main" \
      >"$apt_dir/sources.list"
    apt_opts=(-q -o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
              -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o APT::Sandbox::User=root)
    apt-get "${apt_opts[@]}" update >"$cache/ubuntu-keyring.log" 2>&1
    (cd "$apt_dir" && apt-get "${apt_opts[@]}" download ubuntu-keyring) >>"$cache/ubuntu-keyring.log" 2>&1
    dpkg-deb --fsys-tarfile "$apt_dir"/ubuntu-keyring_*.deb \
      | tar -xO ./usr/share/keyrings/ubuntu-archive-keyring.gpg >"$keyring.part"
    mv "$keyring.part" "$keyring"
    rm -rf "$apt_dir"
  fi
  bootstrap_args=(--keyring="$keyring" --components=main,universe)
fi

echo "debootstrap $dist from $mirror (cache $cache/debs-$dist)" >&2
script=()
[ -e "/usr/share/debootstrap/scripts/$dist" ] || script=(/usr/share/debootstrap/scripts/gutsy)
debootstrap --variant=minbase "${bootstrap_args[@]}" --include="$packages" --cache-dir="$cache/debs-$dist" \
  "$dist" "$rootfs" "$mirror" "${script[@]}" >"$cache/debootstrap-$dist.log" 2>&1 \
  || { tail -n 30 "$cache/debootstrap-$dist.log" >&2; exit 1; }

if [ "$family" = debian ]; then
  # Sources as the Debian installer writes them (main + non-free-firmware, updates, security), so
  # roles that add contrib/non-free or mirrors start from what a real server has.
  cat >"$rootfs/etc/apt/sources.list" <<SOURCES
deb $mirror $dist main non-free-firmware
deb $mirror $dist-updates main non-free-firmware
deb $security_mirror $dist-security main non-free-firmware
SOURCES
elif [ "$dist" = jammy ]; then
  # As Ubuntu Server 22.04's installer writes them: the four components, updates and security.
  cat >"$rootfs/etc/apt/sources.list" <<SOURCES
deb $mirror $dist main restricted universe multiverse
deb $mirror $dist-updates main restricted universe multiverse
deb $security_mirror $dist-security main restricted universe multiverse
SOURCES
else
  # Ubuntu 24.04 writes deb822 sources (ubuntu.sources) signed by the keyring it ships.
  : >"$rootfs/etc/apt/sources.list"
  cat >"$rootfs/etc/apt/sources.list.d/ubuntu.sources" <<SOURCES
Types: deb
URIs: $mirror
Suites: $dist $dist-updates
Components: main restricted universe multiverse
Signed-By: /usr/share/keyrings/ubuntu-archive-keyring.gpg

Types: deb
URIs: $security_mirror
Suites: $dist-security
Components: main restricted universe multiverse
Signed-By: /usr/share/keyrings/ubuntu-archive-keyring.gpg
SOURCES
fi
# A fresh machine-id per container (systemd creates it at boot); no stale apt lists or debs.
: >"$rootfs/etc/machine-id"
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb
# Without lists the index is stale, not an hour old: apt's cache_valid_time reads the directory's
# mtime (no update-success stamp yet), so a role's "refresh if older than" must refresh here.
touch -d @0 "$rootfs/var/lib/apt/lists"
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
