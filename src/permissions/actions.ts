/**
 * The action vocabulary of a permission grant.
 *
 * - `read`: the partner may have the service open the envelope for it (`decrypt`, and
 *   `decrypt-verify` for signed envelopes). This is the only action that grants anything.
 * - `write`: accepted because the hosted API's own examples send `["read", "write"]` and a drop-in
 *   stand-in must not refuse them. An envelope is immutable and the service stores none, so there is
 *   nothing to write: `write` is bound into the envelope like any action but grants nothing, and
 *   `["write"]` alone does not let a partner open the envelope.
 *
 * Any other action is a 400.
 */
export const READ = 'read';
export const WRITE = 'write';
export const ACTIONS = [READ, WRITE] as const;
