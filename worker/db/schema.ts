/**
 * The D1 schema for all of Tessera (SPEC §1–§2). Edit here, then `npm run db:generate`
 * writes the next SQL migration into `migrations/`; never edit an applied migration.
 *
 * Design notes:
 * - Times are integer milliseconds since the epoch (indexable, cheap to compare); the API
 *   converts to ISO-8601 at the edge.
 * - Fragments and events hang off an *identity*, not a profile. A profile is just the set
 *   of identities that currently carry its `profile_id`, so a split or move re-points
 *   identities and every fragment and event follows its own identity for free.
 * - JSON columns hold attribute trees, rules and lists; they are parsed in code, never
 *   queried by path except where an index says otherwise.
 */
import { sql } from "drizzle-orm";
import {
  index,
  integer,
  primaryKey,
  real,
  sqliteTable,
  text,
  uniqueIndex,
} from "drizzle-orm/sqlite-core";

const timestamps = {
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
};

/** Kinds of identifier (`email`, `crm`, …) and how values of each are treated. */
export const namespaces = sqliteTable("namespaces", {
  code: text("code").primaryKey(),
  description: text("description"),
  /** email | phone | lowercase | trim | none */
  normalize: text("normalize").notNull().default("trim"),
  unique: integer("is_unique", { mode: "boolean" }).notNull().default(false),
  priority: integer("priority").notNull().default(0),
  /** At most this many identities of the namespace in one graph; null = only maxIdentities. */
  maxPerGraph: integer("max_per_graph"),
  /** Extra blocked values (exact strings or `/regex/`), on top of the built-in defaults. */
  blockedValues: text("blocked_values", { mode: "json" })
    .$type<string[]>()
    .notNull()
    .default(sql`'[]'`),
  builtIn: integer("built_in", { mode: "boolean" }).notNull().default(false),
  /** Identifiers that name a browser or device, not a person: profiles with only these expire (retention). */
  pseudonymous: integer("pseudonymous", { mode: "boolean" }).notNull().default(false),
  ...timestamps,
});

/** Key/value settings: maxIdentities, phone default region, personalization allow-list… */
export const settings = sqliteTable("settings", {
  key: text("key").primaryKey(),
  value: text("value", { mode: "json" }).notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/** One person (= one identity graph). Rows exist only while the graph has identities. */
export const profiles = sqliteTable(
  "profiles",
  {
    id: text("id").primaryKey(),
    primaryNamespace: text("primary_namespace").notNull(),
    primaryValue: text("primary_value").notNull(),
    /** Derived from name attributes, else the primary identity (name search uses profile_terms). */
    displayName: text("display_name"),
    identityCount: integer("identity_count").notNull().default(1),
    /** The namespaces of its identities, sorted and comma-separated (the dashboard's overlap counts). */
    namespaces: text("namespaces").notNull().default(""),
    ...timestamps,
  },
  (t) => [
    index("profiles_updated_idx").on(t.updatedAt, t.id),
    index("profiles_created_idx").on(t.createdAt),
  ],
);

/**
 * Name words of a profile for the viewer's prefix search (`q=gree` finds "John Greene"):
 * each word and the whole name, lower-cased and without accents.
 */
export const profileTerms = sqliteTable(
  "profile_terms",
  {
    term: text("term").notNull(),
    profileId: text("profile_id").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.term, t.profileId] }),
    index("profile_terms_profile_idx").on(t.profileId),
  ],
);

/** A normalized identifier, and the profile (graph) it currently belongs to. */
export const identities = sqliteTable(
  "identities",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    namespace: text("namespace").notNull(),
    value: text("value").notNull(),
    profileId: text("profile_id").notNull(),
    firstSeen: integer("first_seen").notNull(),
    lastSeen: integer("last_seen").notNull(),
  },
  (t) => [
    uniqueIndex("identities_ns_value_uq").on(t.namespace, t.value),
    index("identities_profile_idx").on(t.profileId),
    // Case-insensitive prefix search on values for the profile viewer.
    index("identities_value_nocase_idx").on(sql`${t.value} COLLATE NOCASE`),
  ],
);

