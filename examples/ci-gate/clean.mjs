// The same work as leaky.mjs without the leak: the cache keeps the 50 most recent records.
// `mw check` passes it (see docs/ci-gate.md).
const seen = new Map();
const KEEP = 50;

export default async function handleRequest(i) {
  const record = { id: `req-${i}`, at: Date.now(), payload: Array.from({ length: 256 }, (_, k) => i + k) };
  seen.set(record.id, record);
  if (seen.size > KEEP) seen.delete(seen.keys().next().value);
  await Promise.resolve();
}
