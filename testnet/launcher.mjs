// Starts the reference atproto PLC directory (on PostgreSQL when CHIVE_TESTNET_PLC_POSTGRES is set) and one or more PDSes (the real server code, from @atproto/dev-env) on
// random localhost ports, for Chive's tests. Protocol (one JSON object per line; every line the launcher writes for
// its caller on stdout starts with "@@chive "; everything else, including the servers' own logs, goes to stderr):
//
//   started with: node launcher.mjs [--pds N]           -> @@chive {"ready":true,"plc":URL,"pds":[URL,...]}
//   stdin {"id":1,"op":"addPds"}                         -> @@chive {"id":1,"ok":true,"url":URL,"index":N}
//   stdin {"id":2,"op":"seed","pds":0,"endpoint":URL?,"accounts":[{"handle":"alice.test","records":[{"collection":NSID,"rkey":?,"value":{...}}]}]}
//                                                        -> @@chive {"id":2,"ok":true,"accounts":[{"did","handle","accessJwt","records":[{"uri","cid"}]}]}
//   stdin {"id":3,"op":"setPds","pds":0,"did":DID,"endpoint":URL}
//                                                        -> @@chive {"id":3,"ok":true}
//
// "endpoint" rewrites the PDS service of the accounts' DID documents on the PLC (signed with the PDS's own rotation
// key, as the PDS itself would): a test proxy in front of the PDS, or a hostile server, becomes the PDS the DID
// document names.
//   stdin closed, SIGINT or SIGTERM                      -> servers closed, exit 0
//
// Seeding uses the PDS's own XRPC (createAccount, applyWrites with validate:false, since the PDS does not know the
// pub.chive.* lexicons): exactly what a real user's client would do.
import { createInterface } from 'node:readline';
import { TestNetworkNoAppView, TestPds } from '@atproto/dev-env';
import { Database as PlcDatabase } from '@did-plc/server';

const say = (obj) => process.stdout.write('@@chive ' + JSON.stringify(obj) + '\n');
const log = (...args) => console.error('[testnet]', ...args);

const pdsCountArg = process.argv.indexOf('--pds');
const initialPdsCount = pdsCountArg > 0 ? Number(process.argv[pdsCountArg + 1]) : 1;

// CHIVE_TESTNET_PLC_POSTGRES (a postgresql:// URL): the PLC directory keeps its operations in PostgreSQL, as
// plc.directory does, instead of dev-env's in-memory mock, whose /export always answers nothing.
let plcDb;
if (process.env.CHIVE_TESTNET_PLC_POSTGRES) {
  plcDb = PlcDatabase.postgres({ url: process.env.CHIVE_TESTNET_PLC_POSTGRES });
  await plcDb.migrateToLatestOrThrow();
}
const network = await TestNetworkNoAppView.create(plcDb ? { plc: { db: plcDb } } : {});
const pdses = [network.pds];
for (let i = 1; i < initialPdsCount; i++) {
  pdses.push(await TestPds.create({ didPlcUrl: network.plc.url }));
}

let closing = false;
async function shutdown(code) {
  if (closing) return;
  closing = true;
  try {
    for (const pds of pdses.slice(1)) await pds.close();
    await network.close();
  } catch (err) {
    log('error while closing', err);
  }
  process.exit(code);
}
process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));

async function xrpc(pdsUrl, nsid, body, token) {
  const res = await fetch(`${pdsUrl}/xrpc/${nsid}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${nsid} -> HTTP ${res.status}: ${text}`);
  return text ? JSON.parse(text) : {};
}

async function setPds({ pds = 0, did, endpoint }) {
  const server = pdses[pds];
  if (!server) throw new Error(`no PDS with index ${pds}`);
  await server.ctx.plcClient.updatePds(did, server.ctx.plcRotationKey, endpoint);
  return {};
}

async function seed({ pds = 0, accounts = [], endpoint }) {
  const pdsUrl = pdses[pds]?.url;
  if (!pdsUrl) throw new Error(`no PDS with index ${pds}`);
  const out = [];
  for (const account of accounts) {
    const handle = account.handle;
    const created = await xrpc(pdsUrl, 'com.atproto.server.createAccount', {
      handle,
      email: `${handle.replace(/[^a-z0-9]/gi, '-')}@example.test`,
      password: account.password ?? 'hunter2-password',
    });
    const records = [];
    const pending = account.records ?? [];
    for (let i = 0; i < pending.length; i += 100) {
      const writes = pending.slice(i, i + 100).map((r) => ({
        $type: 'com.atproto.repo.applyWrites#create',
        collection: r.collection,
        ...(r.rkey ? { rkey: r.rkey } : {}),
        value: r.value,
      }));
      const result = await xrpc(pdsUrl, 'com.atproto.repo.applyWrites', { repo: created.did, validate: false, writes }, created.accessJwt);
      for (const r of result.results ?? []) records.push({ uri: r.uri, cid: r.cid });
    }
    if (endpoint) await setPds({ pds, did: created.did, endpoint });
    out.push({ did: created.did, handle: created.handle, accessJwt: created.accessJwt, records });
  }
  return { accounts: out };
}

const handlers = {
  async addPds() {
    const pds = await TestPds.create({ didPlcUrl: network.plc.url });
    pdses.push(pds);
    return { url: pds.url, index: pdses.length - 1 };
  },
  seed,
  setPds,
};

say({ ready: true, plc: network.plc.url, pds: pdses.map((p) => p.url) });

const inFlight = new Set();
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const work = handle(line).finally(() => inFlight.delete(work));
  inFlight.add(work);
});
// Finish what was asked before closing, so a caller may write its last request and close stdin at once.
lines.on('close', async () => {
  await Promise.allSettled([...inFlight]);
  await shutdown(0);
});

async function handle(line) {
  if (!line.trim()) return;
  let request;
  try {
    request = JSON.parse(line);
  } catch {
    say({ ok: false, error: `not JSON: ${line.slice(0, 200)}` });
    return;
  }
  const handler = handlers[request.op];
  if (!handler) {
    say({ id: request.id, ok: false, error: `unknown op '${request.op}'` });
    return;
  }
  try {
    say({ id: request.id, ok: true, ...(await handler(request)) });
  } catch (err) {
    say({ id: request.id, ok: false, error: String(err?.message ?? err) });
  }
}