/**
 * A link between two identities seen together (stored once per pair, `a_id < b_id`).
 * `applied = 0` keeps a link on record that a cap did not let join the graph.
 */
export const links = sqliteTable(
  "links",
  {
    aId: integer("a_id").notNull(),
    bId: integer("b_id").notNull(),
    /** The dataset whose item first made the link. */
    dataset: text("dataset").notNull(),
    firstSeen: integer("first_seen").notNull(),
    lastSeen: integer("last_seen").notNull(),
    applied: integer("applied", { mode: "boolean" }).notNull().default(true),
  },
  (t) => [primaryKey({ columns: [t.aId, t.bId] }), index("links_b_idx").on(t.bId)],
);

/** Every merge, split, move, eviction and delete of the identity graph (rule 5). */
export const graphHistory = sqliteTable(
  "graph_history",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    at: integer("at").notNull(),
    /** merge | split | move | evict | delete */
    kind: text("kind").notNull(),
    /** What caused it: ingest, identity delete, link delete, erase. */
    cause: text("cause").notNull(),
    identities: text("identities", { mode: "json" }).$type<string[]>().notNull(),
    profiles: text("profiles", { mode: "json" }).$type<string[]>().notNull(),
  },
  (t) => [index("graph_history_at_idx").on(t.at)],
);

/** Which profiles a history entry concerns, so a graph's history is an indexed lookup. */
export const graphHistoryProfiles = sqliteTable(
  "graph_history_profiles",
  {
    historyId: integer("history_id").notNull(),
    profileId: text("profile_id").notNull(),
  },
  (t) => [primaryKey({ columns: [t.profileId, t.historyId] })],
);

/** A named source of data (`records` or `events`), optionally with a JSON Schema. */
export const datasets = sqliteTable("datasets", {
  name: text("name").primaryKey(),
  kind: text("kind").notNull(),
  description: text("description"),
  schema: text("schema", { mode: "json" }).$type<Record<string, unknown>>(),
  /** Events older than this many days (by their timestamp) are removed by retention. */
  ttlDays: integer("ttl_days"),
  ...timestamps,
});

