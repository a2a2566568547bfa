#!/bin/bash
# PID 1 of a sandbox boot, in fresh user, mount and pid namespaces (harness.py starts it with
# unshare): builds the node's root (the host's /usr, /bin, /lib... read-only; the node's
# persistent root volume; fresh /run, /tmp, /dev, /sys; /proc), then chroots into sim-boot
# (or the program given as the third argument: /.shims/libexec/sim-build for a build host).
set -euo pipefail
R=$1 SHIMS=$2 PROGRAM=${3:-/.shims/libexec/sim-boot}
for d in usr bin sbin lib lib64 lib32 libx32; do
  if [ -L "/$d" ]; then
    [ -L "$R/$d" ] || ln -sfn "$(readlink "/$d")" "$R/$d"
  elif [ -d "/$d" ]; then
    mkdir -p "$R/$d"
    mount --rbind "/$d" "$R/$d"
    mount -o remount,bind,ro "$R/$d" 2>/dev/null || true
  fi
done
if [ -d "$R/usr/local" ]; then # the root volume's /usr/local (packages the node installs)
  mkdir -p "$R/.usr-local"
  mount --bind "$R/.usr-local" "$R/usr/local"
fi
mkdir -p "$R/run" "$R/tmp" "$R/dev" "$R/sys" "$R/proc" "$R/.shims"
mount -t tmpfs -o mode=0755 tmpfs "$R/run"
mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
mount -t tmpfs -o mode=0755 tmpfs "$R/dev"
mount -t tmpfs -o mode=0755 tmpfs "$R/sys"
for n in null zero urandom; do
  : >"$R/dev/$n"
  mount --bind "/dev/$n" "$R/dev/$n"
done
cp -a "$SHIMS/dev/." "$R/dev/" # fd, stdin, stdout, stderr links; shm
mount -t proc proc "$R/proc" 2>/dev/null || mount --rbind /proc "$R/proc"
mount --bind "$SHIMS" "$R/.shims"
mount -o remount,bind,ro "$R/.shims" 2>/dev/null || true
exec chroot "$R" /usr/bin/env -i \
  PATH=/.shims/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  HOME=/root LANG=C TERM=dumb /bin/bash "$PROGRAM"
