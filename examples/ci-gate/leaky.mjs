// A CI-gate example that leaks: every request's record is kept in a module-level cache that
// nothing ever evicts. `mw check` fails it (see docs/ci-gate.md).
const seen = new Map();

export default async function handleRequest(i) {
  const record = { id: `req-${i}`, at: Date.now(), payload: Array.from({ length: 256 }, (_, k) => i + k) };
  seen.set(record.id, record);
  await Promise.resolve();
}
