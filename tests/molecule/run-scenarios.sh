#!/usr/bin/env bash
# Run Molecule scenarios (all, or the names given), MOLECULE_JOBS at a time, longest first.
# Each scenario logs to $MOLECULE_LOG_DIR/<name>.log; a finished one prints one line (and its
# whole log when it failed). Exit status: 0 only when every scenario passed.
#   tests/molecule/run-scenarios.sh [name ...]
set -euo pipefail
cd "$(dirname "$0")/../.."

jobs=${MOLECULE_JOBS:-1}
# Seconds one scenario may take: well above the longest cold run measured (vllm_cpu 1178 s), and
# beyond it the suite misses CI's 90 minutes anyway.
export limit=${MOLECULE_SCENARIO_TIMEOUT:-2400}
log_dir=${MOLECULE_LOG_DIR:-tests/output/molecule}
mkdir -p "$log_dir"
: >"$log_dir/summary.txt"

# Longest first, so the last scenario to start is a short one (minutes on an idle 2-core machine;
# only the order matters; nvidia_driver is long since it builds a DKMS module). Scenarios missing
# here run after these.
# Measured at 0dd5086 (two at a time): rollout 1436 s, closed_network 1042, nvidia_driver 865,
# vllm_cpu 729, vllm_ray 499, ollama 429, weights 405, gpu_preflight 154. In this order (0bee102)
# Molecule took 2895 s, rollout and closed_network side by side 1587 s and 1559 s.
order=(rollout closed_network nvidia_driver vllm_cpu vllm_ray ollama weights gpu_reboot vllm_cuda gpu_preflight)

if (($#)); then
  wanted=("$@")
else
  mapfile -t wanted < <(for f in molecule/*/molecule.yml; do d=${f%/molecule.yml}; d=${d#molecule/};
                          [[ $d == default ]] || echo "$d"; done)
fi
queue=()
for name in "${order[@]}"; do
  for w in "${wanted[@]}"; do [[ $w == "$name" ]] && queue+=("$name"); done
done
for w in "${wanted[@]}"; do
  [[ " ${queue[*]} " == *" $w "* ]] || queue+=("$w")
done

run_one() {
  # xargs starts a new bash: without pipefail the log pipe would hide molecule's status.
  set -o pipefail
  local name=$1 log="$2/$1.log" start rc=0 start_s=$SECONDS steps
  start=$(date +%s)
  # Each log line starts with the seconds since the scenario started, so the log shows where the
  # time went; the summary line names each step's share (steps.awk).
  # A scenario that runs past the limit fails with its log, instead of holding the suite until CI's
  # own limit ends it with no log at all; timeout signals the whole process group (ansible-playbook
  # too), and destroy removes the nodes it leaves.
  timeout --kill-after=30 "$limit" \
    molecule --base-config molecule/default/config.yml test --scenario-name "$name" 2>&1 \
    | while IFS= read -r line; do printf '%5d %s\n' $((SECONDS - start_s)) "$line"; done >"$log" \
    || rc=$?
  if ((rc == 124 || rc == 137)); then
    { echo "$name: stopped after the ${limit} s limit (MOLECULE_SCENARIO_TIMEOUT)"
      molecule --base-config molecule/default/config.yml destroy --scenario-name "$name" 2>&1 \
        || echo "$name: destroy failed too"
    } | while IFS= read -r line; do printf '%5d %s\n' $((SECONDS - start_s)) "$line"; done >>"$log"
  fi
  steps=$(awk -f tests/molecule/steps.awk "$log")
  if ((rc == 0)); then
    echo "PASS $name ($(($(date +%s) - start)) s) - $steps - log: $log" | tee -a "$2/summary.txt"
  else
    ((rc == 124 || rc == 137)) && steps="stopped at the ${limit} s limit; $steps"
    echo "FAIL $name ($(($(date +%s) - start)) s, rc=$rc) - $steps" >>"$2/summary.txt"
    echo "FAIL $name ($(($(date +%s) - start)) s, rc=$rc) - log follows"
    cat "$log"
    echo "FAIL $name - end of log"
  fi
  return "$rc"
}
export -f run_one

# The sandbox's archive mirror sometimes stops answering a fetch that apt's own timeout does not
# end; the watchdog kills such an apt HTTP method in the nodes, and the roles' apt tasks retry.
: >"$log_dir/apt-stalls.log"
python3 tests/tools/apt_stall_watchdog.py --log "$log_dir/apt-stalls.log" &
watchdog=$!
trap 'kill "$watchdog" 2>/dev/null' EXIT

echo "Molecule: ${queue[*]} (${jobs} at a time; logs in $log_dir)"
rc=0
printf '%s\n' "${queue[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one "$1" "$2"' _ {} "$log_dir" || rc=$?
echo "Molecule summary:"
cat "$log_dir/summary.txt"
if [[ -s $log_dir/apt-stalls.log ]]; then
  echo "Stalled apt downloads killed (the archive mirror, not our code):"
  cat "$log_dir/apt-stalls.log"
fi
exit "$rc"
