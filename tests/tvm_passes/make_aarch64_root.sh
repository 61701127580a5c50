#!/usr/bin/env bash
# Prepare what tests/tvm_passes/test_cross_compile.py needs: the cross compilers, qemu, and Debian's
# aarch64 Python 3.11 (extracted, not installed) and the aarch64 wheels of the TVM runtime,
# numpy and pyserial, under $1 (default /opt/sedge-aarch64). Needs root for apt-get.
# Then: SEDGE_AARCH64_ROOT=$1 python -m pytest tests/tvm_passes/test_cross_compile.py
set -euo pipefail
root="${1:-/opt/sedge-aarch64}"
pip="${PIP:-pip}"
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf \
    gcc-riscv64-linux-gnu qemu-user
mkdir -p "$root/debs" "$root/sysroot" "$root/wheels" "$root/site"
dpkg --add-architecture arm64
apt-get update -q
(cd "$root/debs" && apt-get download -q python3.11-minimal:arm64 libpython3.11-minimal:arm64 \
    libpython3.11-stdlib:arm64 libexpat1:arm64 zlib1g:arm64 libffi8:arm64 libssl3:arm64 libbz2-1.0:arm64 \
    liblzma5:arm64 libsqlite3-0:arm64 libuuid1:arm64 libncursesw6:arm64 libtinfo6:arm64 libreadline8:arm64 \
    libcrypt1:arm64 libc6:arm64 libgcc-s1:arm64 libstdc++6:arm64 libzstd1:arm64)
dpkg --remove-architecture arm64
apt-get update -q
for deb in "$root"/debs/*.deb; do dpkg -x "$deb" "$root/sysroot"; done
"$pip" download -q --only-binary=:all: --platform manylinux_2_28_aarch64 --python-version 3.11 --no-deps \
    -d "$root/wheels" apache-tvm==0.27.0.post1 apache-tvm-ffi==0.1.14.post0 numpy==2.4.6 ml_dtypes==0.6.0 \
    typing_extensions==4.16.0 pyserial==3.5
for wheel in "$root"/wheels/*.whl; do python3 -m zipfile -e "$wheel" "$root/site"; done
echo "aarch64 root ready: SEDGE_AARCH64_ROOT=$root"
