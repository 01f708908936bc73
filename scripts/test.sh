#!/usr/bin/env bash
# The one command that runs all of Chive's tests (the README's test command; .ci/run calls it):
#   1. builds the solution;
#   2. runs Chive.UnitTests — before anything is installed or started, so they prove they need only the .NET SDK;
#   3. installs what is missing, starts PostgreSQL/Redis/RabbitMQ on loopback (the atproto test network is started
#      by the tests themselves), runs Chive.Tests (integration) and stops the servers.
# Extra arguments go to both `dotnet test` runs (e.g. --filter "FullyQualifiedName~HealthTests").
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
state=${CHIVE_TEST_STATE:-$repo/.test-state}
export CHIVE_TEST_STATE=$state
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
stamp() { printf '[test] %s %s\n' "$(date +%T)" "$*" >&2; }
results=$state/results
rm -rf "$results"
mkdir -p "$state"

stamp "building"
dotnet build Chive.sln -c Release -warnaserror -nologo -clp:ErrorsOnly

run_tests() { # project, extra arguments...
  local project=$1; shift
  dotnet test "$project" -c Release --no-build --logger "trx;LogFilePrefix=$(basename "$project" .csproj)" \
    --logger "console;verbosity=normal" --results-directory "$results" "$@"
}

status=0
stamp "unit tests (no servers)"
run_tests Chive.UnitTests/Chive.UnitTests.csproj "$@" || status=$?

stamp "installing test dependencies"
scripts/install-test-deps.sh

stamp "starting test servers"
trap 'scripts/test-services.sh stop' EXIT
scripts/test-services.sh start
# shellcheck source=/dev/null
source "$state/env"

stamp "integration tests (real servers, atproto test network)"
run_tests Chive.Tests/Chive.Tests.csproj "$@" || status=$?

# One plain closing line for any reader: "N passed, N failed, N skipped", summed over every TRX file.
python3 - "$results" <<'PY' || true
import sys, glob, xml.etree.ElementTree as ET
ns = {'t': 'http://microsoft.com/schemas/VisualStudio/TeamTest/2010'}
passed = failed = skipped = 0
for path in glob.glob(sys.argv[1] + '/*.trx'):
    c = ET.parse(path).getroot().find('t:ResultSummary/t:Counters', ns)
    if c is None:
        continue
    passed += int(c.get('passed', 0)); failed += int(c.get('failed', 0)) + int(c.get('error', 0)) + int(c.get('timeout', 0))
    skipped += int(c.get('notExecuted', 0))
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
stamp "done (exit code $status)"
exit $status
