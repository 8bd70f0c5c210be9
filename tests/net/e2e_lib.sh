# Shared by the end-to-end scripts in this directory; sourced, not run.

# e2e_begin WORK_DIR: a fresh WORK_DIR becomes the current directory; every process whose pid
# is appended to `pids` is SIGKILLed when the script exits.
e2e_begin() {
  rm -rf "$1" && mkdir -p "$1"
  cd "$1"
  pids=()
  trap e2e_kill_all EXIT
  export GRPC_VERBOSITY=NONE
}

e2e_kill_all() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; }

# e2e_fail TAG MESSAGE LINES LOG...: prints "TAG FAILED: MESSAGE" and the last LINES lines of
# each LOG that exists, and exits 1.
e2e_fail() {
  local tag=$1 message=$2 lines=$3
  shift 3
  echo "$tag FAILED: $message" >&2
  local f
  for f in "$@"; do
    [[ -f $f ]] && { echo "== $f"; tail -"$lines" "$f"; }
  done >&2
  exit 1
}
