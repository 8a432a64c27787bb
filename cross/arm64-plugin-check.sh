#!/usr/bin/env bash
# By hand, not in CI: the GStreamer plugin cross-built for aarch64, its gst-check tests
# (deitclassify, deitoverlay, deitjsonenc) run under qemu-aarch64, and one gst-launch-1.0
# pipeline classifying tests/data/chelsea.png, on a Debian 12 x86-64 machine (docs/arm.md).
#
# The arm64 GStreamer -dev and tools packages cannot be installed next to the amd64 ones, so
# nothing arm64 beyond what .ci/arm64 installs is installed: apt downloads the arm64
# packages the plugin needs (about 160 MB) into WORKDIR and dpkg -x unpacks them into a
# sysroot there; the cross build links against that sysroot and qemu-aarch64 -L runs the
# tests with its libraries. Its glibc is Debian's libc6:arm64, the one the other arm64
# libraries were built against, so -L does not mix two glibc builds here (cross file notes).
#
# Needs: what .ci/arm64 installs (run it once: cross compiler, qemu-user, arm64 package
# lists), the amd64 build dependencies (.ci/install-deps) for the fixture scripts.
# Usage: cross/arm64-plugin-check.sh [WORKDIR]     (default: build-arm64-plugin)
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
W=$(realpath -m "${1:-build-arm64-plugin}")
S=$W/sysroot
B=$W/build
mkdir -p "$W/apt/archives/partial" "$S"

# 1. The arm64 packages, unpacked (not installed).
if [ ! -f "$W/sysroot.done" ]; then
  : > "$W/dpkg-status"   # an empty package database: apt fetches every dependency
  apt-get -q -o APT::Architecture=arm64 -o APT::Architectures::=arm64 \
    -o Dir::State::status="$W/dpkg-status" -o Dir::Cache="$W/apt" -o Debug::NoLocking=1 \
    --download-only --no-install-recommends -y install \
    libc6-dev libglib2.0-dev libjson-glib-dev libopenblas-dev \
    libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libpango1.0-dev libcairo2-dev \
    gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-tools
  for d in "$W"/apt/archives/*.deb; do dpkg -x "$d" "$S"; done
  # absolute symlinks (libfoo.so -> /lib/...) point into the sysroot
  find "$S" -xtype l | while read -r l; do
    t=$(readlink "$l")
    case $t in /*) ln -sf "$S$t" "$l" ;; esac
  done
  # the links update-alternatives would make for OpenBLAS
  L=$S/usr/lib/aarch64-linux-gnu
  ln -sf ../openblas-pthread/pkgconfig/openblas.pc "$L/pkgconfig/openblas.pc"
  for f in libopenblas.so.0 libopenblas.so libblas.so.3 libblas.so; do ln -sf "openblas-pthread/$f" "$L/$f"; done
  ln -sf openblas-pthread/cblas.h "$S/usr/include/aarch64-linux-gnu/cblas.h"
  touch "$W/sysroot.done"
fi

# 2. Cross build with the plugin, against the sysroot.
cat > "$W/cross.ini" <<EOF
[binaries]
c = 'aarch64-linux-gnu-gcc'
ar = 'aarch64-linux-gnu-gcc-ar'
strip = 'aarch64-linux-gnu-strip'
pkgconfig = 'pkg-config'
pkg-config = 'pkg-config'
exe_wrapper = ['qemu-aarch64', '-L', '$S']

[properties]
sys_root = '$S'
pkg_config_libdir = ['$S/usr/lib/aarch64-linux-gnu/pkgconfig', '$S/usr/share/pkgconfig']

[built-in options]
c_args = ['--sysroot=$S']
c_link_args = ['--sysroot=$S']

[host_machine]
system = 'linux'
cpu_family = 'aarch64'
cpu = 'aarch64'
endian = 'little'
EOF
[ -f "$B/build.ninja" ] || meson setup "$B" "$SRC" --cross-file "$W/cross.ini" -Dplugin=enabled
ninja -C "$B"

# 3. The plugin's gst-check tests under qemu-aarch64. GStreamer builds its registry by
# running the arm64 gst-plugin-scanner, which the kernel cannot start without binfmt_misc
# (GStreamer then warns "External plugin loader failed" and scans in-process anyway);
# GST_REGISTRY_FORK=no scans in the test's own (emulated) process from the start.
export GST_REGISTRY_FORK=no
rc=0
meson test -C "$B" --num-processes 2 --timeout-multiplier 5 --print-errorlogs \
  deitclassify deitoverlay deitjsonenc || rc=$?
grep -E "Checks:" "$B/meson-logs/testlog.txt" || true

# 4. A pipeline with the arm64 gst-launch-1.0 (random-weight test model: labels meaningless).
GST_REGISTRY_1_0=$W/registry.bin GST_PLUGIN_SYSTEM_PATH_1_0=$S/usr/lib/aarch64-linux-gnu/gstreamer-1.0 \
GST_PLUGIN_PATH_1_0=$B/plugin LD_LIBRARY_PATH=$B/plugin \
  qemu-aarch64 -L "$S" "$S/usr/bin/gst-launch-1.0" -m filesrc location="$SRC/tests/data/chelsea.png" ! \
  pngdec ! videoconvert ! deitclassify model="$B/tests/plugin/fixtures/model" top-k=3 ! fakesink |
  grep -E 'element "deitclassify0" \(element\)|EOS' || rc=1
exit $rc
