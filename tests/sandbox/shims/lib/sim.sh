# shellcheck shell=bash
# Sourced by every shim. State lives in /sim (see tests/sandbox/harness.py):
#   /sim/knobs/NAME   scenario knobs (written by the harness before each boot)
#   /sim/calls.log    one line per shim call: boot, phase, caller, command, arguments (tab-separated)
#   /sim/state/       persistent node state (Auto Scaling state, packages, EFA install boot)
#   /sim/disks/KEY/   per block device: fs (type), md (RAID superblock); /sim/fsdata/KEY its files
#   /sim/boot/        this boot only (wiped at every boot): mtab, arrays/, disks, events, modules
SIM=/sim
SIM_REAL_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# real COMMAND ARGS...: the host's command, not the shim.
real() { PATH=$SIM_REAL_PATH command "$@"; }

# sim_log NAME ARGS...: record the call.
sim_log() {
  local line="${SIM_BOOT:-0}"$'\t'"${SIM_PHASE:-?}"$'\t'"${SIM_CALLER:-node}" a
  for a in "$@"; do
    a=${a//\\/\\\\}
    a=${a//$'\t'/\\t}
    a=${a//$'\n'/\\n}
    line+=$'\t'"$a"
  done
  printf '%s\n' "$line" >>"$SIM/calls.log"
}

# knob NAME DEFAULT: a scenario knob's value.
knob() {
  local v
  if [ -r "$SIM/knobs/$1" ]; then
    read -r v <"$SIM/knobs/$1" || true
    printf '%s' "$v"
  else
    printf '%s' "$2"
  fi
}

# event WHAT: something that outlives the boot's processes (reboot, power-off).
event() { printf '%s\n' "$*" >>"$SIM/boot/events"; }

# unsupported NAME ARGS...: an argument shape the sandbox does not model: fail loudly, so a
# script change that needs a new shim behaviour is noticed.
unsupported() {
  echo "sandbox: '$*' is not modeled by the $1 shim (tests/sandbox/shims)" >&2
  printf '%s\n' "$*" >>"$SIM/unsupported.log"
  exit 97
}

# resolve PATH: symlinks followed (like the kernel does for mount sources).
resolve() { real readlink -f -- "$1"; }

# devkey DEV: the key of a block device's state in /sim/disks: its name, or md-UUID for an array.
devkey() {
  local dev name uuid
  dev=$(resolve "$1")
  name=${dev##*/}
  if [ -r "$SIM/boot/arrays/$name" ]; then
    read -r _ uuid _ <"$SIM/boot/arrays/$name"
    printf 'md-%s' "$uuid"
  else
    printf '%s' "$name"
  fi
}

# holder DISK-NAME: what holds a disk (an md array), from the fake /sys tree.
holder() {
  local h
  for h in /sys/class/block/"$1"/holders/*; do
    [ -e "$h" ] && { printf '%s' "${h##*/}"; return 0; }
  done
  return 1
}

# fs_of KEY: the file-system type recorded for a device, or nothing.
fs_of() {
  local t
  [ -r "$SIM/disks/$1/fs" ] || return 1
  read -r t _ <"$SIM/disks/$1/fs"
  printf '%s' "$t"
}

# mtab_has TARGET [FSTYPE]: whether something (of FSTYPE) is mounted at TARGET.
mtab_has() {
  local t f
  [ -r "$SIM/boot/mtab" ] || return 1
  while IFS=$'\t' read -r _ t f _; do
    if [ "$t" = "$1" ] && { [ -z "${2:-}" ] || [ "$f" = "$2" ]; }; then return 0; fi
  done <"$SIM/boot/mtab"
  return 1
}
