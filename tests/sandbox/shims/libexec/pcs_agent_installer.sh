#!/bin/bash
# The fake AWS PCS agent installer.sh (extracted by the tar shim from aws-pcs-agent-v*.tar.gz):
# installs the agent under /opt/aws/pcs. Knob pcs_installer=ok|fail.
. /.shims/lib/sim.sh
sim_log pcs-agent/installer.sh "$@"
[ $# = 0 ] || unsupported pcs-agent/installer.sh "$@"
if [ "$(knob pcs_installer ok)" = fail ]; then
  echo "Error: agent installation failed" >&2
  exit 1
fi
mkdir -p /opt/aws/pcs/bin
printf '#!/bin/bash\necho "pcs agent (sandbox)"\n' >/opt/aws/pcs/bin/pcs_agent
chmod 0755 /opt/aws/pcs/bin/pcs_agent
echo "AWS PCS agent installed (sandbox)"
