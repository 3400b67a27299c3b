/**
 * Computed attributes' plain shapes (SPEC §7): a definition as stored and as the writer
 * applies it, the per-identity states, and what a computed fragment keeps. Types only, at
 * the bottom of the layers.
 */
import type { Aggregate, ComputedFilter } from "../../shared/schemas/computed";
import type { Rule } from "../../shared/schemas/segments";

/** What a definition stores (the body without its name). */
export interface StoredDefinition {
  aggregate: Aggregate;
  field?: string;
  filter?: ComputedFilter;
  within?: string;
}

export interface ComputedDef {
  id: string;
  name: string;
  aggregate: Aggregate;
  /** `data.<path>`, split: ["data", …]. */
  field?: string[];
  filter?: { type?: string[]; where?: Rule[] };
  /** Rolling window in ms. */
  withinMs?: number;
  /** Changes with every PUT: states of another version are not this definition's. */
  version: number;
}

/** What one identity's events gave one definition. Short keys: one JSON object per identity row. */
export interface State {
  /** Definition version. */
  v: number;
  /** Events counted. */
  n: number;
  /** sum / avg: the sum. */
  s?: number;
  lo?: number;
  hi?: number;
  /** first / last: [at, value]. */
  f?: [number, unknown];
  l?: [number, unknown];
  /** mostFrequent / distinctCount: value (`valueKey`) → how often. */
  m?: Record<string, number>;
  /** Windows: the oldest counted event's time (when the value next changes without new data). */
  o?: number;
}

export type IdentityStates = Record<string, State>;

export interface ComputedMeta {
  /** This identity's states. */
  s?: IdentityStates;
  /** When its rolling windows next drop an event. */
  r?: number;
}
