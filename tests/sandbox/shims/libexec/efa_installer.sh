#!/bin/bash
# The fake EFA installer (extracted by the tar shim): installs /opt/amazon/efa/bin/fi_info.
# Knob efa_installer=ok|fail|reboot (reboot: prints the real installer's reboot request).
. /.shims/lib/sim.sh
sim_log efa_installer.sh "$@"
echo "== Installing EFA software (sandbox) =="
mode=$(knob efa_installer ok)
if [ "$mode" = fail ]; then
  echo "Error: Failed to install packages." >&2
  exit 1
fi
mkdir -p /opt/amazon/efa/bin
cp /.shims/libexec/fi_info /opt/amazon/efa/bin/fi_info
chmod 0755 /opt/amazon/efa/bin/fi_info
echo "${SIM_BOOT:-0}" >"$SIM/state/efa-installed-boot"
action="logout/login"
if [ "$mode" = reboot ]; then
  echo "Failed to unload EFA kernel module."
  echo "Reboot is needed!" >&2
  action=reboot
fi
cat <<END
===================================================
EFA installation complete.
- Please $action to complete the installation.
- Libfabric was installed in /opt/amazon/efa
- Open MPI was installed in /opt/amazon/openmpi
===================================================
END
