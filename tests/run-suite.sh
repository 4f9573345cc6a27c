#!/usr/bin/env bash
# `make test` and `make test-quick`: run the suite's parts, stop after the first step that fails,
# and always end with a table of each part's and each Molecule scenario's wall time (also kept in
# tests/output/timings.txt, and one TSV row per part in tests/output/timings.tsv), so a change that
# slows the suite shows in its own run.
#   tests/run-suite.sh step [step ...]
# A step is a make target (unit, lint, molecule ...) or several joined by '+' (lint+sanity+unit):
# those run SUITE_JOBS at a time (default 2; `make test` gives 3), in the order given, each into its
# own log, printed whole when it ends. Why: unit, lint, sanity and the preflight matrix each keep one
# core busy, so on the 2-core machines two of them side by side take about half their sum.
set -uo pipefail
cd "$(dirname "$0")/.."

out=tests/output
mkdir -p "$out/parts"
tsv=$out/timings.tsv
table=$out/timings.txt
summary=${MOLECULE_LOG_DIR:-$out/molecule}/summary.txt
jobs=${SUITE_JOBS:-2}
printf 'part\tseconds\tresult\n' >"$tsv"
rm -f "$summary"

# One part: its output into tests/output/parts/<part>.log, printed when it ends; a TSV row.
run_part() {
  local part=$1 start rc=0 log=tests/output/parts/$1.log
  start=$(date +%s)
  make --no-print-directory "$part" >"$log" 2>&1 || rc=$?
  { echo "=== make $part ($(($(date +%s) - start)) s, rc=$rc)"; cat "$log"; } | flock tests/output/parts/.print cat
  printf '%s\t%s\t%s\n' "$part" "$(($(date +%s) - start))" "$( ((rc == 0)) && echo pass || echo "FAIL rc=$rc")" \
    | flock tests/output/parts/.print tee -a tests/output/timings.tsv >/dev/null
  return "$rc"
}
export -f run_part

suite_start=$(date +%s)
rc=0
for step in "$@"; do
  if [[ $step == *+* ]]; then
    echo "=== $(tr + ' ' <<<"$step") (${jobs} at a time)"
    tr + '\n' <<<"$step" | xargs -P "$jobs" -I{} bash -c 'run_part "$1"' _ {} || rc=$?
  else
    # Alone: straight to the terminal (molecule prints each scenario as it ends).
    start=$(date +%s)
    echo "=== make $step"
    make --no-print-directory "$step" || rc=$?
    printf '%s\t%s\t%s\n' "$step" "$(($(date +%s) - start))" "$( ((rc == 0)) && echo pass || echo "FAIL rc=$rc")" >>"$tsv"
  fi
  ((rc == 0)) || break
done
total=$(($(date +%s) - suite_start))

{
  echo "Suite timings ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, SUITE_JOBS=$jobs, MOLECULE_JOBS=${MOLECULE_JOBS:-})"
  awk -F'\t' 'NR > 1 { printf "  %-16s %6d s  %s\n", $1, $2, $3 }' "$tsv"
  if [[ -s $summary ]]; then
    echo "Molecule scenarios (wall time of each; they run MOLECULE_JOBS at a time):"
    sed -E 's/^(PASS|FAIL) ([a-z0-9_]+) \(([0-9]+) s[^)]*\)( - ([^-]*[^ -]))?.*/\3\t\2\t\1\t\5/' "$summary" \
      | sort -rn | awk -F'\t' '{ printf "  %-16s %6d s  %s\n", $2, $1, $3; if ($4 != "") print "      " $4 }'
  fi
  printf '  %-16s %6d s  (%d min %02d s)\n' total "$total" $((total / 60)) $((total % 60))
} | tee "$table"
exit "$rc"
