#!/bin/bash
# The fake AWS PCS agent installer.sh (extracted by the tar shim from aws-pcs-agent-v*.tar.gz):
# installs the agent under /opt/aws/pcs and writes /opt/aws/pcs/version (as the AWS PCS User
# Guide shows it) with the version of the tarball it came from. Knob pcs_installer=ok|fail.
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
tarball=$(find .. -maxdepth 1 -name 'aws-pcs-agent-v*.tar.gz' | head -1)
version=${tarball##*/aws-pcs-agent-v}
version=${version%.tar.gz}
printf "AGENT_INSTALL_DATE='%s'\nAGENT_VERSION='%s'\nAGENT_RELEASE='%s'\n" \
  "$(date -u)" "${version%-*}" "${version##*-}" >/opt/aws/pcs/version
echo "AWS PCS agent installed (sandbox)"