/** The attributes one records dataset holds for one identity. */
export const fragments = sqliteTable(
  "fragments",
  {
    dataset: text("dataset").notNull(),
    identityId: integer("identity_id").notNull(),
    attributes: text("attributes", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    /** The item timestamp of the latest write (what `timestamp` merge policies compare). */
    updatedAt: integer("updated_at").notNull(),
    /**
     * Dataset `computed` only: what the computed attributes have counted of this identity's
     * events (its states), and on the profile's primary identity the name and event count of
     * each value (the provenance a lookup shows).
     */
    meta: text("meta", { mode: "json" }).$type<Record<string, unknown>>(),
  },
  (t) => [
    // Keyed by identity first: lookups by identity need no second index (WITHOUT ROWID, migration 0013).
    primaryKey({ columns: [t.identityId, t.dataset] }),
    // Search by a computed value walks the computed fragments only; an update never touches it.
    index("fragments_computed_idx").on(t.identityId).where(sql`${t.dataset} = 'computed'`),
  ],
);

/**
 * Exact-value index of attribute leaves for `attr.<path>=` search. Rewritten with the
 * fragment it comes from; a profile matches when any of its identities' fragments does.
 */
export const attributeIndex = sqliteTable(
  "attribute_index",
  {
    path: text("path").notNull(),
    value: text("value").notNull(),
    identityId: integer("identity_id").notNull(),
    dataset: text("dataset").notNull(),
  },
  // No second index: rows are removed by recomputing their keys (db/queries/attribute-index.ts).
  (t) => [primaryKey({ columns: [t.path, t.value, t.identityId, t.dataset] })],
);

/** Experience events; `id` is the idempotency key. */
export const events = sqliteTable(
  "events",
  {
    id: text("id").primaryKey(),
    type: text("type").notNull(),
    at: integer("at").notNull(),
    dataset: text("dataset").notNull(),
    /** The event's highest-priority identity: the event follows it through splits. */
    identityId: integer("identity_id").notNull(),
    data: text("data", { mode: "json" }).$type<Record<string, unknown>>(),
    receivedAt: integer("received_at").notNull(),
  },
  (t) => [
    index("events_identity_at_idx").on(t.identityId, t.at),
    // Covers what attribution reads of every conversion (the row only when it has touchpoints).
    index("events_type_at_identity_idx").on(t.type, t.at, t.identityId),
  ],
);

/** Named merge policies; exactly one has `is_default = 1`. */
export const mergePolicies = sqliteTable("merge_policies", {
  name: text("name").primaryKey(),
  type: text("type").notNull(),
  datasets: text("datasets", { mode: "json" }).$type<string[]>().notNull().default(sql`'[]'`),
  idStitching: text("id_stitching").notNull().default("graph"),
  isDefault: integer("is_default", { mode: "boolean" }).notNull().default(false),
  ...timestamps,
});

export const segments = sqliteTable("segments", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  rule: text("rule", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
  public: integer("public", { mode: "boolean" }).notNull().default(false),
  /** Background evaluation after create/change: ready | evaluating */
  status: text("status").notNull().default("ready"),
  evaluatedProfiles: integer("evaluated_profiles").notNull().default(0),
  /** The last profile id the background evaluation finished: where a stalled run resumes. */
  evaluateAfter: text("evaluate_after"),
  /** Bumped on every change so stale background work can tell it is stale. */
  version: integer("version").notNull().default(1),
  ...timestamps,
});

/** Computed attribute definitions (SPEC §7); the writer keeps each profile's values current. */
export const computedAttributes = sqliteTable("computed_attributes", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  /** The definition as stored: { aggregate, field?, filter?, within? }. */
  definition: text("definition", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
  /** Background computation after create/change: backfilling | ready */
  status: text("status").notNull().default("backfilling"),
  /** Identities the background computation has finished, and the last one (where it resumes). */
  computedIdentities: integer("computed_identities").notNull().default(0),
  computeAfter: integer("compute_after").notNull().default(0),
  /** Bumped on every change so stale background work, and stale per-identity state, can tell. */
  version: integer("version").notNull().default(1),
  ...timestamps,
});

/**
 * When an identity's rolling-window computed attributes next drop an event (SPEC §7): the
 * cron's recheck list. Written only when that time changes (a first event, a recheck),
 * not with every event.
 */
export const computedRechecks = sqliteTable(
  "computed_rechecks",
  {
    identityId: integer("identity_id").primaryKey(),
    recheckAt: integer("recheck_at").notNull(),
  },
  (t) => [index("computed_rechecks_at_idx").on(t.recheckAt)],
);

/**
 * Consent choices (SPEC §8), one row per choice: a revocation is a new row, never an
 * overwrite, so the history shows when and from where each change came. An identity's
 * current choice for a purpose is its newest row.
 */
export const consentRecords = sqliteTable(
  "consent_records",
  {
    identityId: integer("identity_id").notNull(),
    purpose: text("purpose").notNull(),
    /** When the choice was made (the call's timestamp). */
    at: integer("at").notNull(),
    status: text("status").notNull(),
    source: text("source").notNull(),
    recordedAt: integer("recorded_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.identityId, t.purpose, t.at, t.recordedAt] })],
);

/**
 * A configuration change applied to existing graphs, or reverted (SPEC §9): rule 3 again
 * over every graph in scope, in background slices; progress is recorded with each slice.
 */
export const graphRuns = sqliteTable("graph_runs", {
  id: text("id").primaryKey(),
  /** apply | revert */
  kind: text("kind").notNull(),
  /** running | completed */
  status: text("status").notNull(),
  /** What changed: { target: "namespace" | "graph", code?, previous, next }. */
  change: text("change", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
  /** The graphs it walks ({ namespace? }) and values newly blocked ({ <namespace>: [...] }). */
  scope: text("scope", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
  blocked: text("blocked", { mode: "json" }).$type<Record<string, string[]>>().notNull(),
  /** The last profile id a slice finished: where the next one (or a resumed run) starts. */
  after: text("after").notNull().default(""),
  graphsChecked: integer("graphs_checked").notNull().default(0),
  merges: integer("merges").notNull().default(0),
  splits: integer("splits").notNull().default(0),
  moves: integer("moves").notNull().default(0),
  evictions: integer("evictions").notNull().default(0),
  /** The run this one reverts. */
  reverts: text("reverts"),
  ...timestamps,
});

export const memberships = sqliteTable(
  "memberships",
  {
    segmentId: text("segment_id").notNull(),
    profileId: text("profile_id").notNull(),
    /** realized | exited */
    status: text("status").notNull(),
    since: integer("since").notNull(),
    /** When a time-window condition can next change the outcome without new data. */
    recheckAt: integer("recheck_at"),
  },
  (t) => [
    primaryKey({ columns: [t.segmentId, t.profileId] }),
    index("memberships_profile_idx").on(t.profileId),
    index("memberships_segment_status_idx").on(t.segmentId, t.status, t.profileId),
    index("memberships_recheck_idx").on(t.recheckAt),
  ],
);

/** API keys. Only the SHA-256 of a key is stored; the key itself is shown once. */
export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    /** secret | public */
    kind: text("kind").notNull(),
    keyHash: text("key_hash").notNull(),
    /** First characters of the key, to recognise it in lists (`sk_3fQ…`). */
    keyPrefix: text("key_prefix").notNull(),
    scopes: text("scopes", { mode: "json" }).$type<string[]>().notNull(),
    origins: text("origins", { mode: "json" }).$type<string[]>().notNull().default(sql`'[]'`),
    /** Tracking API mapping: `{ userIdNamespace, dataset }` (defaults `crm`, `default`). */
    tracking: text("tracking", { mode: "json" }).$type<{
      userIdNamespace?: string;
      dataset?: string;
    }>(),
    createdAt: integer("created_at").notNull(),
    lastUsedAt: integer("last_used_at"),
  },
  (t) => [uniqueIndex("api_keys_hash_uq").on(t.keyHash)],
);

/** Every profile read by a secret key or token (SPEC: audit). */
export const auditLog = sqliteTable(
  "audit_log",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    at: integer("at").notNull(),
    keyId: text("key_id").notNull(),
    action: text("action").notNull(),
    profileId: text("profile_id"),
    fields: text("fields", { mode: "json" }).$type<string[]>().notNull().default(sql`'[]'`),
  },
  (t) => [index("audit_log_key_idx").on(t.keyId, t.at)],
);

/** Erased identities, as salted hashes only; items carrying one are rejected. */
export const suppressions = sqliteTable("suppressions", {
  hash: text("hash").primaryKey(),
  namespace: text("namespace").notNull(),
  profileId: text("profile_id"),
  createdAt: integer("created_at").notNull(),
});

/** Uploaded batch files (bodies live in R2) and their progress. */
export const batches = sqliteTable("batches", {
  id: text("id").primaryKey(),
  dataset: text("dataset").notNull(),
  format: text("format").notNull(),
  /** queued | processing | completed | failed */
  status: text("status").notNull(),
  objectKey: text("object_key").notNull(),
  bytes: integer("bytes").notNull().default(0),
  /** CSV column names, read from the first line when processing starts. */
  header: text("header", { mode: "json" }).$type<string[]>(),
  rowsTotal: integer("rows_total").notNull().default(0),
  rowsIngested: integer("rows_ingested").notNull().default(0),
  rowsFailed: integer("rows_failed").notNull().default(0),
  error: text("error"),
  ...timestamps,
});

/** Chunks of a batch already applied: a redelivered chunk is skipped (idempotent). */
export const batchChunks = sqliteTable(
  "batch_chunks",
  {
    batchId: text("batch_id").notNull(),
    chunk: integer("chunk").notNull(),
    rows: integer("rows").notNull(),
    ingested: integer("ingested").notNull(),
    failed: integer("failed").notNull(),
    /** Where the next chunk starts: byte offset and 1-based line in the file. */
    nextOffset: integer("next_offset").notNull().default(0),
    nextLine: integer("next_line").notNull().default(1),
    final: integer("final", { mode: "boolean" }).notNull().default(false),
    doneAt: integer("done_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.batchId, t.chunk] })],
);

export const batchErrors = sqliteTable(
  "batch_errors",
  {
    batchId: text("batch_id").notNull(),
    line: integer("line").notNull(),
    error: text("error", { mode: "json" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.batchId, t.line] })],
);

/** Export destinations (credentials are Worker secrets, referenced by name only). */
export const destinations = sqliteTable("destinations", {
  name: text("name").primaryKey(),
  type: text("type").notNull(),
  config: text("config", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
  schedule: text("schedule").notNull(),
  lastRunAt: integer("last_run_at"),
  ...timestamps,
});

export const destinationRuns = sqliteTable(
  "destination_runs",
  {
    id: text("id").primaryKey(),
    destination: text("destination").notNull(),
    /** queued | running | completed | failed */
    status: text("status").notNull(),
    trigger: text("trigger").notNull(),
    profiles: integer("profiles").notNull().default(0),
    parts: text("parts", { mode: "json" }).$type<unknown[]>().notNull().default(sql`'[]'`),
    cursor: text("cursor"),
    error: text("error"),
    startedAt: integer("started_at").notNull(),
    /** Last progress: a run that stops progressing is resumed by the sweeper. */
    updatedAt: integer("updated_at"),
    finishedAt: integer("finished_at"),
    /** Rows written (profiles, events or identities, per the destination's content). */
    rows: integer("rows").notNull().default(0),
    /** The run's manifest.json key, once written. */
    manifest: text("manifest"),
  },
  (t) => [index("destination_runs_dest_idx").on(t.destination, t.startedAt)],
);

/** Retention runs (daily from the cron, or on demand): expired events and pseudonymous profiles. */
export const maintenanceRuns = sqliteTable("maintenance_runs", {
  id: text("id").primaryKey(),
  /** queued | running | completed | failed */
  status: text("status").notNull(),
  trigger: text("trigger").notNull(),
  /** Where the run is: { phase, dataset?, after?, part } */
  cursor: text("cursor", { mode: "json" }).$type<Record<string, unknown>>(),
  eventsExpired: integer("events_expired").notNull().default(0),
  eventsArchived: integer("events_archived").notNull().default(0),
  profilesExpired: integer("profiles_expired").notNull().default(0),
  /** Archive files written: [{ path, rows, bytes, sha256 }] */
  parts: text("parts", { mode: "json" }).$type<unknown[]>().notNull().default(sql`'[]'`),
  error: text("error"),
  startedAt: integer("started_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
  finishedAt: integer("finished_at"),
});

/**
 * Webhook deliveries: an outbox written in the same D1 batch as the change that caused
 * them (so a crash cannot lose one), sent by the webhooks queue consumer.
 */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    destination: text("destination").notNull(),
    type: text("type").notNull(),
    profileId: text("profile_id").notNull(),
    /** Increases with every delivery, so it increases per profile too. */
    sequence: integer("sequence").notNull(),
    /** The JSON body, exactly as sent (and signed). */
    payload: text("payload").notNull(),
    /** pending | delivered | failed (retrying) | dead */
    status: text("status").notNull(),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    nextAttemptAt: integer("next_attempt_at").notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    deliveredAt: integer("delivered_at"),
  },
  (t) => [
    index("webhook_deliveries_dest_idx").on(t.destination, t.status, t.createdAt),
    index("webhook_deliveries_due_idx").on(t.status, t.nextAttemptAt),
  ],
);

/** Data views (journey analytics): which dimensions and metrics a report may use. */
export const dataViews = sqliteTable("data_views", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  /** The validated definition: datasets, timezone, dimensions, metrics, calculated. */
  definition: text("definition", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
  ...timestamps,
});

/**
 * Event counts per UTC hour, dataset and type. Inserts add to it once per commit, grouped
 * (`eventInsertStatements`: one row write per hour, dataset and type instead of one per
 * event); a trigger on `events` takes deletes off (every delete, whatever code path makes
 * it, in the same transaction). Reports read counts from here instead of scanning events.
 */
export const eventRollups = sqliteTable(
  "event_rollups",
  {
    hour: integer("hour").notNull(),
    dataset: text("dataset").notNull(),
    type: text("type").notNull(),
    events: integer("events").notNull(),
  },
  (t) => [primaryKey({ columns: [t.hour, t.dataset, t.type] })],
);

/**
 * Sums of the numbers at the top level of events' `data` (`data.amount`, …) per UTC hour,
 * dataset, type and field, kept exact by triggers on `events` like the counts above:
 * attribution totals a conversion value over whole hours without reading every conversion.
 */
export const eventValueRollups = sqliteTable(
  "event_value_rollups",
  {
    hour: integer("hour").notNull(),
    dataset: text("dataset").notNull(),
    type: text("type").notNull(),
    field: text("field").notNull(),
    total: real("total").notNull(),
  },
  (t) => [primaryKey({ columns: [t.hour, t.dataset, t.type, t.field] })],
);

/**
 * The first event of each type per message (`message.sent` first attempts, delivered,
 * bounced, opened, clicked), kept exact by triggers on `events` like the hourly rollups:
 * message reports, the journeys view and attribution count these rows in SQL instead of
 * de-duplicating every message event of a range in the Worker. When a message's first
 * event is deleted, the next one of the same profile takes its place.
 */
export const messageFirsts = sqliteTable(
  "message_firsts",
  {
    type: text("type").notNull(),
    messageId: text("message_id").notNull(),
    firstAt: integer("first_at").notNull(),
    identityId: integer("identity_id").notNull(),
    channel: text("channel"),
    journey: text("journey"),
  },
  // Both indexes cover what reports read, so a report never looks a row up by its key.
  (t) => [
    primaryKey({ columns: [t.type, t.messageId] }),
    index("message_firsts_at_idx").on(t.firstAt, t.type, t.channel, t.journey, t.messageId),
    index("message_firsts_identity_idx").on(
      t.identityId,
      t.firstAt,
      t.type,
      t.journey,
      t.messageId,
    ),
  ],
);

/**
 * Messages per UTC hour of their first event of a type, channel and journey ('' when the
 * message names none), kept by triggers on `message_firsts`: a bounce is counted only while
 * the message has no delivery. Message reports over whole-hour zones read these.
 */
export const messageRollups = sqliteTable(
  "message_rollups",
  {
    hour: integer("hour").notNull(),
    type: text("type").notNull(),
    channel: text("channel").notNull(),
    journey: text("journey").notNull(),
    messages: integer("messages").notNull(),
  },
  (t) => [primaryKey({ columns: [t.hour, t.type, t.channel, t.journey] })],
);

/**
 * How far D1's graph tables are a projection of the GraphWriter's own SQLite (where the
 * graph's truth lives): the writer's commit log is applied here in sequence order, and
 * `applied_seq` moves in the same D1 transaction as the rows, so a replayed entry is
 * skipped and none is applied twice. One row per owner shard (`id` = shard + 1); absent
 * while D1 itself holds the truth.
 */
export const projectionState = sqliteTable("projection_state", {
  id: integer("id").primaryKey(),
  appliedSeq: integer("applied_seq").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/**
 * Cross-shard transactions D1 has applied: the coordinator writes a transaction's row in the
 * same batch as its changes, so a batch resent after a lost answer fails whole instead of
 * applying twice.
 */
export const projectedTransactions = sqliteTable("projected_transactions", {
  tx: integer("tx").primaryKey(),
  appliedAt: integer("applied_at").notNull(),
});
