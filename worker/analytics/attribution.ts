/**
 * Conversion attribution to journeys, as plain logic (the README defines every figure):
 *
 * - A conversion is an event of the chosen type in the report range; its value is the
 *   number at the value path (absent or not a number: 0, the conversion still counts).
 * - Its touchpoints are the journey messages of the same profile that were delivered or
 *   clicked within `window` before it (inclusive of both ends). A message is one
 *   touchpoint however many deliveries and clicks it had; its time is its first such
 *   event in the window.
 * - `first` gives the whole conversion (and value) to the earliest touchpoint's journey,
 *   `last` to the latest, `linear` 1/n to each of the n touchpoints (a journey with two of
 *   them gets 2/n). A conversion without touchpoints is unattributed.
 */
import type { Conversion, Touch } from "../model/analytics";

export type AttributionModel = "first" | "last" | "linear";

interface JourneyCredit {
  conversions: number;
  value: number;
}

interface AttributionResult {
  byJourney: Map<string, JourneyCredit>;
  conversions: number;
  attributed: number;
  unattributed: number;
  value: number;
  attributedValue: number;
}

/** Rounds away binary noise (1/3 + 1/3 + 1/3) so credits add up as they should. */
const tidy = (n: number) => Math.round(n * 1e9) / 1e9;

export function attribute(
  conversions: readonly Conversion[],
  touches: readonly Touch[],
  windowMs: number,
  model: AttributionModel,
): AttributionResult {
  const byProfile = new Map<string, Touch[]>();
  for (const t of touches) {
    let list = byProfile.get(t.profileId);
    if (!list) byProfile.set(t.profileId, (list = []));
    list.push(t);
  }
  for (const list of byProfile.values())
    list.sort((a, b) => a.at - b.at || (a.messageId < b.messageId ? -1 : 1));

  const byJourney = new Map<string, JourneyCredit>();
  const credit = (journey: string, share: number, value: number) => {
    let c = byJourney.get(journey);
    if (!c) byJourney.set(journey, (c = { conversions: 0, value: 0 }));
    c.conversions += share;
    c.value += share * value;
  };
  let attributed = 0;
  let value = 0;
  let attributedValue = 0;
  for (const conversion of conversions) {
    const amount = conversion.value ?? 0;
    value += amount;
    // The touchpoints: one per message, at its first delivery or click in the window.
    const points: Touch[] = [];
    const seen = new Set<string>();
    for (const t of byProfile.get(conversion.profileId) ?? []) {
      if (t.at < conversion.at - windowMs || t.at > conversion.at || seen.has(t.messageId))
        continue;
      seen.add(t.messageId);
      points.push(t);
    }
    if (points.length === 0) continue;
    attributed++;
    attributedValue += amount;
    if (model === "first") credit(points[0]!.journey, 1, amount);
    else if (model === "last") credit(points[points.length - 1]!.journey, 1, amount);
    else for (const p of points) credit(p.journey, 1 / points.length, amount);
  }
  for (const c of byJourney.values()) {
    c.conversions = tidy(c.conversions);
    c.value = tidy(c.value);
  }
  return {
    byJourney,
    conversions: conversions.length,
    attributed,
    unattributed: conversions.length - attributed,
    value: tidy(value),
    attributedValue: tidy(attributedValue),
  };
}
