# Sourced by the bench scripts that run a list of long jobs: `run NAME COMMAND...` runs COMMAND
# with its output shown and kept in $out/NAME.log, followed by "done in N s"; a job whose log
# already says "done" is skipped, and RUNS="a b" limits the jobs to those names.
run() {
  local name=$1; shift
  if [[ -f $out/$name.log ]] && grep -q '^done' "$out/$name.log"; then
    echo "== $name: done" >&2
    return
  fi
  [[ -n ${RUNS:-} && " $RUNS " != *" $name "* ]] && return
  echo "== $name" >&2
  local start=$SECONDS
  "$@" 2>&1 | tee "$out/$name.log"
  echo "done in $((SECONDS - start)) s" | tee -a "$out/$name.log"
}
