/**
 * The visitor's consent in the browser (SPEC §8). A page tells Tessera what its cookie
 * banner decided with `tessera.setConsent({ analytics: true, marketing: false })`, or
 * Tessera reads an IAB TCF 2 CMP (`__tcfapi`) when the page has one. Choices live in the
 * first-party cookie `tessera_consent`; `tessera_consent_sent` remembers what Tessera has
 * recorded, so a choice is sent once (with the next context read), not on every page.
 * `navigator.globalPrivacyControl` is sent as `gpc=1`; the server applies it to the purposes
 * configured to follow it. Whether a page view may be sent is the server's answer
 * (`consent.analytics` in the context), so a default of `denied` sends nothing until a choice.
 */
import { readCookie, writeCookie } from "./device";

const CHOICES = "tessera_consent";
const SENT = "tessera_consent_sent";
const ONE_YEAR_SECONDS = 365 * 24 * 60 * 60;
const PAIR = /^[a-z][a-z0-9_-]{0,63}:(granted|denied)$/;

/** Fired on `document` when the page sets consent: every `<tessera-personalize>` reloads. */
export const CONSENT_EVENT = "tessera-consent";

const encode = (choices: Record<string, boolean>) =>
  Object.entries(choices)
    .filter(([purpose]) => /^[a-z][a-z0-9_-]{0,63}$/.test(purpose))
    .map(([purpose, granted]) => `${purpose}:${granted ? "granted" : "denied"}`)
    .sort()
    .join(",");

/** The choices the page made (`analytics:granted,marketing:denied`), if any. */
export function storedChoices(doc: Document = document): string | undefined {
  const value = decodeURIComponent(readCookie(CHOICES, doc) ?? "");
  return value && value.split(",").every((p) => PAIR.test(p)) ? value : undefined;
}

/** The choices Tessera has not recorded yet (to send with the next context read). */
export function unsentChoices(doc: Document = document): string | undefined {
  const choices = storedChoices(doc);
  return choices && choices !== decodeURIComponent(readCookie(SENT, doc) ?? "")
    ? choices
    : undefined;
}

/** Tessera answered a read that carried `choices`: they are recorded. */
export function choicesSent(choices: string, doc: Document = document): void {
  writeCookie(SENT, encodeURIComponent(choices), ONE_YEAR_SECONDS, doc);
}

/** `tessera.setConsent({ analytics: true, … })`: merged into the stored choices. */
export function setConsent(choices: Record<string, boolean>, doc: Document = document): void {
  const current = Object.fromEntries(
    (storedChoices(doc)?.split(",") ?? []).map((p) => [p.split(":")[0]!, p.endsWith(":granted")]),
  );
  writeCookie(
    CHOICES,
    encodeURIComponent(encode({ ...current, ...choices })),
    ONE_YEAR_SECONDS,
    doc,
  );
  doc.dispatchEvent(new Event(CONSENT_EVENT));
}

export const globalPrivacyControl = () =>
  (navigator as Navigator & { globalPrivacyControl?: boolean }).globalPrivacyControl === true;

interface TcData {
  gdprApplies?: boolean;
  eventStatus?: string;
  purpose?: { consents?: Record<string, boolean> };
}

/**
 * An IAB TCF 2 CMP on the page: its choices as Tessera purposes once the visitor has
 * answered (or the CMP loaded an earlier answer). TCF purpose 1 (store and access
 * information) with 8 (measure content performance) is `analytics`, with 5 and 6
 * (personalised content) `personalization`, with 3 and 4 (personalised ads) `marketing`.
 */
export function listenToCmp(win: Window = window): void {
  const tcfapi = (
    win as Window & {
      __tcfapi?: (
        command: string,
        version: number,
        callback: (data: TcData, ok: boolean) => void,
      ) => void;
    }
  ).__tcfapi;
  if (typeof tcfapi !== "function") return;
  tcfapi("addEventListener", 2, (data, ok) => {
    if (
      !ok ||
      data.gdprApplies === false ||
      (data.eventStatus !== "tcloaded" && data.eventStatus !== "useractioncomplete")
    )
      return;
    const c = data.purpose?.consents ?? {};
    const all = (...ids: number[]) => ids.every((id) => c[id] === true);
    setConsent(
      { analytics: all(1, 8), personalization: all(1, 5, 6), marketing: all(1, 3, 4) },
      win.document,
    );
  });
}
