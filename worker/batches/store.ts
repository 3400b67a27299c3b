/**
 * Stores an uploaded batch file in R2 before the 202 (SPEC: an accepted batch is never
 * lost). A plain body streams straight in; a gzip body is decompressed on the way, so
 * chunks can later be read by byte range, and the 100 MB limit applies to what it
 * decompresses to. R2 needs a known length for a single put, so the decompressed stream
 * goes in as a multipart upload of equal 8 MiB parts.
 */
import { ApiError } from "../lib/errors";

const PART_BYTES = 8 * 1024 * 1024;

export async function storeDecompressed(
  bucket: R2Bucket,
  key: string,
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
  contentType: string,
): Promise<{ size: number }> {
  const upload = await bucket.createMultipartUpload(key, { httpMetadata: { contentType } });
  const parts: R2UploadedPart[] = [];
  let buffer = new Uint8Array(PART_BYTES);
  let filled = 0;
  let size = 0;
  const flush = async () => {
    parts.push(await upload.uploadPart(parts.length + 1, buffer.slice(0, filled)));
    filled = 0;
  };
  try {
    const reader = body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > maxBytes) {
        await reader.cancel();
        throw new ApiError(
          "payload_too_large",
          `batch files are at most ${maxBytes} bytes (decompressed)`,
        );
      }
      let offset = 0;
      while (offset < value.length) {
        const n = Math.min(PART_BYTES - filled, value.length - offset);
        buffer.set(value.subarray(offset, offset + n), filled);
        filled += n;
        offset += n;
        if (filled === PART_BYTES) await flush();
      }
    }
    if (size === 0) throw new ApiError("invalid_request", "the file is empty");
    if (filled > 0) await flush();
    await upload.complete(parts);
    return { size };
  } catch (err) {
    await upload.abort().catch(() => undefined);
    throw err;
  } finally {
    buffer = new Uint8Array(0);
  }
}
