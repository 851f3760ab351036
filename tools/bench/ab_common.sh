# ab_common.sh: sourced by the kernel A/B harnesses' run.sh (i8r_ab, sgemm_ab), with their
# arguments. Sets here (the harness's folder), root (the repository), base (--base REV, default
# HEAD), a_flags / b_flags (--a / --b "FLAGS": extra -D flags per side), cc ($CC or clang),
# flags (the C flags SwiftPM gives the CSVAEKernels target in release), inc (its include
# folder) and out (a temporary folder with out/a for side A's sources, removed at exit), and
# leaves the harness's own arguments in "$@".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
base=HEAD a_flags="" b_flags=""
while [ $# -gt 0 ]; do
    case "$1" in
    --base) base=$2; shift 2 ;;
    --a) a_flags=$2; shift 2 ;;
    --b) b_flags=$2; shift 2 ;;
    *) break ;;
    esac
done
cc=${CC:-clang}
flags="-O2 -fPIC -g -fno-omit-frame-pointer"
inc="$root/Sources/CSVAEKernels/include"
out=$(mktemp -d "${TMPDIR:-/tmp}/$(basename "$here").XXXXXX")
trap 'rm -rf "$out"' EXIT
mkdir -p "$out/a"
