#!/usr/bin/env bash
# Chive's benchmarks (the README's bench command): installs what is missing, starts the test servers, builds in
# Release and runs one benchmark, which prints a table. Usage: scripts/bench.sh pds-scan [options]
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
state=${CHIVE_TEST_STATE:-$repo/.test-state}
export CHIVE_TEST_STATE=$state
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

scripts/install-test-deps.sh
trap 'scripts/test-services.sh stop' EXIT
scripts/test-services.sh start
# shellcheck source=/dev/null
source "$state/env"

dotnet build Chive.Bench -c Release -warnaserror -nologo -clp:ErrorsOnly
dotnet run --project Chive.Bench -c Release --no-build -- "$@"
