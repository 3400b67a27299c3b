/**
 * The names of the graph's Durable Objects. Shard 0 keeps the name the one writer had
 * before shards, so a deployment that started with one writer finds its graph there.
 */
const FIRST_WRITER = "identity-graph";

export const writerName = (shard: number): string =>
  shard === 0 ? FIRST_WRITER : `shard-${shard}`;

/**
 * The shard a writer object is, from its name (`ctx.id.name`): `shard-N`, or shard 0 for any
 * other name (the first writer's, or a one-writer deployment's object a test names apart).
 */
export function shardOfName(name: string | undefined): number {
  const m = name === undefined ? null : /^shard-(\d{1,4})$/.exec(name);
  return m ? Number(m[1]) : 0;
}

export const COORDINATOR_NAME = "coordinator";
