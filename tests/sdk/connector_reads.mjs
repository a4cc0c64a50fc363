// What the connector reads, through EPCC's own JavaScript SDK: node connector_reads.mjs <base URL>
// with EPCC_CLIENT_ID and EPCC_CLIENT_SECRET in the environment. Prints one JSON object.
import { gateway, MemoryStorageFactory } from "@elasticpath/js-sdk";

const base = new URL(process.argv[2]);
const sdk = gateway({
  client_id: process.env.EPCC_CLIENT_ID,
  client_secret: process.env.EPCC_CLIENT_SECRET,
  host: base.host,
  protocol: base.protocol.replace(":", ""),
  storage: new MemoryStorageFactory(),
});

const oldest = await sdk.Orders.Sort("updated_at").Limit(3).All();
const since = oldest.data[2].meta.timestamps.updated_at;
const changed = await sdk.Orders.Filter({ ge: { updated_at: since } }).Sort("updated_at").Limit(2).All();
const newest = await sdk.Orders.Sort("-updated_at").Limit(1).All();
const promotions = await sdk.RulePromotions.All();
const codes = await sdk.RulePromotions.Codes(promotions.data[0].id);
console.log(
  JSON.stringify({
    oldest: oldest.data.map((o) => o.id),
    changed: changed.data.map((o) => o.id),
    changed_total: changed.meta.results.total,
    newest: newest.data.map((o) => o.id),
    promotions: promotions.data.map((p) => [p.id, p.type, p.name]),
    codes: codes.data.map((c) => c.code),
  }),
);
