/** The `siphash` package (SipHash-2-4, pure JavaScript): the part Tessera uses. */
declare module "siphash" {
  const SipHash: {
    /** The 64-bit hash's low 53 bits, as a safe integer. */
    hash_uint(key: Uint32Array, message: string | Uint8Array): number;
    hash_hex(key: Uint32Array, message: string | Uint8Array): string;
    string16_to_key(key: string): Uint32Array;
  };
  export default SipHash;
}
