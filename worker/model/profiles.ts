/** A merge policy (SPEC §4), as the merge engine and the data layer share it. */

export type MergePolicyType = "timestamp" | "dataset-precedence";

export interface MergePolicy {
  name: string;
  type: MergePolicyType;
  /** dataset-precedence: first listed wins; others follow by timestamp. */
  datasets: string[];
  idStitching: "graph" | "none";
}
