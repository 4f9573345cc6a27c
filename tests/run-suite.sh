#!/usr/bin/env bash
# `make test`: run the suite's parts in order, stop at the first that fails, and always end with a
# table of each part's and each Molecule scenario's wall time (also kept in
# tests/output/timings.txt, and one TSV row per part in tests/output/timings.tsv), so a change that
# slows the suite shows in its own run.
#   tests/run-suite.sh part [part ...]     (each part is a make target: unit, lint, molecule ...)
set -uo pipefail
cd "$(dirname "$0")/.."

out=tests/output
mkdir -p "$out"
tsv=$out/timings.tsv
table=$out/timings.txt
summary=${MOLECULE_LOG_DIR:-$out/molecule}/summary.txt
printf 'part\tseconds\tresult\n' >"$tsv"
rm -f "$summary"

suite_start=$(date +%s)
rc=0
for part in "$@"; do
  start=$(date +%s)
  echo "=== make $part"
  make --no-print-directory "$part" || rc=$?
  printf '%s\t%s\t%s\n' "$part" "$(($(date +%s) - start))" "$([[ $rc == 0 ]] && echo pass || echo "FAIL rc=$rc")" >>"$tsv"
  ((rc == 0)) || break
done
total=$(($(date +%s) - suite_start))

{
  echo "Suite timings ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, MOLECULE_JOBS=${MOLECULE_JOBS:-})"
  awk -F'\t' 'NR > 1 { printf "  %-16s %6d s  %s\n", $1, $2, $3 }' "$tsv"
  if [[ -s $summary ]]; then
    echo "Molecule scenarios (wall time of each; they run MOLECULE_JOBS at a time):"
    sed -E 's/^(PASS|FAIL) ([a-z0-9_]+) \(([0-9]+) s[^)]*\)( - ([^-]*[^ -]))?.*/\3\t\2\t\1\t\5/' "$summary" \
      | sort -rn | awk -F'\t' '{ printf "  %-16s %6d s  %s\n", $2, $1, $3; if ($4 != "") print "      " $4 }'
  fi
  printf '  %-16s %6d s  (%d min %02d s)\n' total "$total" $((total / 60)) $((total % 60))
} | tee "$table"
exit "$rc"
