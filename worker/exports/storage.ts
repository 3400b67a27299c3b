/**
 * Where export files go: the bound R2 bucket, any S3-compatible store (AWS S3, Google
 * Cloud Storage interoperability, MinIO, R2 over S3; SigV4 via aws4fetch), or Azure Blob
 * Storage through a container SAS URL. Credentials come from Worker secrets by name.
 */
import { AwsClient } from "aws4fetch";
import type { DestinationConfig } from "../../shared/schemas/destinations";
import {
  outboundFetch,
  outboundPolicy,
  RedirectRefused,
  resolvedUrlProblem,
} from "../lib/outbound";
import type { Bindings } from "../model/bindings";

/** A store's refusal that retrying cannot fix (4xx other than 408/429): the run fails at once. */
export class PermanentStoreError extends Error {}

async function check(res: Response, what: string): Promise<void> {
  if (res.ok) return;
  const message = `${what}: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`;
  if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429)
    throw new PermanentStoreError(message);
  throw new Error(message);
}

interface ObjectStore {
  put(key: string, body: Uint8Array<ArrayBuffer>, contentType: string): Promise<void>;
}

function secret(env: Bindings, name: string | undefined): string {
  const value = name ? (env as unknown as Record<string, unknown>)[name] : undefined;
  if (typeof value !== "string" || !value)
    throw new Error(`the Worker secret ${name ?? "(unnamed)"} is not set`);
  return value;
}

const encodeKey = (key: string) => key.split("/").map(encodeURIComponent).join("/");

/**
 * Every export endpoint passes the same guard as webhooks, once per store — that is, per
 * export page, so a re-pointed name is caught at the next page, not once per part written.
 */
function guardOnce(env: Bindings, url: string, what: string): () => Promise<void> {
  let checked: Promise<void> | undefined;
  return () =>
    (checked ??= resolvedUrlProblem(url, outboundPolicy(env)).then((problem) => {
      if (problem) throw new PermanentStoreError(`${what} ${problem}`);
    }));
}

/** A redirect is a refusal that retrying cannot fix. */
async function send(doFetch: () => Promise<Response>): Promise<Response> {
  try {
    return await doFetch();
  } catch (err) {
    if (err instanceof RedirectRefused) throw new PermanentStoreError(err.message);
    throw err;
  }
}

export function storeFor(env: Bindings, config: DestinationConfig): ObjectStore {
  if (config.type === "r2") {
    return {
      async put(key, body, contentType) {
        await env.FILES.put(key, body, { httpMetadata: { contentType } });
      },
    };
  }
  if (config.type === "s3") {
    const client = new AwsClient({
      accessKeyId: secret(env, config.credentials?.accessKeyId),
      secretAccessKey: secret(env, config.credentials?.secretAccessKey),
      service: "s3",
      region: config.region === "auto" ? "us-east-1" : config.region,
    });
    const base = config.endpoint!.replace(/\/+$/, "");
    const guard = guardOnce(env, base, "s3 endpoint");
    return {
      async put(key, body, contentType) {
        // Path-style addressing works with every S3-compatible endpoint.
        await guard();
        const url = `${base}/${encodeURIComponent(config.bucket!)}/${encodeKey(key)}`;
        const res = await send(() =>
          outboundFetch(
            url,
            { method: "PUT", body, headers: { "content-type": contentType } },
            (input, init) => client.fetch(input, init),
          ),
        );
        await check(res, `s3 PUT ${key}`);
      },
    };
  }
  const sas = new URL(secret(env, config.credentials?.sasUrl));
  const guard = guardOnce(env, sas.origin, "azure SAS URL");
  return {
    async put(key, body, contentType) {
      const url = new URL(sas);
      url.pathname = `${sas.pathname.replace(/\/+$/, "")}/${encodeKey(key)}`;
      await guard();
      const res = await send(() =>
        outboundFetch(url, {
          method: "PUT",
          body,
          headers: { "x-ms-blob-type": "BlockBlob", "content-type": contentType },
        }),
      );
      await check(res, `azure PUT ${key}`);
    },
  };
}
