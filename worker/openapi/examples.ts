/**
 * Example requests and responses for the OpenAPI document, one per operation, keyed by
 * operationId. They are recorded from the real API by scripts/openapi-examples.mjs (so
 * they are what Tessera answers, not what someone remembered) and merged into the
 * document here, which keeps route files about behaviour.
 */
import recorded from "./examples.json";

interface Recorded {
  /** The success status the call answered with. */
  status: number;
  /** Example request bodies by media type. */
  requests?: Record<string, unknown>;
  /** Example response bodies by media type. */
  responses?: Record<string, unknown>;
}
type Operation = {
  operationId?: string;
  requestBody?: { content?: Record<string, { example?: unknown; schema?: { type?: string } }> };
  responses?: Record<string, { content?: Record<string, { example?: unknown }> }>;
};

const EXAMPLES: Readonly<Record<string, Recorded>> = recorded;

/** The document with each operation's recorded example on its request body and its success response. */
export function withExamples<D extends { paths?: unknown }>(document: D): D {
  const doc = structuredClone(document);
  for (const item of Object.values(
    (doc.paths ?? {}) as Record<string, Record<string, Operation>>,
  )) {
    for (const op of Object.values(item)) {
      const example = op.operationId ? EXAMPLES[op.operationId] : undefined;
      if (!example) continue;
      for (const [mediaType, media] of Object.entries(op.requestBody?.content ?? {})) {
        // Tracking calls document the same JSON under text/plain (SDKs send both).
        const value =
          example.requests?.[mediaType] ??
          (mediaType === "text/plain" ? example.requests?.["application/json"] : undefined);
        // A text/plain body documented as a string (browser beacons) shows the JSON as text.
        const asText =
          mediaType === "text/plain" &&
          media.schema?.type === "string" &&
          typeof value !== "string";
        if (value !== undefined) media.example = asText ? JSON.stringify(value) : value;
      }
      for (const [mediaType, media] of Object.entries(
        op.responses?.[String(example.status)]?.content ?? {},
      )) {
        const value = example.responses?.[mediaType];
        if (value !== undefined) media.example = value;
      }
    }
  }
  return doc;
}
