/** The profile card's strings, English and Dutch (SPEC §3: `lang`). */
const STRINGS = {
  en: {
    loading: "Loading profile…",
    error: "The profile could not be loaded.",
    denied: "You are not allowed to see this profile.",
    expired:
      "This card's link has expired or is not valid. Open the profile again from your tool to get a new one.",
    notFound: "No profile found for",
    empty: "Nothing is known about this person yet.",
    identities: "Identities",
    attributes: "Attributes",
    segments: "Segments",
    events: "Recent activity",
    noEvents: "No activity yet.",
    from: "From",
    at: "at",
    computedFrom: "Computed from",
    eventsCounted: "events",
    consent: "Consent",
    consentGranted: "granted",
    consentDenied: "denied",
    byDefault: "by default",
    retry: "Try again",
  },
  nl: {
    loading: "Profiel laden…",
    error: "Het profiel kon niet worden geladen.",
    denied: "Je mag dit profiel niet bekijken.",
    expired:
      "De link van deze kaart is verlopen of ongeldig. Open het profiel opnieuw vanuit je eigen systeem voor een nieuwe.",
    notFound: "Geen profiel gevonden voor",
    empty: "Er is nog niets bekend over deze persoon.",
    identities: "Identiteiten",
    attributes: "Kenmerken",
    segments: "Segmenten",
    events: "Recente activiteit",
    noEvents: "Nog geen activiteit.",
    from: "Bron",
    at: "op",
    computedFrom: "Berekend uit",
    eventsCounted: "gebeurtenissen",
    consent: "Toestemming",
    consentGranted: "gegeven",
    consentDenied: "geweigerd",
    byDefault: "standaard",
    retry: "Opnieuw",
  },
} as const;

export type Strings = Record<keyof (typeof STRINGS)["en"], string>;

/** Strings for the element's language: its own `lang`, else the closest ancestor's, else English. */
export function stringsFor(element: Element): Strings {
  return langOf(element).slice(0, 2).toLowerCase() === "nl" ? STRINGS.nl : STRINGS.en;
}

/** The element's language tag: its own `lang`, else the closest ancestor's, else English. */
export const langOf = (element: Element): string =>
  element.closest("[lang]")?.getAttribute("lang") ?? "en";

export function formatTime(iso: string, element: Element): string {
  const lang = langOf(element);
  try {
    return new Date(iso).toLocaleString(lang, { dateStyle: "medium", timeStyle: "short" });
  } catch {
    return iso;
  }
}
