# ssh-fixture.sh - sourced by test-tagging.sh (mode tag-many-ssh): a private sshd on
# 127.0.0.1 as the "remote machine" of tag-many.sh --sshlogin.
#
# start_sshd DIR: its own sshd_config, host key, user key and authorized_keys in DIR, a
# high port on 127.0.0.1 only, key login for the current user only. Sets SSHD_PID and
# writes DIR/ssh_config with two hosts: deit-remote (this sshd) and deit-broken (a port
# where nothing listens). Export PARALLEL_SSH="ssh -F DIR/ssh_config" so that GNU parallel
# (and the rsync it runs) use them. stop_sshd stops it by its PID.
# Exit 77 (skip) when sshd, ssh, ssh-keygen or rsync is not installed, except in CI
# (CI=true), where that is a failure: .ci/install-deps installs them.

sshd_unavailable() {
  if [ "${CI:-}" = true ]; then
    echo "FAIL: $* (CI=true: .ci/install-deps installs openssh-server, openssh-client, rsync)" >&2
    exit 1
  fi
  echo "SKIP: $*"
  exit 77
}

start_sshd() {
  local dir=$1 sshd attempt port user
  sshd=$(command -v sshd || echo /usr/sbin/sshd)
  [ -x "$sshd" ] || sshd_unavailable "no sshd (Debian: openssh-server)"
  command -v ssh > /dev/null && command -v ssh-keygen > /dev/null ||
    sshd_unavailable "no ssh client (Debian: openssh-client)"
  command -v rsync > /dev/null || sshd_unavailable "no rsync (Debian: rsync)"
  user=$(id -un)
  SSHD_DIR=$dir
  # the control socket's path must be short (108 bytes): not under the build folder
  SSHD_CONTROL=$(mktemp -d /tmp/deit-ssh.XXXXXX) || exit 1
  mkdir -p "$dir"
  chmod 700 "$dir"
  ssh-keygen -q -t ed25519 -N '' -C deit-test-host -f "$dir/host_key" || exit 1
  ssh-keygen -q -t ed25519 -N '' -C deit-test-user -f "$dir/user_key" || exit 1
  cp "$dir/user_key.pub" "$dir/authorized_keys"
  # sshd run as root needs its privilege separation folder (made by the Debian service)
  if [ "$(id -u)" -eq 0 ] && [ ! -d /run/sshd ]; then mkdir -p /run/sshd && chmod 755 /run/sshd; fi
  for attempt in 1 2 3 4 5; do
    port=$(( 20000 + (RANDOM * 7 + $$ + attempt * 97) % 40000 ))
    cat > "$dir/sshd_config" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey $dir/host_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
AllowUsers $user
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
PrintMotd no
LogLevel ERROR
# the remote's own GStreamer registry, not ~/.cache; a short grace for a hung gst-launch
SetEnv GST_REGISTRY_1_0=$dir/remote-registry.bin DEIT_ERROR_GRACE=3
EOF
    cat > "$dir/ssh_config" <<EOF
Host deit-remote deit-broken
  HostName 127.0.0.1
  User $user
  IdentityFile $dir/user_key
  IdentitiesOnly yes
  BatchMode yes
  StrictHostKeyChecking no
  UserKnownHostsFile $dir/known_hosts
  ConnectTimeout 5
  LogLevel ERROR
Host deit-remote
  Port $port
  # one connection for all (a new one costs ~0.5 s on a busy machine); stop_sshd ends it
  ControlMaster auto
  ControlPath $SSHD_CONTROL/%C
  ControlPersist 30
Host deit-broken
  Port $(( port == 65535 ? 1 : port + 1 ))
EOF
    "$sshd" -D -e -f "$dir/sshd_config" 2>> "$dir/sshd.log" &
    SSHD_PID=$!
    local i
    for i in $(seq 1 50); do
      ssh -F "$dir/ssh_config" deit-remote true 2>/dev/null && return 0
      kill -0 "$SSHD_PID" 2>/dev/null || break
      sleep 0.1
    done
    stop_sshd
  done
  cat "$dir/sshd.log" >&2
  sshd_unavailable "could not start sshd on 127.0.0.1 (see the log above)"
}

stop_sshd() {
  if [ -n "${SSHD_PID:-}" ]; then
    ssh -F "$SSHD_DIR/ssh_config" -O exit deit-remote 2>/dev/null
    kill "$SSHD_PID" 2>/dev/null
    wait "$SSHD_PID" 2>/dev/null
    SSHD_PID=""
  fi
  [ -z "${SSHD_CONTROL:-}" ] || rm -rf "$SSHD_CONTROL"
}
