#!/usr/bin/env bash
# Tests of the Python package (python/, named svae) as users get it: `pip install ./python` into a
# venv of its own (the package's build runs tools/install.sh and ships libsvae inside the
# package); the random test models written by the Swift test support, and models/svae-tiny
# converted to q8_0; then pytest on python/tests (the API, the GIL, the library search, Ray Data
# with 2 actors), whose summary line ends the output.
#
# Usage: tools/test-python.sh [PYTEST ARGS...]
# Environment: CONFIGURATION=release|debug for tools/install.sh (default release, whose build in
#   .build/install tools/test-c-examples.sh has made);
#   SVAE_TEST_VENV (default .venv-test, gitignored). The venv and its packages (ray[data],
#   numpy, pytest from PyPI) are made once; later runs only reinstall svae.
set -euo pipefail
cd "$(dirname "$0")/.."
configuration="${CONFIGURATION:-release}"
venv="${SVAE_TEST_VENV:-.venv-test}"
requirements=("ray[data]" numpy pytest)
work="$(mktemp -d "${TMPDIR:-/tmp}/svae-python.XXXXXX")"
trap 'rm -rf "$work"' EXIT

[ -x "$venv/bin/python" ] || python3 -m venv "$venv" \
    || { echo "test-python: python3 -m venv failed (on Debian: apt-get install python3-venv)" >&2; exit 1; }
stamp="$venv/.svae-test-requirements"
if [ "$(cat "$stamp" 2> /dev/null)" != "${requirements[*]}" ]; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${requirements[@]}"
    echo "${requirements[*]}" > "$stamp"
fi
# The library search must find the package's own copy: no SVAE_LIBRARY from the caller.
unset SVAE_LIBRARY SVAE_PREFIX
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps \
    --config-settings "configuration=$configuration" ./python > "$work/install.log" 2>&1 \
    || { cat "$work/install.log"; exit 1; }

mkdir "$work/models"
SVAE_CAPI_MODEL_OUT="$work/models/svae.svae" SVAE_CAPI_SLLM_OUT="$work/models/sllm.svae" \
    SVAE_CAPI_OPT_OUT="$work/models/opt.svae" \
    swift test --filter 'CAPITests.CAPITests/writeModelForScripts' > "$work/models.log" 2>&1 \
    || { cat "$work/models.log"; exit 1; }
# And the shipped trained model, whose reconstructions are sometimes exact (the random ones never are).
swift build --product svae-convert > "$work/convert.log" 2>&1 \
    && "$(swift build --show-bin-path)/svae-convert" models/svae-tiny -o "$work/models/tiny.svae" --quant q8_0 >> "$work/convert.log" 2>&1 \
    || { cat "$work/convert.log"; exit 1; }
cp models/svae-tiny/samples.txt "$work/models/tiny-samples.txt"

# From inside python/tests, so that `import svae` can only mean the installed package.
cd python/tests
SVAE_TEST_MODELS="$work/models" "../../$venv/bin/python" -m pytest -p no:cacheprovider "$@"
