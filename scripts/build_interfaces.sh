#!/usr/bin/env bash
# Generate inspection_msgs (rosidl: C, C++ typesupport, Python) from msg/ and srv/ and install it
# into the given environment, using only the ROS 2 PyPI wheels (no system ROS needed).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ENV_DIR="${1:?usage: build_interfaces.sh ENV_DIR}"
BUILD_DIR="$ENV_DIR/build/inspection_msgs"
PY="$ENV_DIR/bin/python"
PY_PREFIX="$("$PY" -c 'import sys; print(sys.base_prefix)')"
PY_INCLUDE="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"

rm -rf "$BUILD_DIR"
mkdir -p "$BUILD_DIR"
export AMENT_PREFIX_PATH="$ENV_DIR" CMAKE_PREFIX_PATH="$ENV_DIR" LD_LIBRARY_PATH="$ENV_DIR/lib:${LD_LIBRARY_PATH:-}"
export PATH="$ENV_DIR/bin:$PATH"
cmake -S "$REPO/inspection_msgs" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX="$ENV_DIR" -DBUILD_TESTING=OFF \
  -DPython3_EXECUTABLE="$PY" -DPython3_INCLUDE_DIR="$PY_INCLUDE" \
  -DINSPECTION_PYTHON_PREFIX="$PY_PREFIX" \
  -DCMAKE_PROJECT_INCLUDE="$REPO/cmake/fix_wheel_include_dirs.cmake" >"$BUILD_DIR/configure.log" 2>&1 \
  || { tail -40 "$BUILD_DIR/configure.log" >&2; exit 1; }
cmake --build "$BUILD_DIR" -j "$(nproc)" >"$BUILD_DIR/build.log" 2>&1 || { tail -40 "$BUILD_DIR/build.log" >&2; exit 1; }
cmake --install "$BUILD_DIR" >"$BUILD_DIR/install.log" 2>&1 || { tail -40 "$BUILD_DIR/install.log" >&2; exit 1; }
"$PY" -c 'from inspection_msgs.msg import Verdict; print("[setup] inspection_msgs ok:", Verdict.__name__)'
