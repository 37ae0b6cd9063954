#!/bin/sh
# Reruns the whole benchmark suite (release builds; results in bench-results/, table in
# docs/benchmarks.md): start-up and plugin scale, storm throughput and system calls, the lab.
#
#   Benchmarks/run-all.sh
set -eu
cd "$(dirname "$0")/.."
Benchmarks/cold-list.sh 50
Benchmarks/startup.sh
Benchmarks/mce-storm.sh 100000 5
Benchmarks/lab-latency.sh 6
Benchmarks/lab-boot.sh 3
Benchmarks/lab-campaign.sh 10000
Benchmarks/consumer-latency.sh 20
Benchmarks/pipeline-latency.sh 20
# Root, openssh-server and python3-venv: the Ansible fleet.
if [ "$(id -u)" = 0 ] && [ -x /usr/sbin/sshd ]; then Benchmarks/fleet.sh; fi
