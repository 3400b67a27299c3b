/**
 * Compile-time contract checks, run by `tsc` (`npm run typecheck`, part of `npm test`):
 * every `@ts-expect-error` below must be an error, or tsc fails with "Unused
 * '@ts-expect-error' directive". If the client's types ever decayed to `any`, these
 * lines would stop being errors and the typecheck would fail.
 */
import { createClient, unwrap } from "../../client/index.js";

const tessera = createClient({ baseUrl: "http://localhost:8787", key: "sk_test" });

export async function contract() {
  // A correct event type-checks, and so does the answer's shape.
  const ok = await unwrap(
    tessera.v1.events.$post({
      query: {},
      json: {
        type: "Order Completed",
        identities: [{ namespace: "email", id: "ann@example.com" }],
      },
    }),
  );
  const accepted: number = ok.accepted;

  await tessera.v1.events.$post({
    query: {},
    // @ts-expect-error misspelled field: `typ` is not a field of an event (and `type` is missing)
    json: { typ: "Order Completed", identities: [{ namespace: "email", id: "ann@example.com" }] },
  });

  await tessera.v1.records.$post({
    query: {},
    json: {
      dataset: "crm",
      // @ts-expect-error misspelled field: `identitees`
      identitees: [{ namespace: "email", id: "ann@example.com" }],
      attributes: {},
    },
  });

  // @ts-expect-error unknown route
  await tessera.v1.evnets.$post({ json: {} });

  const profile = await unwrap(
    tessera.v1.profiles["by-identity"][":namespace"][":id"].$get({
      param: { namespace: "email", id: "ann@example.com" },
      query: {},
    }),
  );
  // @ts-expect-error a lookup answer has no `attributez`
  profile.attributez;

  // Every GET with a query takes `consistency=eventual` (SPEC §6), and only that value.
  await tessera.v1.profiles.$get({ query: { q: "ann", consistency: "eventual" } });
  // @ts-expect-error `strong` is the default, not a value to send
  await tessera.v1.profiles.$get({ query: { q: "ann", consistency: "strong" } });
  return [accepted, profile.profileId];
}
