# Reads a scenario log written by run-scenarios.sh (each line led by seconds since the start) and
# prints each Molecule step's seconds in the order they ran, e.g. "converge 212 s, verify 14 s".
# A step runs from its "Executing" line to the next step's. Molecule writes that line as
# "[scenario > step] Executing" in CI (plain) and "scenario ➜ step: Executing" in colour.
{
  line = $0
  gsub(/\033\[[0-9;]*m/, "", line)
  last = $1
}
line ~ /(\] |: )Executing$/ && (line ~ / > / || line ~ / ➜ /) {
  sub(/(\] |: )Executing$/, "", line)
  n = split(line, words, " ")
  name = words[n]
  if (step != "") { out = out sep step " " ($1 - began) " s"; sep = ", " }
  step = name; began = $1
}
END {
  if (step != "") out = out sep step " " (last - began) " s"
  print out
}
