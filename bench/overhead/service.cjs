// The work of one request of the benchmark service (bench/overhead/server.cjs): look up
// a customer profile in a bounded LRU (old-generation data that stays flat), build ~40
// orders with their items, JSON.stringify the lot (~7.5 kB; ~25 kB allocated).
"use strict";

const STATUSES = ["pending", "paid", "shipped", "delivered", "cancelled"];
const SKUS = Array.from({ length: 500 }, (_, i) => `SKU-${(i * 7919).toString(36).toUpperCase()}`);

// A bounded LRU of per-customer profiles: old-generation data that stays flat.
const profiles = new Map();
function profile(customer) {
  let p = profiles.get(customer);
  if (p) {
    profiles.delete(customer);
  } else {
    p = { id: customer, name: `Customer ${customer}`, tier: customer % 3 === 0 ? "gold" : "standard", since: 1_600_000_000_000 + customer * 86_400_000 };
  }
  profiles.set(customer, p);
  if (profiles.size > 5000) profiles.delete(profiles.keys().next().value);
  return p;
}

function orders(customer, count) {
  const list = [];
  for (let i = 0; i < count; i++) {
    const n = customer * 131 + i * 17;
    const items = [];
    for (let k = 0; k < 1 + (n % 3); k++) {
      const sku = SKUS[(n + k * 31) % SKUS.length];
      items.push({ sku, qty: 1 + ((n + k) % 4), price: Math.round(((n * 37 + k * 11) % 10_000) / 3) / 100 });
    }
    list.push({
      id: `ord_${customer}_${i}`,
      status: STATUSES[n % STATUSES.length],
      createdAt: new Date(1_700_000_000_000 + n * 60_000).toISOString(),
      items,
      total: items.reduce((s, it) => s + it.qty * it.price, 0).toFixed(2),
    });
  }
  return list;
}

/** The JSON body for `customer` (a random one when not given). */
function respond(customer) {
  const c = customer || Math.floor(Math.random() * 20_000);
  return JSON.stringify({ customer: profile(c), orders: orders(c, 40) });
}

module.exports = { respond };
