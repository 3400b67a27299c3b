import { once } from "node:events";
import http from "node:http";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";

/**
 * A loopback proxy in front of s3rver (which does not check SigV4 signatures itself). It
 * recomputes every request's signature with AWS's own signer (@smithy/signature-v4, not
 * the aws4fetch code that made it), refuses mismatches with 403 SignatureDoesNotMatch,
 * and forwards good requests. As S3 does, the canonical URI is the path exactly as sent
 * (each segment URI-encoded once by the client: `content=profiles` is `content%3Dprofiles`).
 */
export async function startSigV4Proxy(
  upstream: string,
  credentials: { accessKeyId: string; secretAccessKey: string },
  region = "us-east-1",
) {
  const signer = new SignatureV4({
    credentials,
    region,
    service: "s3",
    sha256: Sha256,
    uriEscapePath: false,
  });
  const verified: string[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const auth = String(req.headers.authorization ?? "");
    const signedHeaders = /SignedHeaders=([^,]+)/.exec(auth)?.[1]?.split(";") ?? [];
    const amzDate = String(req.headers["x-amz-date"] ?? "");
    const url = new URL(req.url ?? "/", "http://placeholder");
    const headers = Object.fromEntries(signedHeaders.map((h) => [h, String(req.headers[h] ?? "")]));
    const date = new Date(
      `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
    );
    let ok = false;
    try {
      const expected = await signer.sign(
        {
          method: req.method!,
          protocol: "http:",
          hostname: String(req.headers.host).split(":")[0]!,
          port: Number(String(req.headers.host).split(":")[1]),
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          headers,
          body,
        },
        { signingDate: date },
      );
      ok = expected.headers.authorization === auth;
    } catch {
      ok = false;
    }
    if (!ok) {
      res
        .writeHead(403, { "content-type": "application/xml" })
        .end("<Error><Code>SignatureDoesNotMatch</Code></Error>");
      return;
    }
    verified.push(`${req.method} ${url.pathname}`);
    const forwarded = await fetch(`${upstream}${req.url}`, {
      method: req.method,
      headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
      body: body.length ? body : undefined,
    });
    res
      .writeHead(forwarded.status, Object.fromEntries(forwarded.headers))
      .end(Buffer.from(await forwarded.arrayBuffer()));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    verified,
    close: () => new Promise((r) => server.close(r)),
  };
}
