/**
 * What a web page (a public key) may link through the tracking API (SPEC §2 "Browsers"):
 * the presented device, and the person a valid identity token names — nothing else. A
 * page is the attacker's own code as easily as the site's, so every other identity a
 * message names (`userId` ≠ the token's subject, an alias `previousId` that is neither
 * the device nor the subject) is refused with `identity_not_verified`, and trait
 * identities (`traits.email`, `context.traits.phone`, …) never become identities: the
 * traits of an identify call are kept as plain attributes of the verified person.
 * Plain logic: the caller verifies the token and normalizes identities.
 */

import type { ItemError } from "../ingest/types";
import type { IdentityRef } from "../model/graph";
import type { MessageIdentities, MessageType } from "./messages";

/** The identities a browser message is allowed to carry, or why it is refused. */
type BrowserIdentities = { ok: true; subject?: IdentityRef } | { ok: false; error: ItemError };

interface BrowserClaim {
  kind: MessageType | undefined;
  claims: MessageIdentities;
  /** The verified token's identity, normalized; undefined when there is no valid token. */
  subject?: IdentityRef;
  /** The namespace `userId` maps to (the key's tracking setting). */
  userIdNamespace: string;
  /** Whether `id` in `namespace` normalizes to the subject. */
  isSubject: (namespace: string, id: string) => boolean;
}

const DEVICE_ONLY_KINDS: readonly (MessageType | undefined)[] = ["track", "page", "screen"];

function refuse(message: string): BrowserIdentities {
  return { ok: false, error: { code: "identity_not_verified", message } };
}

/**
 * page/track/screen with nothing but the anonymous id land on the device alone. Anything
 * that names a person needs the token, and may name only the token's person.
 */
export function browserIdentities(claim: BrowserClaim): BrowserIdentities {
  const { kind, claims, subject, userIdNamespace, isSubject } = claim;
  const namesPerson =
    claims.userId !== undefined ||
    claims.email !== undefined ||
    claims.phone !== undefined ||
    !DEVICE_ONLY_KINDS.includes(kind);
  if (!namesPerson) return { ok: true };
  if (!subject) {
    return refuse(
      "a browser message that names a person (userId, traits identities, identify, group, alias) needs a valid identity token in context.tessera.identityToken",
    );
  }
  const subjectText = `${subject.namespace}:${subject.value}`;
  if (claims.userId !== undefined && !isSubject(userIdNamespace, claims.userId)) {
    return refuse(
      `the identity token is for ${subjectText}, not ${userIdNamespace}:${claims.userId}`,
    );
  }
  if (
    kind === "alias" &&
    claims.previousId !== undefined &&
    claims.previousId !== claims.anonymousId &&
    !isSubject(userIdNamespace, claims.previousId)
  ) {
    return refuse(
      `from a browser, alias can only join the visitor's device (anonymousId) to the identity token's ${subjectText}`,
    );
  }
  return { ok: true, subject };
}
