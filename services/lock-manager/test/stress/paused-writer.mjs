// The paused client of the fencing test, a process of its own so the test can SIGSTOP it.
// Plain ESM JavaScript: Node 20 cannot run .ts, and Jest transpiles only in its own process.
//
// Acquires CONCERN with TTL_MS from the lock-manager at LOCK_MANAGER_ADDR, prints
// {"event":"leased",...} on stdout, then for every stdin line "write <value>" POSTs the value
// with its (possibly stale) lease and token to FENCED_STORE_URL and prints
// {"event":"wrote","status":…,"verdict":…}. It never re-checks its lease: it believes it still
// holds it, as a client that was paused does. Exits when stdin closes.
import { createInterface } from 'node:readline';
import { credentials } from '@grpc/grpc-js';
import { LockServiceClient } from '@maestro/contracts';

function required(name) {
  const value = process.env[name];
  if (value === undefined || value === '') {
    process.stderr.write(`paused-writer: ${name} must be set\n`);
    process.exit(2);
  }
  return value;
}

const address = required('LOCK_MANAGER_ADDR');
const storeUrl = required('FENCED_STORE_URL');
const concern = required('CONCERN');
const owner = required('OWNER');
const ttlMs = Number(required('TTL_MS'));

const print = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);

const client = new LockServiceClient(address, credentials.createInsecure());
const lease = await new Promise((resolve, reject) => {
  const request = { owner, concerns: [concern], sharedConcerns: [], ttlMs, waitMs: 0 };
  client.acquire(request, { deadline: new Date(Date.now() + 10_000) }, (err, reply) => (err ? reject(err) : resolve(reply)));
}).catch((err) => {
  process.stderr.write(`paused-writer: acquire failed: ${err.message}\n`);
  process.exit(1);
});
client.close();
print({ event: 'leased', leaseId: lease.leaseId, fencingToken: lease.fencingToken });

for await (const line of createInterface({ input: process.stdin })) {
  const match = /^write (.*)$/.exec(line);
  if (match === null) continue;
  const response = await fetch(storeUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ leaseId: lease.leaseId, fencingToken: lease.fencingToken, value: match[1] }),
  });
  print({ event: 'wrote', value: match[1], status: response.status, verdict: await response.json() });
}
