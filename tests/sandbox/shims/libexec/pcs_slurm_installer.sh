#!/bin/bash
# The fake AWS PCS Slurm installer.sh -y (extracted by the tar shim from
# aws-pcs-slurm-MAJOR-installer-VERSION.tar.gz, which writes the major version next to it):
# installs slurmd under /opt/aws/pcs/scheduler/slurm-MAJOR. Knob pcs_installer=ok|fail.
. /.shims/lib/sim.sh
sim_log pcs-slurm/installer.sh "$@"
[ "$*" = -y ] || unsupported pcs-slurm/installer.sh "$@"
if [ "$(knob pcs_installer ok)" = fail ]; then
  echo "Error: Slurm installation failed" >&2
  exit 1
fi
read -r major <"$(dirname "$0")/.slurm-major"
mkdir -p "/opt/aws/pcs/scheduler/slurm-$major/sbin"
printf '#!/bin/bash\necho "slurmd %s (sandbox)"\n' "$major" >"/opt/aws/pcs/scheduler/slurm-$major/sbin/slurmd"
chmod 0755 "/opt/aws/pcs/scheduler/slurm-$major/sbin/slurmd"
echo "Slurm $major installed (sandbox)"
