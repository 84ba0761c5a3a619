import { decodeBase64Url } from './base64url.js';
import { EnvelopeError, malformed } from './errors.js';
import { parseEnvelopeBytes, parseEnvelopeHeader, type EnvelopeHeader, type ParsedEnvelope } from './format.js';
import { MAX_ENVELOPE_CHARS, MAX_PERMISSION_BYTES } from './limits.js';

/** Decodes and parses without decrypting; the header is NOT authenticated until the envelope is opened. */
export function inspectEnvelope(envelope: string): ParsedEnvelope {
  if (typeof envelope !== 'string') throw malformed('not a string');
  if (envelope.length > MAX_ENVELOPE_CHARS) throw new EnvelopeError('ENVELOPE_TOO_LARGE', 'envelope exceeds the size limit');
  return parseEnvelopeBytes(decodeBase64Url(envelope), MAX_PERMISSION_BYTES);
}

/** Characters of envelope text decoded to read a header: 3 KiB of bytes, room for long permission lists. */
const HEADER_PROBE_CHARS = 4096;

/**
 * The header alone (NOT authenticated), decoding no more of the text than it needs: the service
 * decides access on it before handing the envelope to a worker, which decodes and checks all of it.
 * At 1 MiB that spares the event loop a 1.4 MB base64 decode. A header longer than the probe, or a
 * probe that does not parse, is decided on the whole text, so errors are the same as `inspectEnvelope`'s.
 */
export function inspectEnvelopeHeader(envelope: string): EnvelopeHeader {
  if (typeof envelope === 'string' && envelope.length > HEADER_PROBE_CHARS && envelope.length <= MAX_ENVELOPE_CHARS) {
    try {
      return parseEnvelopeHeader(decodeBase64Url(envelope.slice(0, HEADER_PROBE_CHARS)), MAX_PERMISSION_BYTES);
    } catch (e) {
      if (!(e instanceof EnvelopeError)) throw e;
    }
  }
  return inspectEnvelope(envelope).header;
}
