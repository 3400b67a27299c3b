/** A key's tracking API mapping with its defaults (SPEC §2 Tracking API). */
const DEFAULT_USER_ID_NAMESPACE = "crm";
const DEFAULT_TRACKING_DATASET = "default";

export interface TrackingSettings {
  userIdNamespace: string;
  dataset: string;
}

export function trackingOf(
  stored: { userIdNamespace?: string; dataset?: string } | null | undefined,
): TrackingSettings {
  return {
    userIdNamespace: stored?.userIdNamespace ?? DEFAULT_USER_ID_NAMESPACE,
    dataset: stored?.dataset ?? DEFAULT_TRACKING_DATASET,
  };
}
