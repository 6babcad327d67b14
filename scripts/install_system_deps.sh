#!/usr/bin/env bash
# Installs the Debian packages VoiceOps needs (speech synthesis and audio tools) when missing,
# and the optional ones named as arguments.
set -euo pipefail
needed=()
command -v espeak-ng >/dev/null 2>&1 || needed+=(espeak-ng)
command -v sox >/dev/null 2>&1 || needed+=(sox)
command -v git >/dev/null 2>&1 || needed+=(git)
# Real recorded Russian speech with transcripts (festvox-ru: 620 utterances, ~1.7 h, 16 kHz;
# ~179 MB download, ~242 MB installed, pulls in festival). It has no command: ask dpkg-query.
# Set VOICEOPS_SKIP_REAL_SPEECH=1 to skip it (real_speech_utterances() then returns []).
installed() {  # a Debian package is installed (not merely known or removed)
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}
if command -v dpkg-query >/dev/null 2>&1; then
  installed libjemalloc2 || needed+=(libjemalloc2)  # TensorFlow's malloc (scripts/with_jemalloc.sh)
  # promtool and amtool: make test checks and unit-tests monitoring/'s rules and Alertmanager config
  installed prometheus || needed+=(prometheus)
  installed prometheus-alertmanager || needed+=(prometheus-alertmanager)
fi
if [ "${VOICEOPS_SKIP_REAL_SPEECH:-0}" != "1" ] && command -v dpkg-query >/dev/null 2>&1; then
  installed festvox-ru || needed+=(festvox-ru)
fi
# Natural synthetic voices beside espeak-ng (core.voices): flite (awb, kal, kal16, rms, slt),
# Festival's kal diphones and the HTS voice of slt (~30 MB). sox's GSM, u-law and A-law codecs
# (core.telephony) are in libsox-fmt-base, which sox depends on.
if command -v dpkg-query >/dev/null 2>&1; then
  for voice in flite festival festvox-kallpc16k festvox-us-slt-hts; do
    installed "$voice" || needed+=("$voice")
  done
fi
# The pipeline-metrics push test runs a real Pushgateway (tests/monitoring).
if command -v dpkg-query >/dev/null 2>&1; then
  installed prometheus-pushgateway || needed+=(prometheus-pushgateway)
fi
# docker-compose (1.29): tests/deploy runs `docker-compose config` on deploy/compose offline.
if command -v dpkg-query >/dev/null 2>&1; then
  installed docker-compose || needed+=(docker-compose)
fi
# Optional packages a make target asks for by name (make screenshots: chromium).
for extra in "$@"; do
  installed "$extra" || needed+=("$extra")
done
if [ ${#needed[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
  echo "install_system_deps: missing ${needed[*]} and not root: install them with apt-get" >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install_system_deps: installing ${needed[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${needed[@]}" >/dev/null
# Only the binaries are wanted: where systemd runs, the packages start daemons on :9090,
# :9093 and :9091 that would outlive the tests (which start their own on free ports).
daemons=()
for package in prometheus prometheus-alertmanager prometheus-pushgateway; do
  if [[ " ${needed[*]} " == *" $package "* ]]; then daemons+=("$package"); fi
done
if [ ${#daemons[@]} -gt 0 ] && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now "${daemons[@]}" >/dev/null 2>&1 || true
fi
