#!/usr/bin/env bash
# skip-guard.sh - every test runs through this (meson's default test setup, see
# tests/meson.build). Outside CI it only runs the test.
#
# With CI=true (as CI services set it) an exit status of 77 (meson's "skipped") becomes a
# failure: tests skip when a reference dependency is missing (python3-torch,
# python3-pil, python3-numpy for the PyTorch/Pillow references, openssh-server and rsync
# for the tag-many.sh --sshlogin test...), and a CI machine without them must not report
# success. .ci/install-deps installs them all.
# A test whose skip says nothing about the installation (e.g. the AVX2 kernels on a CPU
# without AVX2) sets DEIT_SKIP_IN_CI_OK=REASON in its meson env and keeps its skip.
"$@"
rc=$?
if [ "$rc" -eq 77 ]; then
  case "${CI:-}" in
    true|TRUE|True|1|yes)
      if [ -z "${DEIT_SKIP_IN_CI_OK:-}" ]; then
        echo "skip-guard: CI=$CI: this test skipped (exit 77), a failure in CI: a reference dependency" \
          "is missing (python3-torch, python3-pil, python3-numpy, openssh-server, rsync...:" \
          "run .ci/install-deps). Skip reason: see the test's output above." >&2
        exit 1
      fi
      echo "skip-guard: skipped in CI as allowed: $DEIT_SKIP_IN_CI_OK" >&2 ;;
  esac
fi
exit "$rc"
