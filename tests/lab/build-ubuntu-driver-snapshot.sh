#!/usr/bin/env bash
# Build a local apt repository of real Ubuntu packages that molecule/nvidia_driver's Ubuntu nodes
# install from (test plumbing, never part of the product).
#   tests/lab/build-ubuntu-driver-snapshot.sh jammy|noble|jammy-kernel-update|noble-kernel-update
# Result: .cache/ubuntu-driver-snapshot/<list>/ holding the .debs of ubuntu-driver-snapshot/<list>.sha256
# and their Packages index (dpkg-scanpackages reads each package's own control data). <dist> lists
# the 580-server driver and the kernel the node starts with; <dist>-kernel-update the next kernel
# and its NVIDIA module, which the scenario's side effect publishes as a mirror would.
#
# Why: on 2026-12-04 this sandbox's Ubuntu archive listed driver 580.196.07 in noble-updates,
# noble-security and jammy-updates, and the NVIDIA modules of kernels 6.8.0-151 / 5.15.0-204 built
# for it, while answering 404 for their files (the 580.178.04 files stayed served, their index
# entries gone on noble; the module meta packages of older kernels are in its pool, in no index).
# A scenario that takes "the newest of the branch" from such an index fails whatever the role does.
# The nodes get these real, hash-checked debs as a site's local mirror would hold them, at the
# versions in the list; everything else still comes from Ubuntu's archive.
set -euo pipefail

name=${1:?usage: $0 jammy|noble|jammy-kernel-update|noble-kernel-update}
dist=${name%%-*}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
list=$here/ubuntu-driver-snapshot/$name.sha256
[ -f "$list" ] || { echo "no package list for $name: $list" >&2; exit 2; }
mirror=${ONPREM_UBUNTU_MIRROR:-http://archive.ubuntu.com/ubuntu}
# The scenario's apt cache (bind-mounted into the node): debs already there are not fetched again.
debs=$repo/.cache/apt-archives/$dist
out=$repo/.cache/ubuntu-driver-snapshot/$name
mkdir -p "$debs" "$out"

# Built before from this list: the stamp holds the list's hash, written after every deb was checked
# and the index made (hashing the debs again cost 7 CPU-seconds a scenario run). A deb that went
# missing since, or a changed list, builds again.
stamp=$(sha256sum "$list" | cut -d' ' -f1)
if [ "$(cat "$out/.built" 2>/dev/null)" = "$stamp" ] && [ -f "$out/Packages" ] \
   && grep -v '^#' "$list" | sed 's|.*/||' | (cd "$out" && xargs ls >/dev/null 2>&1); then
  echo "$out ($(grep -c '^Package:' "$out/Packages") packages, built before)"
  exit 0
fi
rm -f "$out/.built"

grep -v '^#' "$list" | while read -r sum path; do
  file=$debs/${path##*/}
  if [ ! -f "$file" ] || [ "$(sha256sum "$file" | cut -d' ' -f1)" != "$sum" ]; then
    curl --fail --silent --show-error --retry 3 --connect-timeout 30 -o "$file.part" "$mirror/$path"
    mv "$file.part" "$file"
  fi
  echo "$sum  $file" | sha256sum --check --quiet
  ln -f "$file" "$out/${path##*/}"
done

# Only the listed packages: a deb left from an older list would otherwise stay in the index.
find "$out" -name '*.deb' -printf '%f\n' | sort > "$out/.present"
grep -v '^#' "$list" | sed 's|.*/||' | sort > "$out/.wanted"
comm -23 "$out/.present" "$out/.wanted" | (cd "$out" && xargs -r rm -f --)
rm -f "$out/.present" "$out/.wanted"
(cd "$out" && dpkg-scanpackages --multiversion . /dev/null 2>/dev/null > Packages)
echo "$stamp" > "$out/.built"
echo "$out ($(grep -c '^Package:' "$out/Packages") packages)"
