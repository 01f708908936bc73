#!/usr/bin/env bash
# The one command that runs Chive's tests (the README's test command; .ci/run calls it):
# installs what is missing, starts PostgreSQL/Redis/RabbitMQ on loopback, builds, runs every test, stops the servers.
# Extra arguments go to `dotnet test` (e.g. --filter "FullyQualifiedName~HealthTests").
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
state=${CHIVE_TEST_STATE:-$repo/.test-state}
export CHIVE_TEST_STATE=$state
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
stamp() { printf '[test] %s %s\n' "$(date +%T)" "$*" >&2; }

stamp "installing test dependencies"
scripts/install-test-deps.sh

stamp "starting test servers"
trap 'scripts/test-services.sh stop' EXIT
scripts/test-services.sh start
# shellcheck source=/dev/null
source "$state/env"

stamp "building"
dotnet build Chive.sln -c Release -warnaserror -nologo -clp:ErrorsOnly

stamp "testing"
results=$state/results
rm -rf "$results"
set +e
dotnet test Chive.sln -c Release --no-build --logger "trx;LogFilePrefix=chive" --logger "console;verbosity=normal" \
  --results-directory "$results" "$@"
status=$?
set -e

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
stamp "done (dotnet test exit code $status)"
exit $status
