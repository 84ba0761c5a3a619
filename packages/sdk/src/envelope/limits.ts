/** Library-level size limits (docs/envelope.md §Limits). */
export const MAX_PLAINTEXT_BYTES = 16 * 1024 * 1024;
export const MAX_PERMISSION_BYTES = 64 * 1024;
/** Fixed cost of the format around the payload, bounded generously; see the measured overhead in docs. */
const MAX_FRAMING_BYTES = 8 * 1024;
export const MAX_ENVELOPE_BYTES = MAX_PLAINTEXT_BYTES + MAX_PERMISSION_BYTES + MAX_FRAMING_BYTES;
export const MAX_ENVELOPE_CHARS = Math.ceil((MAX_ENVELOPE_BYTES * 4) / 3);
